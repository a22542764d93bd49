"""IAM principals read from hand-written Terraform JSON: references resolved, counts exact."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_laravel.analysis import iam

ESCALATION = ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]


def _meta(path: str) -> dict[str, Any]:
    return {"//": {"metadata": {"path": f"fixture/{path}"}}}


STACK: dict[str, Any] = {
    "data": {"aws_iam_policy_document": {
        "app_assume": {**_meta("app/role/assume"), "statement": [{
            "actions": ["sts:AssumeRole"], "effect": "Allow",
            "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]}]},
        "base": {**_meta("app/role/base"), "statement": [{
            "sid": "Logs", "actions": ["logs:PutLogEvents"],
            "resources": ["${aws_cloudwatch_log_group.logs.arn}:*"]}]},
        "app_policy": {
            **_meta("app/role/policy"),
            "source_policy_documents": ["${data.aws_iam_policy_document.base.json}"],
            "statement": [
                {"sid": "Storage", "actions": ["s3:GetObject", "s3:PutObject"],
                 "resources": ["${aws_s3_bucket.storage.arn}/*"]},
                {"sid": "Escalate", "actions": ESCALATION, "resources": ["*"]},
                {"sid": "Secrets", "actions": ["secretsmanager:GetSecretValue"],
                 "resources": ["*"]},
                {"sid": "NoWrites", "effect": "Deny", "actions": ["s3:PutObject"],
                 "resources": ["*"]},
            ]},
    }},
    "resource": {
        "aws_iam_role": {
            "app_role": {**_meta("app/role/role"),
                         "assume_role_policy": "${data.aws_iam_policy_document.app_assume.json}"},
            "worker_role": {**_meta("worker/role"), "name": "worker", "assume_role_policy":
                            json.dumps({"Statement": [{
                                "Effect": "Allow", "Action": "sts:AssumeRole",
                                "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]})},
        },
        "aws_iam_role_policy": {"app_inline": {
            **_meta("app/role/inline"), "role": "${aws_iam_role.app_role.id}",
            "policy": "${data.aws_iam_policy_document.app_policy.json}"}},
        "aws_iam_policy": {"reads": {**_meta("worker/reads"), "policy": json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
                {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
            ]})}},
        "aws_iam_role_policy_attachment": {
            "reads": {"role": "worker", "policy_arn": "${aws_iam_policy.reads.arn}"},
            "managed": {"role": "${aws_iam_role.worker_role.name}",
                        "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        },
    },
}


@pytest.fixture(scope="module")
def analysed() -> dict[str, iam.PrincipalAnalysis]:
    return {a.path: a for a in iam.analyse_stack(STACK)}


def test_every_role_is_found_with_who_may_assume_it(
    analysed: dict[str, iam.PrincipalAnalysis],
) -> None:
    assert {path: a.trusted_by for path, a in analysed.items()} == {
        "app/role/role": ["Service:lambda.amazonaws.com"],
        "worker/role": ["Service:ecs-tasks.amazonaws.com"],
    }


def test_statements_merge_source_documents_and_deny_removes_actions(
    analysed: dict[str, iam.PrincipalAnalysis],
) -> None:
    app = analysed["app/role/role"]
    assert app.actions == {
        "Permissions management": ["iam:PassRole"],
        "Read": ["s3:GetObject", "secretsmanager:GetSecretValue"],
        "Write": ["lambda:CreateFunction", "lambda:InvokeFunction", "logs:PutLogEvents"],
    }
    assert app.counts() == {"List": 0, "Read": 2, "Write": 3, "Permissions management": 1,
                            "Tagging": 0, "Unknown": 0}


def test_wildcards_resource_star_and_cloudsplaining_findings(
    analysed: dict[str, iam.PrincipalAnalysis],
) -> None:
    app = analysed["app/role/role"]
    assert app.wildcard_actions == []
    assert app.resource_star_actions == sorted([*ESCALATION, "secretsmanager:GetSecretValue"])
    assert app.privilege_escalation == ["PassExistingRoleToNewLambdaThenInvoke"]
    assert app.data_exfiltration == ["secretsmanager:GetSecretValue"]
    assert app.credentials_exposure == []
    assert app.scoped_data_exfiltration == ["s3:GetObject", "secretsmanager:GetSecretValue"]


def test_attached_json_policies_resolve_and_managed_arns_are_reported(
    analysed: dict[str, iam.PrincipalAnalysis],
) -> None:
    from policy_sentry.analysis.expand import expand

    worker = analysed["worker/role"]
    assert worker.wildcard_actions == ["s3:Get*"]
    assert worker.resource_star_actions == ["ecr:GetAuthorizationToken"]
    assert worker.credentials_exposure == ["ecr:GetAuthorizationToken"]
    assert worker.privilege_escalation == worker.data_exfiltration == []
    assert sum(worker.counts().values()) == len(expand("s3:Get*")) + 1
    assert worker.unresolved == ["managed policy arn:aws:iam::aws:policy/ReadOnlyAccess"]


def test_access_levels_come_from_policy_sentry() -> None:
    assert iam.access_level("sqs:ReceiveMessage") == "Read"
    assert iam.access_level("iam:PutRolePolicy") == "Permissions management"
    assert iam.access_level("nosuchservice:Thing") == iam.UNKNOWN_LEVEL

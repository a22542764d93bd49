"""examples/sam/template.yaml: transformed by aws-sam-translator and linted by cfn-lint, offline.

The template is the same app as the serverless_laravel example; these tests hold it to that:
the Bref layer, runtime and handlers the library resolves, the queue and its dead letters, log
retention and reserved concurrency.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from serverless_laravel.build.bref import resolve_bref_runtime
from tests.helpers import LARAVEL_APP, QUEUE_HANDLER, ROOT

TEMPLATE = ROOT / "examples" / "sam" / "template.yaml"
REGION = "us-east-1"
# What `sam package` does to CodeUri: the local folder becomes an uploaded zip.
PACKAGED = "s3://example-artifacts/laravel-app.zip"
FUNCTIONS = {"Web": ("fpm", 100), "Console": ("console", 5), "Worker": ("function", 20)}
MANAGED_BY_SAM = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
}


class OfflinePolicies:
    """The managed-policy loader samtranslator asks for names used in ``Policies`` (none here),
    answered without calling IAM."""

    def load(self) -> dict[str, str]:
        return {}


def sam_text() -> str:
    return TEMPLATE.read_text()


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(sam_text())
    template["Globals"]["Function"]["CodeUri"] = PACKAGED
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)  # the translator's pseudo parameters
        return transform(copy.deepcopy(template), {}, OfflinePolicies())


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == type_}


def lint(text: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    return [str(match) for match in lint(text, config=ManualArgs(regions=[REGION]))]


def test_cfn_lint_passes_the_sam_template() -> None:
    assert lint(sam_text()) == []


def test_cfn_lint_passes_the_transformed_template(transformed: dict[str, Any]) -> None:
    assert lint(json.dumps(transformed)) == []


def test_the_transform_gives_the_app_shape(transformed: dict[str, Any]) -> None:
    counts: dict[str, int] = {}
    for resource in transformed["Resources"].values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    assert counts == {
        "AWS::Lambda::Function": 3, "AWS::Lambda::Version": 3, "AWS::Lambda::Alias": 3,
        "AWS::IAM::Role": 3, "AWS::Logs::LogGroup": 4, "AWS::SQS::Queue": 2,
        "AWS::Lambda::EventSourceMapping": 1, "AWS::Lambda::Permission": 1,
        "AWS::ApiGatewayV2::Api": 1, "AWS::ApiGatewayV2::Stage": 1,
    }


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_run_on_the_library_bref_layer(name: str,
                                                 transformed: dict[str, Any]) -> None:
    runtime, concurrency = FUNCTIONS[name]
    expected = resolve_bref_runtime(
        app=LARAVEL_APP, region=REGION, php_version="8.4", runtime=runtime,
        architecture="x86_64", handler=QUEUE_HANDLER if runtime == "function" else None)
    function = resources(transformed, "AWS::Lambda::Function")[name]
    assert function["Layers"] == list(expected.layer_arns)
    assert function["Runtime"] == expected.lambda_runtime == "provided.al2023"
    assert function["Handler"] == expected.handler
    assert function["Environment"]["Variables"]["BREF_RUNTIME"] == runtime
    assert function["ReservedConcurrentExecutions"] == concurrency
    assert function["Code"] == {"S3Bucket": "example-artifacts", "S3Key": "laravel-app.zip"}
    assert function["VpcConfig"]["SubnetIds"] == {"Ref": "PrivateSubnetIds"}
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": f"{name}Logs"}


def test_the_worker_reads_the_queue_with_partial_failures(transformed: dict[str, Any]) -> None:
    worker = resources(transformed, "AWS::Lambda::Function")["Worker"]
    assert worker["Handler"] == QUEUE_HANDLER
    [mapping] = resources(transformed, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["FunctionName"] == {"Ref": "WorkerAliaslive"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["Jobs", "Arn"]}
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 20}
    queues = resources(transformed, "AWS::SQS::Queue")
    jobs, dead = queues["Jobs"], queues["DeadLetters"]
    assert jobs["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert jobs["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetters", "Arn"]},
                                     "maxReceiveCount": 3}
    assert jobs["SqsManagedSseEnabled"] is dead["SqsManagedSseEnabled"] is True
    assert dead["RedriveAllowPolicy"]["redrivePermission"] == "byQueue"
    assert dead["MessageRetentionPeriod"] == 14 * 86400


def test_logs_are_kept_for_a_bounded_time(transformed: dict[str, Any]) -> None:
    groups = resources(transformed, "AWS::Logs::LogGroup")
    assert set(groups) == {"WebLogs", "ConsoleLogs", "WorkerLogs", "ApiLogs"}
    assert {json.dumps(g["RetentionInDays"]) for g in groups.values()} == {
        json.dumps({"Ref": "LogRetentionDays"})}
    stage = next(iter(resources(transformed, "AWS::ApiGatewayV2::Stage").values()))
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["ApiLogs", "Arn"]}
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 100


def test_the_roles_grant_exact_actions_plus_what_sam_attaches(
        transformed: dict[str, Any]) -> None:
    """Inline statements name exact actions and resources; SAM adds AWS managed policies
    (logs and ENIs on every resource; SQS polling for the worker): docs/sam-comparison.md."""
    roles = resources(transformed, "AWS::IAM::Role")
    for name, role in roles.items():
        statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
        assert all("*" not in json.dumps(s["Action"]) for s in statements), name
        assert all(s["Resource"] != "*" for s in statements), name
        extra = {"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"} \
            if name == "WorkerRole" else set()
        assert set(role["ManagedPolicyArns"]) == MANAGED_BY_SAM | extra
    actions = {name: sorted(s["Action"] if isinstance(s["Action"], str) else "+".join(s["Action"])
                            for p in role["Policies"] for s in p["PolicyDocument"]["Statement"])
               for name, role in roles.items()}
    assert actions == {"WebRole": ["sqs:SendMessage", "ssm:GetParameters"],
                       "ConsoleRole": ["sqs:SendMessage", "ssm:GetParameters"],
                       "WorkerRole": ["sqs:SendMessage", "ssm:GetParameters"]}


def test_the_template_refuses_another_region() -> None:
    """The layer version is per region: a rule stops a deploy elsewhere (cfn-lint reads it)."""
    text = sam_text()
    assert "Assert: !Equals [!Ref \"AWS::Region\", us-east-1]" in text
    assert Path(LARAVEL_APP / "vendor" / "bref" / "bref" / "layers.json").is_file()

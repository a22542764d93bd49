"""ConsoleAudit: every console invocation recorded, unexpected callers alerted."""

from __future__ import annotations

from pathlib import Path

import pytest

from serverless_laravel import LaravelApp, LaravelStack, Scheduler, SecretRef
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError
from tests.helpers import LARAVEL_APP, ref
from tests.synth import Stack, synthesize

APP_KEY = SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/app/key")
DEPLOY = "arn:aws:iam::111122223333:role/github-deploy"


def build(app: App) -> None:
    audited = LaravelStack(app, "audited", region="eu-west-1")
    laravel = LaravelApp(audited, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY},
                         console_callers=[DEPLOY], alert_emails=["ops@example.com"])
    Scheduler(audited, "scheduler", console=laravel.console)
    org = LaravelStack(app, "org-trail", region="eu-west-1")
    LaravelApp(org, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY}, console_trail=False)
    off = LaravelStack(app, "off", region="eu-west-1")
    LaravelApp(off, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY}, console_audit=False)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "console-audit", build)


def test_the_trail_records_only_console_invocations(stacks: dict[str, Stack]) -> None:
    stack = stacks["audited"]
    trail = stack.by_path("aws_cloudtrail", "app/console-audit/trail")
    assert trail["enable_log_file_validation"] is True
    assert trail["s3_bucket_name"] == ref(stack, "aws_s3_bucket",
                                          "app/console-audit/bucket/bucket", "bucket")
    [selector] = trail["advanced_event_selector"]
    fields = {f["field"]: f for f in selector["field_selector"]}
    assert fields["eventCategory"]["equals"] == ["Data"]
    assert fields["resources.type"]["equals"] == ["AWS::Lambda::Function"]
    assert fields["resources.ARN"]["starts_with"] == [
        ref(stack, "aws_lambda_function", "app/console/function", "arn")]


def test_only_this_trail_may_write_to_its_bucket(stacks: dict[str, Stack]) -> None:
    stack = stacks["audited"]
    policy = stack.by_path("aws_s3_bucket_policy", "app/console-audit/bucket/policy")
    statements = {s["sid"]: s for s in stack.deref(policy["policy"])["statement"]}
    write = statements["CloudTrailWrites"]
    assert write["principals"] == [{"type": "Service",
                                    "identifiers": ["cloudtrail.amazonaws.com"]}]
    assert write["actions"] == ["s3:PutObject"]
    conditions = {c["variable"]: c["values"] for c in write["condition"]}
    assert conditions["s3:x-amz-acl"] == ["bucket-owner-full-control"]
    assert conditions["aws:SourceArn"][0].startswith("arn:aws:cloudtrail:eu-west-1:")
    assert "DenyInsecureTransport" in statements


def test_unexpected_callers_raise_an_alert(stacks: dict[str, Stack]) -> None:
    stack = stacks["audited"]
    rule = stack.by_path("aws_cloudwatch_event_rule", "app/console-audit/unexpected-invocation")
    pattern = rule["event_pattern"]
    assert pattern.startswith("${jsonencode(")
    assert '"aws.lambda"' in pattern and '"AWS API Call via CloudTrail"' in pattern
    scheduler_role = ref(stack, "aws_iam_role", "scheduler/role/role", "arn")[2:-1]
    assert f'"anything-but" = ["{DEPLOY}", {scheduler_role}]' in pattern
    target = stack.by_path("aws_cloudwatch_event_target", "app/console-audit/notify")
    assert target["arn"] == ref(stack, "aws_sns_topic", "app/console-audit/alerts", "arn")
    topic = stack.by_path("aws_sns_topic", "app/console-audit/alerts")
    assert "kms_master_key_id" not in topic  # EventBridge cannot use the aws/sns key
    assert '"$or"' in pattern and '"AssumedRole"' in pattern
    subscription = stack.by_path("aws_sns_topic_subscription", "app/console-audit/email-0")
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "ops@example.com")
    policy = stack.by_path("aws_sns_topic_policy", "app/console-audit/alerts-policy")
    [publish] = stack.deref(policy["policy"])["statement"]
    assert publish["principals"] == [{"type": "Service",
                                      "identifiers": ["events.amazonaws.com"]}]
    assert publish["condition"][0]["values"] == [
        ref(stack, "aws_cloudwatch_event_rule", "app/console-audit/unexpected-invocation",
            "arn")]


def test_an_organization_trail_keeps_only_the_alert(stacks: dict[str, Stack]) -> None:
    stack = stacks["org-trail"]
    assert not stack.resources("aws_cloudtrail")
    assert stack.resources("aws_cloudwatch_event_rule")


def test_the_audit_can_be_turned_off(stacks: dict[str, Stack]) -> None:
    stack = stacks["off"]
    assert not stack.resources("aws_cloudtrail")
    assert not stack.resources("aws_cloudwatch_event_rule")


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"console_callers": "arn:aws:iam::111122223333:role/x"},
         "console_audit.expected_callers.type"),
        ({"console_callers": ["github-deploy"]}, "console_audit.expected_callers.shape"),
        ({"alert_emails": ["not-an-address"]}, "console_audit.alert_emails.shape"),
        ({"console_audit": "yes"}, "laravel_app.console_audit.type"),
        ({"console_trail": 1}, "console_audit.trail.type"),
    ],
)
def test_bad_audit_props_leave_nothing(props: dict, code: str, tmp_path: Path) -> None:
    stack = LaravelStack(App(outdir=str(tmp_path)), "bad", region="eu-west-1")
    with pytest.raises(ConfigurationError) as error:
        LaravelApp(stack, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY}, **props)
    assert error.value.code == code
    assert [c.node.id for c in stack.node.children] == ["aws"]

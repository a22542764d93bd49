"""Deploy ``web_function`` on the emulator: one web PhpFunction on Bref's layer."""

from __future__ import annotations

import json

from serverless_laravel.build.packaging import package_app
from tests.deploy.lifecycle import (
    Deployed,
    deployed_fixture,
    destroy_leaves_nothing,
    marks,
    second_plan_proposes_only_listed_quirks,
)
from tests.helpers import LARAVEL_APP

pytestmark = marks()
deployed = deployed_fixture("web_function")
FUNCTION = "web-function-web"


def test_function_runs_php_on_brefs_layer(deployed: Deployed) -> None:
    config = deployed.client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    assert (config["Runtime"], config["Handler"]) == ("provided.al2023", "public/index.php")
    assert [layer["Arn"] for layer in config["Layers"]] == [
        "arn:aws:lambda:eu-west-1:873528684822:layer:php-84:21"]
    assert config["Environment"]["Variables"] == {
        "APP_ENV": "production", "LOG_CHANNEL": "stderr", "BREF_RUNTIME": "fpm",
        "BREF_PING_DISABLE": "1"}
    assert (config["MemorySize"], config["Timeout"]) == (1024, 28)
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["CodeSha256"] == package_app(LARAVEL_APP).source_code_hash


def test_live_alias_points_at_a_published_version(deployed: Deployed) -> None:
    alias = deployed.client("lambda").get_alias(FunctionName=FUNCTION, Name="live")
    assert alias["FunctionVersion"] not in ("$LATEST", "")


def test_log_group_keeps_30_days(deployed: Deployed) -> None:
    groups = deployed.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{FUNCTION}")["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups] == [
        (f"/aws/lambda/{FUNCTION}", 30)]


def test_role_may_write_its_own_logs_and_traces_only(deployed: Deployed) -> None:
    iam = deployed.emulator.client("iam", "us-east-1")
    role = deployed.client("lambda").get_function(
        FunctionName=FUNCTION)["Configuration"]["Role"].rsplit("/", 1)[-1]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    statements = {s["Sid"]: s for s in (json.loads(document) if isinstance(document, str)
                                        else document)["Statement"]}
    assert set(statements) == {"WriteOwnLogs", "WriteTraces"}
    assert statements["WriteOwnLogs"]["Resource"].endswith(f":log-group:/aws/lambda/{FUNCTION}:*")


def test_outputs_name_the_function(deployed: Deployed) -> None:
    assert deployed.outputs()["function_name"] == FUNCTION


test_second_plan_proposes_only_listed_quirks = second_plan_proposes_only_listed_quirks
test_destroy_leaves_nothing = destroy_leaves_nothing

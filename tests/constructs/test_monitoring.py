"""Monitoring (alarms, encrypted topic, dashboard), provisioned concurrency and Octane, on
LaravelApp and standalone; synthesized once for the module."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from serverless_laravel import (
    AlarmThresholds,
    DatabaseProxy,
    FunctionOptions,
    LaravelApp,
    LaravelStack,
    Monitoring,
    PhpFunction,
    QueueWorker,
    SecretRef,
    VpcConfig,
)
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError
from tests.helpers import GROUPS, LARAVEL_APP, OCTANE_HANDLER, SUBNETS, VPC_ID, env, image_uri, ref
from tests.synth import Stack, synthesize
from tests.terraform import init, offline, unavailable_reason, validate

APP_KEY = SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/app/key")
APP_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-app-DeF456"
IMAGE = image_uri("eu-west-1")
PREFIX = "watched-app-monitoring"


def octane_app(root: Path) -> Path:
    """The fixture app with laravel/octane installed (what `composer require` would record)."""
    app = root / "octane-app"
    shutil.copytree(LARAVEL_APP, app)
    installed = app / "vendor" / "composer" / "installed.json"
    data = json.loads(installed.read_text())
    data["packages"].append({"name": "laravel/octane", "version": "2.6.0"})
    installed.write_text(json.dumps(data))
    return app


def build(app: App, octane: Path) -> None:
    watched = LaravelStack(app, "watched", region="eu-west-1")
    vpc = VpcConfig(SUBNETS, GROUPS)
    laravel = LaravelApp(
        watched, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY}, vpc=vpc,
        web=FunctionOptions(reserved_concurrency=50, provisioned_concurrency=5),
        console=FunctionOptions(reserved_concurrency=5),
        alert_emails=["ops@example.com"],
        alarm_thresholds=AlarmThresholds(errors=3, api_latency_ms=2000, period_seconds=60),
    )
    jobs = QueueWorker(watched, "jobs", app=LARAVEL_APP, vpc=vpc, maximum_concurrency=20,
                       producers=[laravel.web])
    laravel.add_function(jobs.function)
    proxy = DatabaseProxy(
        watched, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, engine="postgres",
        db_instance_identifier="legacy", app_secret_arn=APP_SECRET,
        database_security_group_id="sg-0aaaaaaaaaaaaaaaa", database_name="shop",
        max_connections=200, max_connections_percent=50,
    )
    for function in laravel.functions:
        proxy.connect(function)
    assert laravel.monitoring is not None
    laravel.monitoring.watch_queue(jobs)
    laravel.monitoring.watch_queue(jobs)
    laravel.monitoring.watch_proxy(proxy)

    off = LaravelStack(app, "off", region="eu-west-1")
    LaravelApp(off, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY}, monitoring=False)

    fast = LaravelStack(app, "octane", region="eu-west-1")
    LaravelApp(fast, "app", app=octane, secrets={"APP_KEY": APP_KEY}, octane=True,
               octane_loop_max=500, console_audit=False, monitoring=False)

    alone = LaravelStack(app, "alone", region="eu-west-1")
    fn = PhpFunction(alone, "fn", image_uri=IMAGE, runtime="console")
    Monitoring(alone, "watch", functions=[fn])


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    octane = octane_app(tmp_path_factory.mktemp("octane"))
    return synthesize(tmp_path_factory, "monitoring", lambda app: build(app, octane))


def alarm(stack: Stack, id: str) -> dict:
    return stack.by_path("aws_cloudwatch_metric_alarm", f"app/monitoring/{id}")


def alarms(stack: Stack) -> dict[str, dict]:
    return {a["alarm_name"]: a for a in stack.resources("aws_cloudwatch_metric_alarm").values()}


def test_every_alarm_notifies_the_topic_on_alarm_and_recovery(stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    topic = ref(stack, "aws_sns_topic", "app/monitoring/topic", "arn")
    found = alarms(stack)
    assert len(found) == 18
    for name, block in found.items():
        assert name.startswith(f"{PREFIX}-")
        assert block["alarm_actions"] == [topic] and block["ok_actions"] == [topic]
        assert block["treat_missing_data"] == "notBreaching"


def test_function_alarms(stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    errors = alarm(stack, "app-web-errors")
    assert (errors["namespace"], errors["metric_name"], errors["statistic"]) == \
        ("AWS/Lambda", "Errors", "Sum")
    assert errors["dimensions"] == {"FunctionName": "watched-app-web"}
    assert errors["threshold"] == 3 and errors["period"] == 60
    assert errors["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    assert alarm(stack, "app-web-throttles")["metric_name"] == "Throttles"
    duration = alarm(stack, "app-web-duration")
    assert duration["extended_statistic"] == "p99" and "statistic" not in duration
    assert duration["threshold"] == 28_000 * 80 // 100
    assert alarm(stack, "app-console-duration")["threshold"] == 120_000 * 80 // 100
    concurrency = alarm(stack, "app-web-concurrency")
    assert (concurrency["metric_name"], concurrency["statistic"]) == \
        ("ConcurrentExecutions", "Maximum")
    assert concurrency["threshold"] == 40
    assert alarm(stack, "app-console-concurrency")["threshold"] == 4


def test_a_function_added_to_the_app_is_watched_with_its_queue_cap(
        stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    worker = alarm(stack, "jobs-worker-concurrency")
    assert worker["dimensions"] == {"FunctionName": "watched-jobs-worker"}
    assert worker["threshold"] == 16
    assert alarm(stack, "jobs-worker-duration")["threshold"] == 48_000


def test_provisioned_concurrency_on_the_live_alias_and_its_spillover_alarm(
        stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    config = stack.by_path("aws_lambda_provisioned_concurrency_config",
                           "app/web/provisioned")
    assert config["provisioned_concurrent_executions"] == 5
    assert config["qualifier"] == ref(stack, "aws_lambda_alias", "app/web/live", "name")
    assert config["function_name"] == ref(stack, "aws_lambda_function", "app/web/function",
                                          "function_name")
    assert len(stack.resources("aws_lambda_provisioned_concurrency_config")) == 1
    spill = alarm(stack, "app-web-spillover")
    assert spill["metric_name"] == "ProvisionedConcurrencySpilloverInvocations"
    assert spill["dimensions"] == {"FunctionName": "watched-app-web",
                                   "Resource": "watched-app-web:live"}


def test_api_alarms_use_http_api_metrics_by_api_and_stage(stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    dims = {"ApiId": ref(stack, "aws_apigatewayv2_api", "app/api/api", "id"),
            "Stage": "$default"}
    rate = alarm(stack, "app-api-5xx-rate")
    assert rate["threshold"] == 5 and "metric_name" not in rate
    queries = {q["id"]: q for q in rate["metric_query"]}
    assert queries["errors"]["metric"]["metric_name"] == "5xx"
    assert queries["requests"]["metric"]["metric_name"] == "Count"
    for key in ("errors", "requests"):
        metric = queries[key]["metric"]
        assert (metric["namespace"], metric["stat"], metric["dimensions"]) == \
            ("AWS/ApiGateway", "Sum", dims)
        assert queries[key]["return_data"] is False
    assert queries["rate"]["expression"] == "IF(requests > 0, 100 * errors / requests, 0)"
    assert queries["rate"]["return_data"] is True
    latency = alarm(stack, "app-api-latency")
    assert (latency["metric_name"], latency["extended_statistic"], latency["threshold"]) == \
        ("Latency", "p99", 2000)
    assert latency["dimensions"] == dims


def test_queue_alarms_watch_the_dlq_and_the_oldest_job_once(stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    dead = alarm(stack, "jobs-dead-letters")
    assert (dead["namespace"], dead["metric_name"]) == \
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert dead["dimensions"] == {"QueueName": "watched-jobs-dlq"}
    assert (dead["comparison_operator"], dead["threshold"]) == ("GreaterThanThreshold", 0)
    oldest = alarm(stack, "jobs-oldest-job")
    assert oldest["metric_name"] == "ApproximateAgeOfOldestMessage"
    assert oldest["dimensions"] == {"QueueName": "watched-jobs"}
    assert oldest["threshold"] == 900


def test_proxy_alarm_compares_client_connections_with_the_budget(
        stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    proxy = alarm(stack, "proxy-client-connections")
    assert (proxy["namespace"], proxy["metric_name"], proxy["statistic"]) == \
        ("AWS/RDS", "ClientConnections", "Maximum")
    assert proxy["dimensions"] == {"ProxyName": ref(stack, "aws_db_proxy", "proxy/proxy",
                                                    "name")}
    assert proxy["threshold"] == 200 * 50 // 100 * 80 // 100


def test_topic_is_encrypted_with_a_rotated_key_only_these_alarms_use(
        stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    topic = stack.by_path("aws_sns_topic", "app/monitoring/topic")
    assert topic["kms_master_key_id"] == ref(stack, "aws_kms_key", "app/monitoring/key", "arn")
    key = stack.by_path("aws_kms_key", "app/monitoring/key")
    assert key["enable_key_rotation"] is True
    statements = {s["sid"]: s for s in stack.deref(key["policy"])["statement"]}
    assert set(statements) == {"AccountAdministersKey", "AccountPublishesThroughSns",
                               "AlarmsPublish"}
    for statement in statements.values():
        assert all("*" not in a for a in statement["actions"])
        assert statement["resources"][0].startswith("arn:aws:kms:eu-west-1:")
    admin = statements["AccountAdministersKey"]
    assert "kms:Decrypt" not in admin["actions"] and "kms:PutKeyPolicy" in admin["actions"]
    publish = statements["AlarmsPublish"]
    assert publish["principals"] == [{"type": "Service",
                                      "identifiers": ["cloudwatch.amazonaws.com"]}]
    assert publish["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    conditions = {c["variable"]: c for c in publish["condition"]}
    assert conditions["aws:SourceArn"]["test"] == "ArnLike"
    [source] = conditions["aws:SourceArn"]["values"]
    assert source.startswith("arn:aws:cloudwatch:eu-west-1:")
    assert source.endswith(f":alarm:{PREFIX}-*")
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    via = statements["AccountPublishesThroughSns"]["condition"][0]
    assert (via["variable"], via["values"]) == ("kms:ViaService",
                                               ["sns.eu-west-1.amazonaws.com"])


def test_topic_policy_and_email_subscription(stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    policy = stack.by_path("aws_sns_topic_policy", "app/monitoring/topic-policy")
    statements = {s["sid"]: s for s in stack.deref(policy["policy"])["statement"]}
    assert statements["AlarmsPublish"]["actions"] == ["sns:Publish"]
    assert "DenyInsecureTransport" in statements
    email = stack.by_path("aws_sns_topic_subscription", "app/monitoring/email-0")
    assert (email["protocol"], email["endpoint"]) == ("email", "ops@example.com")


def test_dashboard_has_a_row_per_watched_thing(stacks: dict[str, Stack]) -> None:
    stack = stacks["watched"]
    dashboard = stack.by_path("aws_cloudwatch_dashboard", "app/monitoring/dashboard")
    assert dashboard["dashboard_name"] == PREFIX
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    titles = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert titles == ["## Function watched-app-web", "## Function watched-app-console",
                      "## HTTP API watched-app-api", "## Function watched-jobs-worker",
                      "## Queue watched-jobs", "## RDS Proxy"]
    graphs = [w for w in widgets if w["type"] == "metric"]
    assert all(w["properties"]["region"] == "eu-west-1" for w in graphs)
    metrics = {tuple(m[:2]) for w in graphs for m in w["properties"]["metrics"]}
    assert {("AWS/Lambda", "Errors"), ("AWS/Lambda", "Duration"),
            ("AWS/ApiGateway", "5xx"), ("AWS/ApiGateway", "Latency"),
            ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
            ("AWS/RDS", "ClientConnections")} <= metrics
    places = [(w["x"], w["y"]) for w in widgets]
    assert len(set(places)) == len(places) and min(places) == (0, 0)


def test_monitoring_off_creates_no_alarm_topic_or_dashboard(stacks: dict[str, Stack]) -> None:
    stack = stacks["off"]
    assert not stack.resources("aws_cloudwatch_metric_alarm")
    assert not stack.resources("aws_cloudwatch_dashboard")
    assert not stack.resources("aws_kms_key")


def test_standalone_monitoring_on_one_function(stacks: dict[str, Stack]) -> None:
    stack = stacks["alone"]
    names = set(alarms(stack))
    assert names == {f"alone-watch-fn-{k}" for k in ("errors", "throttles", "duration")}


def test_octane_web_function(stacks: dict[str, Stack]) -> None:
    stack = stacks["octane"]
    web = stack.by_path("aws_lambda_function", "app/web/function")
    assert web["handler"] == OCTANE_HANDLER
    assert web["timeout"] == 28
    variables = env(stack, "app/web")
    assert variables["BREF_RUNTIME"] == "function"
    assert variables["BREF_LOOP_MAX"] == "500"
    assert "BREF_LOOP_MAX" not in env(stack, "app/console")


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_terraform_validates_alarms_key_dashboard_and_provisioned_concurrency(
        stacks: dict[str, Stack]) -> None:
    directory = stacks["watched"].directory
    offline(directory)
    for step in (init, validate):
        result = step(directory)
        assert result.returncode == 0, result.output


# Refused props: each raises before anything is created.

def _laravel(stack: LaravelStack, **props: object) -> LaravelApp:
    return LaravelApp(stack, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY}, **props)


@pytest.mark.parametrize(("props", "code"), [
    ({"monitoring": "yes"}, "laravel_app.monitoring.type"),
    ({"alarm_thresholds": {"errors": 1}}, "laravel_app.alarm_thresholds.type"),
    ({"alert_emails": ["not-an-address"], "console_audit": False},
     "monitoring.alert_emails.shape"),
    ({"alert_emails": "ops@example.com", "console_audit": False},
     "monitoring.alert_emails.type"),
    ({"octane": 1}, "laravel_app.octane.type"),
    ({"octane_loop_max": 0}, "laravel_app.octane_loop_max.range"),
    ({"octane": True}, "laravel_app.app.missing_octane"),
])
def test_refused_app_props_leave_nothing(props: dict, code: str) -> None:
    stack = LaravelStack(App(), "refused", region="eu-west-1")
    with pytest.raises(ConfigurationError) as error:
        _laravel(stack, **props)
    assert error.value.code == code
    assert "Fix:" in str(error.value)
    assert [c.node.id for c in stack.node.children] == ["aws"]


def test_octane_refuses_a_hand_set_loop_max(tmp_path: Path) -> None:
    stack = LaravelStack(App(), "refused", region="eu-west-1")
    with pytest.raises(ConfigurationError) as error:
        LaravelApp(stack, "app", app=octane_app(tmp_path), secrets={"APP_KEY": APP_KEY},
                   octane=True, web=FunctionOptions(environment={"BREF_LOOP_MAX": "9"}))
    assert error.value.code == "laravel_app.web_environment.managed"
    assert [c.node.id for c in stack.node.children] == ["aws"]


@pytest.mark.parametrize(("props", "code"), [
    ({"errors": 0}, "alarm_thresholds.errors.range"),
    ({"throttles": 100_001}, "alarm_thresholds.throttles.range"),
    ({"duration_percent": 101}, "alarm_thresholds.duration_percent.range"),
    ({"concurrency_percent": 0}, "alarm_thresholds.concurrency_percent.range"),
    ({"api_5xx_percent": 0}, "alarm_thresholds.api_5xx_percent.range"),
    ({"api_latency_ms": 30_001}, "alarm_thresholds.api_latency_ms.range"),
    ({"queue_age_seconds": 59}, "alarm_thresholds.queue_age_seconds.range"),
    ({"proxy_connections_percent": True}, "alarm_thresholds.proxy_connections_percent.range"),
    ({"evaluation_periods": 25}, "alarm_thresholds.evaluation_periods.range"),
    ({"period_seconds": 120}, "alarm_thresholds.period_seconds.choice"),
])
def test_bad_thresholds_are_refused(props: dict, code: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        AlarmThresholds(**props)  # type: ignore[arg-type]
    assert error.value.code == code
    assert "Fix:" in str(error.value)


@pytest.fixture(scope="module")
def empty() -> LaravelStack:
    return LaravelStack(App(), "empty", region="eu-west-1")


@pytest.mark.parametrize(("props", "code"), [
    ({"functions": []}, "monitoring.functions.empty"),
    ({"functions": ["web"]}, "monitoring.functions.type"),
    ({"api": "api"}, "monitoring.api.type"),
    ({"alarm_emails": ["x"]}, "monitoring.alarm_emails.shape"),
    ({"thresholds": 3}, "monitoring.thresholds.type"),
])
def test_refused_monitoring_props_leave_nothing(empty: LaravelStack, props: dict,
                                                code: str) -> None:
    fn = empty.node.try_find_child("fn") or PhpFunction(empty, "fn", image_uri=IMAGE,
                                                        runtime="console")
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        Monitoring(empty, "watch", **{"functions": [fn], **props})
    assert error.value.code == code
    assert len(empty.node.children) == before


def test_watch_methods_refuse_other_constructs(empty: LaravelStack) -> None:
    fn = empty.node.try_find_child("fn") or PhpFunction(empty, "fn", image_uri=IMAGE,
                                                        runtime="console")
    monitoring = Monitoring(empty, "watch-methods", functions=[fn])
    before = len(monitoring.node.children)
    for method, value, code in ((monitoring.watch_queue, fn, "monitoring.worker.type"),
                                (monitoring.watch_proxy, fn, "monitoring.proxy.type"),
                                (monitoring.watch_api, fn, "monitoring.api.type"),
                                (monitoring.watch_function, "fn", "monitoring.function.type")):
        with pytest.raises(ConfigurationError) as error:
            method(value)  # type: ignore[operator]
        assert error.value.code == code
    proxy = DatabaseProxy(
        empty, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, engine="postgres",
        db_instance_identifier="legacy", app_secret_arn=APP_SECRET,
        database_security_group_id="sg-0aaaaaaaaaaaaaaaa", database_name="shop",
        max_connections=200)
    with pytest.raises(ConfigurationError) as error:
        monitoring.watch_proxy(proxy, budget=0)
    assert error.value.code == "monitoring.budget.range"
    assert len(monitoring.node.children) == before

"""QueueWorker and Scheduler, synthesized once per session, asserted on the Terraform JSON."""

from __future__ import annotations

import json

import pytest

from serverless_laravel import (
    FunctionOptions,
    LaravelStack,
    PhpFunction,
    QueueWorker,
    Scheduler,
    VpcConfig,
    cdk,
)
from serverless_laravel.cdk import App
from serverless_laravel.constructs.queue_worker import QUEUE_HANDLER, required_visibility_timeout
from serverless_laravel.errors import ConfigurationError
from tests.helpers import LARAVEL_APP, env, image_uri, kms_key, ref
from tests.synth import Stack, synthesize

APP = LARAVEL_APP
IMAGE = image_uri("eu-west-1")
KEY = kms_key("eu-west-1")
VPC = VpcConfig(("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"),
                ("sg-0123456789abcdef0",))


def build(app: App) -> None:
    stack = LaravelStack(app, "queues", region="eu-west-1")
    web = PhpFunction(stack, "web", image_uri=IMAGE, reserved_concurrency=50)
    console = PhpFunction(stack, "console", image_uri=IMAGE, runtime="console")
    QueueWorker(stack, "jobs", app=APP, vpc=VPC, producers=[web, console],
                maximum_concurrency=25, function=FunctionOptions(reserved_concurrency=40))
    QueueWorker(stack, "emails", image_uri=IMAGE, name="emails", producers=[web],
                kms_key_arn=KEY, function=FunctionOptions(timeout=30), batch_size=50,
                maximum_batching_window=5, visibility_timeout=600, max_receive_count=5)
    Scheduler(stack, "scheduler", console=console)
    Scheduler(stack, "nightly", console=console, schedule_expression="cron(0 3 * * ? *)",
              timezone="Europe/Paris", command="backup:run --only-db", kms_key_arn=KEY,
              maximum_retry_attempts=5, maximum_event_age=3600)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    return synthesize(tmp_path_factory, "queues", build)["queues"]




# QueueWorker: queue, DLQ, redrive, event source.

def test_queue_is_encrypted_with_sqs_managed_keys_by_default(stack: Stack) -> None:
    queue = stack.by_path("aws_sqs_queue", "jobs/queue")
    dlq = stack.by_path("aws_sqs_queue", "jobs/dead-letter-queue")
    assert queue["sqs_managed_sse_enabled"] is True and dlq["sqs_managed_sse_enabled"] is True
    assert "kms_master_key_id" not in queue
    assert queue["name"] == "queues-jobs" and dlq["name"] == "queues-jobs-dlq"
    assert queue["message_retention_seconds"] == 4 * 86_400
    assert dlq["message_retention_seconds"] == 14 * 86_400


def test_kms_queue_uses_the_key(stack: Stack) -> None:
    for path in ("emails/queue", "emails/dead-letter-queue"):
        queue = stack.by_path("aws_sqs_queue", path)
        assert queue["kms_master_key_id"] == KEY
        assert "sqs_managed_sse_enabled" not in queue


def test_redrive_to_the_dlq_after_max_receive_count(stack: Stack) -> None:
    queue = stack.by_path("aws_sqs_queue", "jobs/queue")
    dlq_arn = stack.address_of("aws_sqs_queue", "jobs/dead-letter-queue") + ".arn"
    assert queue["redrive_policy"] == (
        f'${{jsonencode({{"deadLetterTargetArn" = {dlq_arn}, "maxReceiveCount" = 3}})}}')
    emails = stack.by_path("aws_sqs_queue", "emails/queue")
    assert '"maxReceiveCount" = 5' in emails["redrive_policy"]


def test_dlq_accepts_redrives_from_its_queue_only(stack: Stack) -> None:
    allow = stack.by_path("aws_sqs_queue_redrive_allow_policy", "jobs/redrive-allow-policy")
    assert allow["queue_url"] == ref(stack, "aws_sqs_queue", "jobs/dead-letter-queue", "url")
    queue_arn = stack.address_of("aws_sqs_queue", "jobs/queue") + ".arn"
    assert allow["redrive_allow_policy"] == (
        f'${{jsonencode({{"redrivePermission" = "byQueue", "sourceQueueArns" = [{queue_arn}]}})}}')


def test_visibility_timeout_follows_the_six_times_rule(stack: Stack) -> None:
    jobs = stack.by_path("aws_sqs_queue", "jobs/queue")
    assert jobs["visibility_timeout_seconds"] == required_visibility_timeout(60) == 360
    emails = stack.by_path("aws_sqs_queue", "emails/queue")
    assert emails["visibility_timeout_seconds"] == 600
    assert required_visibility_timeout(30, 5) == 185


def test_event_source_reports_batch_item_failures_with_a_concurrency_cap(stack: Stack) -> None:
    mapping = stack.by_path("aws_lambda_event_source_mapping", "jobs/event-source")
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["scaling_config"] == {"maximum_concurrency": 25}
    assert mapping["batch_size"] == 10
    assert "maximum_batching_window_in_seconds" not in mapping
    assert mapping["event_source_arn"] == ref(stack, "aws_sqs_queue", "jobs/queue", "arn")
    assert mapping["function_name"] == ref(stack, "aws_lambda_alias", "jobs/worker/live", "arn")
    emails = stack.by_path("aws_lambda_event_source_mapping", "emails/event-source")
    assert emails["batch_size"] == 50 and emails["maximum_batching_window_in_seconds"] == 5
    assert emails["scaling_config"] == {"maximum_concurrency": 10}


def test_worker_runs_bref_queue_handler(stack: Stack) -> None:
    worker = stack.by_path("aws_lambda_function", "jobs/worker/function")
    assert worker["handler"] == QUEUE_HANDLER
    assert worker["description"] == "Laravel queue worker (queues-jobs)"
    emails = stack.by_path("aws_lambda_function", "emails/worker/function")
    assert emails["description"] == "Laravel queue worker (queues-emails)"
    assert worker["timeout"] == 60
    assert worker["reserved_concurrent_executions"] == 40
    assert worker["vpc_config"]["security_group_ids"] == list(VPC.security_group_ids)
    assert worker["environment"]["variables"]["BREF_RUNTIME"] == "function"


@pytest.mark.parametrize("path", ["jobs/queue", "jobs/dead-letter-queue", "emails/queue",
                                  "emails/dead-letter-queue", "scheduler/dead-letter-queue",
                                  "nightly/dead-letter-queue"])
def test_every_queue_refuses_requests_without_tls(stack: Stack, path: str) -> None:
    policy = stack.by_path("aws_sqs_queue_policy", f"{path}-policy")
    assert policy["queue_url"] == ref(stack, "aws_sqs_queue", path, "url")
    document = stack.deref(policy["policy"])
    assert document["statement"][0] == {
        "sid": "DenyInsecureTransport", "effect": "Deny", "actions": ["sqs:*"],
        "resources": [ref(stack, "aws_sqs_queue", path, "arn")],
        "principals": [{"type": "*", "identifiers": ["*"]}],
        "condition": [{"test": "Bool", "variable": "aws:SecureTransport",
                       "values": ["false"]}],
    }
    assert len(document["statement"]) == (2 if path.endswith("/queue") else 1)


@pytest.mark.parametrize(("queue", "senders"), [
    ("jobs", ["jobs/worker", "web", "console"]),
    ("emails", ["emails/worker", "web"]),
])
def test_only_producers_and_the_worker_may_send_jobs(stack: Stack, queue: str,
                                                     senders: list[str]) -> None:
    """Laravel unserializes job payloads: a send from any other principal is refused by the
    queue policy itself, whatever identity policies elsewhere in the account allow."""
    policy = stack.by_path("aws_sqs_queue_policy", f"{queue}/queue-policy")
    deny = stack.deref(policy["policy"])["statement"][1]
    assert deny == {
        "sid": "DenySendExceptProducers", "effect": "Deny", "actions": ["sqs:SendMessage"],
        "resources": [ref(stack, "aws_sqs_queue", f"{queue}/queue", "arn")],
        "principals": [{"type": "*", "identifiers": ["*"]}],
        "condition": [{"test": "ArnNotEquals", "variable": "aws:PrincipalArn",
                       "values": [ref(stack, "aws_iam_role", f"{s}/role/role", "arn")
                                  for s in senders]}],
    }


def test_queue_policies_are_the_only_sqs_wildcards(stack: Stack) -> None:
    for name, document in stack.data("aws_iam_policy_document").items():
        for statement in document.get("statement", []):
            if any(a.endswith(":*") for a in statement.get("actions", [])):
                assert statement["effect"] == "Deny", name


# IAM: producers send only, the worker consumes (and resends on release).

def test_producers_may_only_send_and_read_the_size(stack: Stack) -> None:
    queue = ref(stack, "aws_sqs_queue", "jobs/queue", "arn")
    for producer in ("web", "console"):
        send = stack.role_statements(f"{producer}/role")["SendJobs"]
        assert send["actions"] == ["sqs:GetQueueAttributes", "sqs:SendMessage"]
        assert send["resources"] == [queue]
    console = stack.role_statements("console/role")
    assert not any(s.startswith(("Consume", "Release", "SendEmails")) for s in console)


def test_worker_consumes_its_own_queue_only(stack: Stack) -> None:
    statements = stack.role_statements("jobs/worker/role")
    queue = ref(stack, "aws_sqs_queue", "jobs/queue", "arn")
    assert statements["ConsumeJobs"]["actions"] == [
        "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage"]
    assert statements["ConsumeJobs"]["resources"] == [queue]
    assert statements["ReleaseJobs"] == {"sid": "ReleaseJobs", "effect": "Allow",
                                         "actions": ["sqs:SendMessage"], "resources": [queue]}
    assert not any("Emails" in sid for sid in statements)


def test_kms_key_is_granted_to_producers_and_worker(stack: Stack) -> None:
    web = stack.role_statements("web/role")
    assert web["KeySendEmails"]["actions"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert web["KeySendEmails"]["resources"] == [KEY]
    worker = stack.role_statements("emails/worker/role")
    assert worker["KeyConsumeEmails"]["resources"] == [KEY]
    assert "KeySendJobs" not in web


# Environment: Laravel's sqs connection.

def test_default_queue_env_on_producers_and_worker(stack: Stack) -> None:
    url = ref(stack, "aws_sqs_queue", "jobs/queue", "url")
    address = stack.address_of("aws_sqs_queue", "jobs/queue")
    prefix = f'${{element(regex("^(.*)/[^/]+$", {address}.url), 0)}}'
    for path in ("web", "console", "jobs/worker"):
        variables = env(stack, path)
        assert variables["QUEUE_CONNECTION"] == "sqs"
        assert variables["SQS_QUEUE"] == url
        assert variables["SQS_PREFIX"] == prefix


def test_named_queue_gets_its_own_variable(stack: Stack) -> None:
    url = ref(stack, "aws_sqs_queue", "emails/queue", "url")
    assert env(stack, "web")["SQS_QUEUE_EMAILS"] == url
    assert "SQS_QUEUE_EMAILS" not in env(stack, "console")
    worker = env(stack, "emails/worker")
    assert worker["SQS_QUEUE"] == url and worker["SQS_QUEUE_EMAILS"] == url


# Scheduler.

def test_schedule_runs_schedule_run_every_minute_on_time(stack: Stack) -> None:
    schedule = stack.by_path("aws_scheduler_schedule", "scheduler/schedule")
    assert schedule["schedule_expression"] == "rate(1 minute)"
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["state"] == "ENABLED"
    target = schedule["target"]
    assert target["input"] == '"schedule:run"' and json.loads(target["input"]) == "schedule:run"
    assert target["arn"] == ref(stack, "aws_lambda_alias", "console/live", "arn")
    assert target["role_arn"] == ref(stack, "aws_iam_role", "scheduler/role/role", "arn")
    assert target["retry_policy"] == {"maximum_retry_attempts": 2,
                                      "maximum_event_age_in_seconds": 60}
    assert target["dead_letter_config"] == {
        "arn": ref(stack, "aws_sqs_queue", "scheduler/dead-letter-queue", "arn")}


def test_custom_schedule_retry_and_key(stack: Stack) -> None:
    schedule = stack.by_path("aws_scheduler_schedule", "nightly/schedule")
    assert schedule["schedule_expression"] == "cron(0 3 * * ? *)"
    assert schedule["schedule_expression_timezone"] == "Europe/Paris"
    assert schedule["kms_key_arn"] == KEY
    assert json.loads(schedule["target"]["input"]) == "backup:run --only-db"
    assert schedule["target"]["retry_policy"] == {"maximum_retry_attempts": 5,
                                                  "maximum_event_age_in_seconds": 3600}
    assert stack.by_path("aws_sqs_queue", "nightly/dead-letter-queue")["kms_master_key_id"] == KEY


def test_console_async_invocations_are_not_retried_and_fail_to_the_dlq(stack: Stack) -> None:
    config = stack.by_path("aws_lambda_function_event_invoke_config",
                           "scheduler/console-invoke-config")
    assert config["function_name"] == ref(stack, "aws_lambda_function", "console/function",
                                          "function_name")
    assert config["qualifier"] == ref(stack, "aws_lambda_alias", "console/live", "name")
    assert config["maximum_retry_attempts"] == 0
    assert config["maximum_event_age_in_seconds"] == 60
    assert config["destination_config"] == {"on_failure": {
        "destination": ref(stack, "aws_sqs_queue", "scheduler/dead-letter-queue", "arn")}}
    assert config["depends_on"] == [stack.address_of("aws_iam_role_policy", "console/role/inline")]
    # One config per function: the nightly schedule on the same console reuses it.
    assert len(stack.resources("aws_lambda_function_event_invoke_config")) == 1


def test_console_role_may_report_failed_runs_to_the_scheduler_dlq(stack: Stack) -> None:
    statements = stack.role_statements("console/role")
    assert statements["ReportFailedRunsToScheduler"] == {
        "sid": "ReportFailedRunsToScheduler", "effect": "Allow", "actions": ["sqs:SendMessage"],
        "resources": [ref(stack, "aws_sqs_queue", "scheduler/dead-letter-queue", "arn")]}
    assert not any(sid.endswith("Nightly") for sid in statements)


def test_scheduler_role_invokes_one_function_and_sends_to_its_dlq(stack: Stack) -> None:
    role = stack.by_path("aws_iam_role", "scheduler/role/role")
    trust = stack.deref(role["assume_role_policy"])["statement"][0]
    assert trust["principals"] == [{"type": "Service",
                                    "identifiers": ["scheduler.amazonaws.com"]}]
    console_arn = ref(stack, "aws_lambda_function", "console/function", "arn")
    account = f'${{element(split(":", {console_arn[2:-1]}), 4)}}'
    assert trust["condition"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [account]},
        {"test": "ArnEquals", "variable": "aws:SourceArn",
         "values": [f"arn:aws:scheduler:eu-west-1:{account}:schedule-group/default"]},
    ]
    statements = stack.role_statements("scheduler/role")
    assert set(statements) == {"SendToDeadLetterQueue", "InvokeConsole"}
    console = ref(stack, "aws_lambda_function", "console/function", "arn")
    assert statements["InvokeConsole"]["actions"] == ["lambda:InvokeFunction"]
    assert statements["InvokeConsole"]["resources"] == [console, f"{console}:*"]
    assert statements["SendToDeadLetterQueue"]["resources"] == [
        ref(stack, "aws_sqs_queue", "scheduler/dead-letter-queue", "arn")]
    dlq = stack.by_path("aws_sqs_queue", "scheduler/dead-letter-queue")
    assert dlq["sqs_managed_sse_enabled"] is True
    nightly = stack.role_statements("nightly/role")
    assert nightly["UseKey"]["resources"] == [KEY]


# Bad props: each rule raises before anything is created.

@pytest.fixture
def empty() -> LaravelStack:
    return LaravelStack(App(), "errors", region="eu-west-1")


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"maximum_concurrency": 1}, "maximum_concurrency"),
        ({"maximum_concurrency": 1001}, "maximum_concurrency"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 11}, "batch_size"),
        ({"max_receive_count": 0}, "max_receive_count"),
        ({"message_retention_days": 15}, "message_retention_days"),
        ({"visibility_timeout": 359}, "visibility_timeout"),
        ({"visibility_timeout": 43_201}, "visibility_timeout"),
        ({"function": FunctionOptions(timeout=900), "maximum_batching_window": 0,
          "visibility_timeout": 100}, "visibility_timeout"),
        ({"function": {"timeout": 30}}, "function"),
        ({"function": FunctionOptions(reserved_concurrency=5), "maximum_concurrency": 10},
         "reserved_concurrency"),
        ({"timeout": 901}, "timeout"),
        ({"maximum_batching_window": 301}, "maximum_batching_window"),
        ({"name": "Emails"}, "name"),
        ({"kms_key_arn": "alias/queues"}, "kms_key_arn"),
        ({"producers": ["web"]}, "producers"),
        ({"function_options": {"runtime": "fpm"}}, "function_options"),
        ({"memory_size": 64}, "memory_size"),
        ({"reserved_concurrency": 5, "maximum_concurrency": 10}, "reserved_concurrency"),
        ({"reserved_concurrency": -1}, "reserved_concurrency"),
    ],
)
@pytest.mark.filterwarnings("ignore:QueueWorker.*is deprecated:DeprecationWarning")
def test_bad_queue_props_raise_and_leave_nothing(empty: LaravelStack, props: dict,
                                                 prop: str) -> None:
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        QueueWorker(empty, "bad", **{"image_uri": IMAGE, **props})
    assert error.value.prop == prop
    assert "Fix:" in str(error.value)
    assert len(empty.node.children) == before


def test_visibility_error_names_the_rule(empty: LaravelStack) -> None:
    with pytest.raises(ConfigurationError, match=r"at least 6 x the worker timeout \(60s\)"):
        QueueWorker(empty, "bad", image_uri=IMAGE, visibility_timeout=300)


def test_a_function_cannot_default_to_two_queues(empty: LaravelStack) -> None:
    web = PhpFunction(empty, "web", image_uri=IMAGE)
    QueueWorker(empty, "one", image_uri=IMAGE, producers=[web])
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError, match="already has SQS_QUEUE") as error:
        QueueWorker(empty, "two", image_uri=IMAGE, producers=[web])
    assert error.value.prop == "producers"
    assert len(empty.node.children) == before
    QueueWorker(empty, "three", image_uri=IMAGE, name="emails", producers=[web])


def test_adding_a_producer_twice_is_idempotent(empty: LaravelStack) -> None:
    web = PhpFunction(empty, "web", image_uri=IMAGE)
    jobs = QueueWorker(empty, "jobs", image_uri=IMAGE, producers=[web])
    jobs.add_producer(web)
    assert [s.sid for s in web.role.statements].count("SendJobs") == 1


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"schedule_expression": "rate(1 minutes)"}, "schedule_expression"),
        ({"schedule_expression": "rate(5 minute)"}, "schedule_expression"),
        ({"schedule_expression": "rate(0 minutes)"}, "schedule_expression"),
        ({"schedule_expression": "cron(* * * * *)"}, "schedule_expression"),
        ({"schedule_expression": "every minute"}, "schedule_expression"),
        ({"maximum_retry_attempts": 186}, "maximum_retry_attempts"),
        ({"maximum_retry_attempts": -1}, "maximum_retry_attempts"),
        ({"maximum_event_age": 59}, "maximum_event_age"),
        ({"maximum_event_age": 86_401}, "maximum_event_age"),
        ({"timezone": "utc+2"}, "timezone"),
        ({"command": " "}, "command"),
        ({"command": "db:wipe --force"}, "command"),
        ({"command": "migrate:rollback"}, "command"),
        ({"command": "q:clear"}, "command"),
        ({"kms_key_arn": "alias/x"}, "kms_key_arn"),
        ({"lambda_retry_attempts": 3}, "lambda_retry_attempts"),
        ({"lambda_retry_attempts": -1}, "lambda_retry_attempts"),
        ({"lambda_retry_attempts": True}, "lambda_retry_attempts"),
        ({"lambda_event_age": 59}, "lambda_event_age"),
        ({"lambda_event_age": 21_601}, "lambda_event_age"),
        ({"enabled": "false"}, "enabled"),
        ({"enabled": 0}, "enabled"),
        ({"enabled": None}, "enabled"),
    ],
)
def test_bad_schedule_props_raise_and_leave_nothing(empty: LaravelStack, props: dict,
                                                    prop: str) -> None:
    console = PhpFunction(empty, "console", image_uri=IMAGE, runtime="console")
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        Scheduler(empty, "bad", console=console, **props)
    assert error.value.prop == prop
    assert len(empty.node.children) == before


def test_scheduler_needs_the_console_function(empty: LaravelStack) -> None:
    web = PhpFunction(empty, "web", image_uri=IMAGE)
    with pytest.raises(ConfigurationError, match="runtime='console'"):
        Scheduler(empty, "bad", console=web)


def test_disabled_schedule(empty: LaravelStack) -> None:
    console = PhpFunction(empty, "console", image_uri=IMAGE, runtime="console")
    scheduler = Scheduler(empty, "scheduler", console=console, enabled=False)
    assert scheduler.schedule.state_input == "DISABLED"


def test_async_settings_are_props_and_the_key_is_granted(empty: LaravelStack) -> None:
    console = PhpFunction(empty, "console", image_uri=IMAGE, runtime="console")
    scheduler = Scheduler(empty, "scheduler", console=console, lambda_retry_attempts=1,
                          lambda_event_age=300, kms_key_arn=KEY)
    assert scheduler.invoke_config.maximum_retry_attempts_input == 1
    assert scheduler.invoke_config.maximum_event_age_in_seconds_input == 300
    key = next(s for s in console.role.statements if s.sid == "EncryptFailedRunsForScheduler")
    assert key.resources == (KEY,)
    assert set(key.actions) == {"kms:Decrypt", "kms:GenerateDataKey"}


def test_a_second_schedule_must_agree_with_the_console_invoke_config(
        empty: LaravelStack) -> None:
    console = PhpFunction(empty, "console", image_uri=IMAGE, runtime="console")
    Scheduler(empty, "scheduler", console=console)
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError, match="Lambda allows one per function") as error:
        Scheduler(empty, "nightly", console=console, lambda_retry_attempts=2)
    assert error.value.prop == "lambda_retry_attempts/lambda_event_age"
    assert len(empty.node.children) == before
    nightly = Scheduler(empty, "nightly", console=console, schedule_expression="rate(1 day)")
    assert nightly.invoke_config is None


def test_an_operator_role_can_be_let_past_the_send_guard(empty: LaravelStack) -> None:
    jobs = QueueWorker(empty, "jobs", image_uri=IMAGE)
    jobs.allow_sender("arn:aws:iam::111122223333:role/ops-redrive")
    jobs.allow_sender("arn:aws:iam::111122223333:role/ops-redrive")
    doc = json.loads(cdk.Testing.synth(empty))
    [document] = [d for name, d in doc["data"]["aws_iam_policy_document"].items()
                  if name.startswith("jobs_queue-policy-document")]
    [condition] = document["statement"][1]["condition"]
    assert condition["values"][1:] == ["arn:aws:iam::111122223333:role/ops-redrive"]


@pytest.mark.parametrize("command", [
    "schedule:run; php artisan db:wipe --force", "schedule:run && echo x", "about $(id)",
    "about `id`", "-n migrate:fresh", "--env=prod db:wipe",
])
def test_a_scheduled_command_is_one_plain_artisan_command(empty: LaravelStack,
                                                          command: str) -> None:
    console = PhpFunction(empty, "console", image_uri=IMAGE, runtime="console")
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        Scheduler(empty, "bad", console=console, command=command)
    assert error.value.code in {"scheduler.command.shell", "scheduler.command.dangerous"}
    assert len(empty.node.children) == before

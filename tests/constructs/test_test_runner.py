"""``TestRunner`` synthesized once per module and asserted on the Terraform JSON: the image
function in the VPC, IAM scoped to ``runs/`` and the named secrets, bucket and ECR settings, the
security-group paths, the Fargate variant; bad props leave nothing in the tree."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from serverless_laravel import (
    Database,
    DatabaseProxy,
    FargateCluster,
    LaravelStack,
    RunnerCommand,
    SecretRef,
    TaskOptions,
    TestRunner,
    VpcConfig,
)
from serverless_laravel.cdk import App
from serverless_laravel.constructs.test_runner import HANDLER, STANDARD_COMMANDS
from serverless_laravel.errors import ConfigurationError
from serverless_laravel.runtime import test_runner as runtime
from tests.helpers import SUBNETS, VPC_ID, kms_key, ref
from tests.synth import Stack, synthesize

REGION = "eu-west-1"
EGRESS = "sg-0123456789abcdef0"
APP_KEY = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/testing-app-key"
MAIL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/mail-AbC123"
KEY = kms_key(REGION)
BUILT: dict[str, Any] = {}
S3_ACTIONS_ALLOWED = {"s3:PutObject", "s3:AbortMultipartUpload"}


def build(app: App) -> None:
    stack = LaravelStack(app, "runner", region=REGION)
    database = Database(stack, "database", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, database=database)
    cluster = FargateCluster(stack, "cluster", vpc_id=VPC_ID, vpc=VpcConfig(SUBNETS, (EGRESS,)))
    runner = TestRunner(
        stack, "tests", vpc_id=VPC_ID, vpc=VpcConfig(SUBNETS, (EGRESS,)), image_tag="abc123",
        secrets={"APP_KEY": SecretRef.ssm(APP_KEY),
                 "MAIL_PASSWORD": SecretRef.secrets_manager(MAIL, kms_key_arn=KEY)},
        environment={"APP_ENV": "testing"}, cluster=cluster,
        task=TaskOptions(cpu=2048, memory=4096))
    runner.connect(proxy)
    runner.wire(proxy.migrations)
    BUILT.update(proxy=proxy)

    plain = LaravelStack(app, "plain", region=REGION)
    TestRunner(plain, "runner", vpc_id=VPC_ID, vpc=VpcConfig(SUBNETS, (EGRESS,)),
               image_tag="v1.2.3", kms_key_arn=KEY, memory_size=1024, timeout=600,
               ephemeral_storage_mb=10_240, reserved_concurrency=1, upload_margin_seconds=60,
               results_retention_days=7, image_count=5, tracing=False,
               commands={"phpunit": RunnerCommand(options={"filter": "value"}, junit=True,
                                                  script="/usr/bin/phpunit")})


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "test-runner", build)


@pytest.fixture(scope="module")
def stack(stacks: dict[str, Stack]) -> Stack:
    return stacks["runner"]


@pytest.fixture(scope="module")
def plain(stacks: dict[str, Stack]) -> Stack:
    return stacks["plain"]


def variables(stack: Stack, path: str) -> dict[str, str]:
    return stack.by_path("aws_lambda_function", f"{path}/function")["environment"]["variables"]


def statements(stack: Stack, role_path: str) -> dict[str, dict[str, Any]]:
    return {sid: {k: v for k, v in s.items() if k != "sid"}
            for sid, s in stack.role_statements(role_path).items()}


_EXPRESSION = re.compile(r'\$\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\}')


def container(stack: Stack) -> dict[str, Any]:
    text = stack.by_path("aws_ecs_task_definition", "tests/task/definition")[
        "container_definitions"]
    [definition] = json.loads(_EXPRESSION.sub(lambda m: m.group(0).replace('"', '\\"'), text))
    return definition


# The function.

def test_the_function_runs_the_handler_from_the_image_in_the_vpc(stack: Stack) -> None:
    fn = stack.by_path("aws_lambda_function", "tests/function")
    repository = ref(stack, "aws_ecr_repository", "tests/repository", "repository_url")
    assert fn["package_type"] == "Image"
    assert fn["image_uri"] == f"{repository}:abc123"
    assert fn["image_config"] == {"command": [HANDLER]}
    assert "runtime" not in fn and "handler" not in fn and "layers" not in fn
    assert (fn["timeout"], fn["memory_size"], fn["ephemeral_storage"]) == (900, 2048,
                                                                           {"size": 4096})
    assert fn["reserved_concurrent_executions"] == 2
    assert fn["vpc_config"] == {
        "subnet_ids": list(SUBNETS),
        "security_group_ids": [ref(stack, "aws_security_group", "tests/security-group/group",
                                   "id"), EGRESS]}
    assert fn["tracing_config"] == {"mode": "Active"}
    assert fn["role"] == ref(stack, "aws_iam_role", "tests/role/role", "arn")


def test_the_handler_settings_are_in_the_environment(stack: Stack) -> None:
    env = variables(stack, "tests")
    assert env["RESULTS_BUCKET"] == ref(stack, "aws_s3_bucket", "tests/results/bucket",
                                        "bucket")
    assert (env["APP_ROOT"], env["PHP_BINARY"], env["UPLOAD_MARGIN_SECONDS"]) == (
        "/var/task", "php", "30")
    assert env["APP_ENV"] == "testing"
    assert not any(k.startswith("BREF_") for k in env)
    secret = ref(stack, "aws_secretsmanager_secret", "database/migration-user", "arn")
    assert json.loads(env["TEST_RUNNER_SECRETS"]) == {
        "APP_KEY": APP_KEY, "MAIL_PASSWORD": MAIL, "DB_PASSWORD": f"{secret}:password::"}
    assert "DB_PASSWORD" not in env
    assert env["DB_HOST"] == ref(stack, "aws_db_proxy", "proxy/proxy", "endpoint")
    assert env["DB_USERNAME"] == "laravel_migrator"


def test_the_default_allow_list_is_the_handlers_default(stack: Stack) -> None:
    commands = json.loads(variables(stack, "tests")["TEST_RUNNER_COMMANDS"])
    assert commands == runtime.DEFAULT_COMMANDS
    assert runtime.parse_commands(json.dumps(commands)) == runtime.parse_commands(None)
    assert set(STANDARD_COMMANDS) == {"test", "phpunit", "scribe:generate",
                                      "api:export-markdown"}


def test_a_configured_allow_list_reaches_the_handler_as_given(plain: Stack) -> None:
    text = variables(plain, "runner")["TEST_RUNNER_COMMANDS"]
    assert json.loads(text) == {"phpunit": {"options": {"filter": "value"}, "junit": True,
                                            "script": "/usr/bin/phpunit"}}
    [spec] = runtime.parse_commands(text).values()
    assert (spec.name, spec.script, spec.junit) == ("phpunit", "/usr/bin/phpunit", True)


def test_sizing_props_reach_the_function(plain: Stack) -> None:
    fn = plain.by_path("aws_lambda_function", "runner/function")
    assert (fn["timeout"], fn["memory_size"], fn["ephemeral_storage"]["size"]) == (
        600, 1024, 10_240)
    assert fn["reserved_concurrent_executions"] == 1
    assert fn["tracing_config"] == {"mode": "PassThrough"}
    assert variables(plain, "runner")["UPLOAD_MARGIN_SECONDS"] == "60"
    assert "TEST_RUNNER_SECRETS" not in variables(plain, "runner")
    assert "TEST_RUNNER_CLUSTER" not in variables(plain, "runner")
    assert plain.resources("aws_ecs_task_definition") == {}


def test_lambda_may_pull_the_image_for_this_function_only(stack: Stack) -> None:
    policy = stack.by_path("aws_ecr_repository_policy", "tests/repository-policy")
    [statement] = stack.deref(policy["policy"])["statement"]
    assert statement["actions"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert statement["principals"] == [{"type": "Service",
                                        "identifiers": ["lambda.amazonaws.com"]}]
    registry = ref(stack, "aws_ecr_repository", "tests/repository", "registry_id")
    assert statement["condition"] == [{
        "test": "StringLike", "variable": "aws:sourceArn",
        "values": [f"arn:aws:lambda:eu-west-1:{registry}:function:runner-tests"]}]
    fn = stack.by_path("aws_lambda_function", "tests/function")
    assert stack.address_of("aws_ecr_repository_policy", "tests/repository-policy") \
        in fn["depends_on"]


# IAM.

def test_the_role_writes_only_under_runs_and_reads_only_the_named_secrets(stack: Stack) -> None:
    found = statements(stack, "tests/role")
    bucket = ref(stack, "aws_s3_bucket", "tests/results/bucket", "arn")
    secret = ref(stack, "aws_secretsmanager_secret", "database/migration-user", "arn")
    assert found["WriteResults"] == {"effect": "Allow", "actions": sorted(S3_ACTIONS_ALLOWED),
                                     "resources": [f"{bucket}/runs/*"]}
    assert found["ReadParameterAPPKEY"]["actions"] == ["ssm:GetParameter"]
    assert found["ReadParameterAPPKEY"]["resources"] == [APP_KEY]
    assert found["ReadSecretMAILPASSWORD"]["resources"] == [MAIL]
    assert found["DecryptSecretMAILPASSWORD"] == {"effect": "Allow", "actions": ["kms:Decrypt"],
                                                  "resources": [KEY]}
    assert found["ReadSecretProxy"]["resources"] == [secret]
    s3 = {a for s in found.values() for a in s["actions"] if a.startswith("s3:")}
    assert s3 == S3_ACTIONS_ALLOWED
    reads = {r for s in found.values() for a in s["actions"]
             if a in ("ssm:GetParameter", "secretsmanager:GetSecretValue")
             for r in s["resources"]}
    assert reads == {APP_KEY, MAIL, secret}
    assert set(found) == {
        "WriteOwnLogs", "WriteTraces", "DescribeNetwork", "CreateInterfaces",
        "ManageInterfaces", "DenyInterfacesToCode", "WriteResults", "ReadParameterAPPKEY",
        "ReadSecretMAILPASSWORD", "DecryptSecretMAILPASSWORD", "ReadSecretProxy"}


def test_php_cannot_manage_network_interfaces(stack: Stack) -> None:
    deny = statements(stack, "tests/role")["DenyInterfacesToCode"]
    assert deny["effect"] == "Deny" and deny["resources"] == ["*"]
    assert deny["condition"][0]["values"] == [
        "arn:aws:lambda:eu-west-1:&{aws:PrincipalAccount}:function:runner-tests"]


def test_the_task_role_has_the_same_boundaries(stack: Stack) -> None:
    task = statements(stack, "tests/task/task-role")
    function = statements(stack, "tests/role")
    assert set(task) == {"WriteResults", "ReadParameterAPPKEY", "ReadSecretMAILPASSWORD",
                         "DecryptSecretMAILPASSWORD", "ReadSecretProxy"}
    assert all(task[sid] == function[sid] for sid in task)


def test_the_execution_role_pulls_from_the_repository_and_reads_no_secret(stack: Stack) -> None:
    execution = statements(stack, "tests/task/execution-role")
    assert set(execution) == {"AuthenticateToEcr", "PullImages", "WriteContainerLogs"}
    assert execution["PullImages"]["resources"] == [
        ref(stack, "aws_ecr_repository", "tests/repository", "arn")]


def test_a_results_key_is_granted_only_through_s3(plain: Stack) -> None:
    found = statements(plain, "runner/role")
    assert found["EncryptResults"]["resources"] == [KEY]
    assert found["EncryptResults"]["condition"] == [{
        "test": "StringEquals", "variable": "kms:ViaService",
        "values": ["s3.eu-west-1.amazonaws.com"]}]
    assert "WriteTraces" not in found


# Bucket and repository.

def test_the_results_bucket_is_private_encrypted_tls_only_and_expiring(
    stack: Stack, plain: Stack,
) -> None:
    block = stack.by_path("aws_s3_bucket_public_access_block",
                          "tests/results/public-access-block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))
    encryption = stack.by_path("aws_s3_bucket_server_side_encryption_configuration",
                               "tests/results/encryption")
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "AES256"}
    policy = stack.by_path("aws_s3_bucket_policy", "tests/results/policy")
    [deny] = stack.deref(policy["policy"])["statement"]
    assert deny["effect"] == "Deny" and deny["condition"][0]["variable"] == "aws:SecureTransport"
    lifecycle = stack.by_path("aws_s3_bucket_lifecycle_configuration", "tests/results/lifecycle")
    assert lifecycle["rule"][0]["expiration"] == [{"days": 30}]
    kms = plain.by_path("aws_s3_bucket_server_side_encryption_configuration",
                        "runner/results/encryption")
    assert kms["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms", "kms_master_key_id": KEY}
    assert plain.by_path("aws_s3_bucket_lifecycle_configuration", "runner/results/lifecycle")[
        "rule"][0]["expiration"] == [{"days": 7}]


def test_the_repository_is_immutable_scanned_encrypted_and_pruned(
    stack: Stack, plain: Stack,
) -> None:
    repository = stack.by_path("aws_ecr_repository", "tests/repository")
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == {"scan_on_push": True}
    assert repository["encryption_configuration"] == [{"encryption_type": "KMS"}]
    assert plain.by_path("aws_ecr_repository", "runner/repository")[
        "encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": KEY}]
    lifecycle = json.loads(stack.by_path("aws_ecr_lifecycle_policy", "tests/lifecycle")["policy"])
    assert [r["selection"] for r in lifecycle["rules"]] == [
        {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
         "countNumber": 1},
        {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20}]
    kept = json.loads(plain.by_path("aws_ecr_lifecycle_policy", "runner/lifecycle")["policy"])
    assert kept["rules"][1]["selection"]["countNumber"] == 5


# Network.

def _rules(stack: Stack, kind: str, group: str) -> list[tuple[str, int]]:
    return sorted((r["referenced_security_group_id"], r["from_port"])
                  for r in stack.resources(f"aws_vpc_security_group_{kind}_rule").values()
                  if r["security_group_id"] == group)


def test_the_runner_admits_nothing_and_reaches_only_the_proxy(stack: Stack) -> None:
    runner = ref(stack, "aws_security_group", "tests/security-group/group", "id")
    proxy = ref(stack, "aws_security_group", "proxy/security-group/group", "id")
    assert _rules(stack, "ingress", runner) == []
    assert _rules(stack, "egress", runner) == [(proxy, 5432)]
    assert (runner, 5432) in _rules(stack, "ingress", proxy)
    group = stack.by_path("aws_security_group", "tests/security-group/group")
    assert "ingress" not in group and "egress" not in group


def test_the_runner_counts_in_the_proxys_connection_budget(stack: Stack) -> None:
    consumers = {c.name: c.cap for c in BUILT["proxy"].budget().consumers}
    assert consumers == {"tests": 3}, "2 concurrent Lambda runs and one Fargate task"


# The Fargate variant.

def test_the_task_runs_the_same_image_through_the_python_entry_point(stack: Stack) -> None:
    runner = container(stack)
    assert runner["image"] == stack.by_path("aws_lambda_function", "tests/function")[
        "image_uri"]
    assert runner["entryPoint"] == ["python3", "-m", "serverless_laravel.runtime.test_runner"]
    assert json.loads(runner["command"][0]) == {"command": "test"}
    assert runner["user"] == "1000:1000" and runner["readonlyRootFilesystem"] is True
    assert [m["containerPath"] for m in runner["mountPoints"]] == ["/tmp"]
    assert runner["secrets"] == [], "the handler reads secrets; ECS injects none"
    env = {v["name"]: v["value"] for v in runner["environment"]}
    lambda_env = variables(stack, "tests")
    for key in ("TEST_RUNNER_COMMANDS", "TEST_RUNNER_SECRETS", "RESULTS_BUCKET", "DB_HOST",
                "APP_ENV", "APP_ROOT", "PHP_BINARY"):
        assert env[key] == lambda_env[key]
    assert env["TEST_RUNNER_TIMEOUT_SECONDS"] == "7200"
    assert env["AWS_DEFAULT_REGION"] == REGION
    definition = stack.by_path("aws_ecs_task_definition", "tests/task/definition")
    assert (definition["cpu"], definition["memory"]) == ("2048", "4096")


def test_the_function_tells_the_cli_where_the_task_runs(stack: Stack) -> None:
    env = variables(stack, "tests")
    assert env["TEST_RUNNER_CLUSTER"] == ref(stack, "aws_ecs_cluster", "cluster/cluster", "arn")
    assert env["TEST_RUNNER_TASK_DEFINITION"] == ref(stack, "aws_ecs_task_definition",
                                                     "tests/task/definition", "arn")
    assert env["TEST_RUNNER_CONTAINER"] == "runner"
    network = json.loads(env["TEST_RUNNER_TASK_NETWORK"])
    assert network == {"subnets": list(SUBNETS), "security_groups": [
        ref(stack, "aws_security_group", "tests/security-group/group", "id"), EGRESS]}


# Refused props leave nothing.

@pytest.fixture
def empty() -> dict[str, Any]:
    stack = LaravelStack(App(), "errors", region=REGION)
    cluster = FargateCluster(stack, "cluster", vpc_id=VPC_ID, vpc=VpcConfig(SUBNETS, (EGRESS,)))
    return {"stack": stack, "cluster": cluster}


BASE: dict[str, Any] = {"vpc_id": VPC_ID, "vpc": VpcConfig(SUBNETS, (EGRESS,)),
                        "image_tag": "v1"}
BAD = [
    ({"vpc_id": "vpc-1"}, "vpc_id", None),
    ({"vpc": {"subnet_ids": SUBNETS}}, "vpc", "type"),
    ({"image_tag": "latest:v1"}, "image_tag", "shape"),
    ({"image_tag": ""}, "image_tag", "shape"),
    ({"timeout": 901}, "timeout", "range"),
    ({"timeout": 30}, "timeout", "range"),
    ({"memory_size": 64}, "memory_size", "range"),
    ({"ephemeral_storage_mb": 20_000}, "ephemeral_storage_mb", "range"),
    ({"reserved_concurrency": 0}, "reserved_concurrency", "range"),
    ({"reserved_concurrency": None}, "reserved_concurrency", "range"),
    ({"architecture": "arm"}, "architecture", "choice"),
    ({"upload_margin_seconds": 2}, "upload_margin_seconds", "range"),
    ({"timeout": 60, "upload_margin_seconds": 40}, "upload_margin_seconds", "range"),
    ({"results_retention_days": 0}, "results_retention_days", "range"),
    ({"image_count": 0}, "image_count", "range"),
    ({"log_retention_days": 2}, "log_retention_days", "choice"),
    ({"kms_key_arn": "alias/mine"}, "kms_key_arn", None),
    ({"app_root": "var/task"}, "app_root", "shape"),
    ({"php_binary": "php; id"}, "php_binary", "shape"),
    ({"commands": {}}, "commands", "type"),
    ({"commands": {"test": {"options": {}}}}, "commands['test']", "type"),
    ({"commands": {"test; id": RunnerCommand()}}, "commands", "name"),
    ({"secrets": {"DB_PASSWORD": "hunter2"}}, "secrets['DB_PASSWORD']", "type"),
    ({"secrets": {"AWS_SECRET_ACCESS_KEY": SecretRef.ssm(APP_KEY)}}, "secrets", "reserved"),
    ({"environment": {"DB_PASSWORD": "hunter2"}}, "environment", "secret"),
    ({"environment": {"RESULTS_BUCKET": "other"}}, "environment", "reserved"),
    ({"environment": {"APP_ENV": 1}}, "environment['APP_ENV']", "type"),
    ({"environment": {"TEST_RUNNER_SHARE_CREDENTIALS": "1"}}, "environment", "reserved"),
    ({"environment": {"PAD": "x" * 5000}}, "environment", "size"),
    ({"cluster": "my-cluster"}, "cluster", "type"),
    ({"task_timeout_seconds": 30}, "task_timeout_seconds", "range"),
]


@pytest.mark.parametrize(("props", "prop", "kind"), BAD)
def test_bad_props_leave_nothing(empty: dict[str, Any], props: dict[str, Any], prop: str,
                                 kind: str | None) -> None:
    stack = empty["stack"]
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        TestRunner(stack, "bad", **(BASE | props))
    assert len(stack.node.children) == before
    assert error.value.prop == prop
    if kind is not None:
        assert error.value.code.rsplit(".", 1)[1] == kind


def test_bad_task_options_with_a_cluster_leave_nothing(empty: dict[str, Any]) -> None:
    stack = empty["stack"]
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        TestRunner(stack, "bad", **BASE, cluster=empty["cluster"],
                   task=TaskOptions(cpu=256, memory=8192))
    assert len(stack.node.children) == before
    assert error.value.prop == "task.memory"


@pytest.mark.parametrize(("props", "prop"), [
    ({"options": {"filter": "shell"}}, "options"),
    ({"options": {"Filter": "value"}}, "options"),
    ({"options": {"log-junit": "value"}}, "options"),
    ({"artifacts": ("../secrets",)}, "artifacts"),
    ({"artifacts": "public/docs"}, "artifacts"),
    ({"script": "../../bin/sh"}, "script"),
    ({"junit": "yes"}, "junit"),
])
def test_bad_runner_commands(props: dict[str, Any], prop: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        RunnerCommand(**props)
    assert error.value.prop == prop


def test_wiring_twice_is_a_conflict(empty: dict[str, Any]) -> None:
    stack = empty["stack"]
    database = Database(stack, "database", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, database=database)
    runner = TestRunner(stack, "runner", **BASE)
    runner.wire(proxy)
    with pytest.raises(ConfigurationError, match="already"):
        runner.wire(proxy.migrations)
    with pytest.raises(ConfigurationError) as error:
        runner.wire(object())
    assert error.value.prop == "resources"
    with pytest.raises(ConfigurationError) as error:
        runner.connect(object())  # type: ignore[arg-type]
    assert error.value.prop == "other"

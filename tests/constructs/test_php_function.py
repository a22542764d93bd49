"""PhpFunction, synthesized once per session for every variant, asserted on the Terraform JSON."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

from serverless_laravel import LaravelStack, PhpFunction, VpcConfig
from serverless_laravel.build.packaging import package_app
from serverless_laravel.cdk import App, TerraformStack, TerraformVariable
from serverless_laravel.constructs.iam import PolicyStatement, ServiceRole
from serverless_laravel.errors import ConfigurationError, EndOfLifeWarning
from tests.helpers import (
    BREF2_APP,
    GROUPS,
    LARAVEL_APP,
    QUEUE_HANDLER,
    SUBNETS,
    image_uri,
    kms_key,
)
from tests.synth import Stack, load_stacks

BREF3_APP = LARAVEL_APP
KEY = kms_key("eu-west-1")
IMAGE = image_uri("us-east-1")


def build(app: App, big_app: Path) -> None:
    bref3 = LaravelStack(app, "bref3", region="eu-west-1")
    PhpFunction(bref3, "web", app=BREF3_APP, environment={"APP_ENV": "production"})
    PhpFunction(bref3, "console", app=BREF3_APP, runtime="console")
    worker = PhpFunction(bref3, "worker", app=BREF3_APP, runtime="function",
                         handler=QUEUE_HANDLER, reserved_concurrency=50)
    PhpFunction(bref3, "arm", app=BREF3_APP, architecture="arm64", memory_size=2048)
    private = PhpFunction(
        bref3, "private", app=BREF3_APP, vpc=VpcConfig(SUBNETS, GROUPS), kms_key_arn=KEY,
        tracing=False, log_retention_days=90, timeout=20, function_name="private-web",
    )
    private.add_environment("QUEUE_CONNECTION", "sqs")
    worker.grant_invoke(private)

    bref2 = LaravelStack(app, "bref2", region="eu-west-1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EndOfLifeWarning)
        PhpFunction(bref2, "web", app=BREF2_APP, php_version="8.1")
        PhpFunction(bref2, "console", app=BREF2_APP, php_version="8.1", runtime="console")
        PhpFunction(bref2, "worker", app=BREF2_APP, php_version="8.1", runtime="function",
                    handler=QUEUE_HANDLER, architecture="arm64")

    image = LaravelStack(app, "image", region="us-east-1")
    PhpFunction(image, "web", image_uri=IMAGE)

    big = LaravelStack(app, "big", region="eu-west-1")
    PhpFunction(big, "web", app=big_app)
    PhpFunction(big, "console", app=big_app, runtime="console")


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    root = tmp_path_factory.mktemp("synth")
    big_app = root / "big-app"
    shutil.copytree(BREF3_APP, big_app)
    (big_app / "public" / "video.bin").write_bytes(os.urandom(51 * 1024 * 1024))
    app = App(outdir=str(root / "cdktf.out"))
    build(app, big_app)
    app.synth()
    return load_stacks(root / "cdktf.out")


def fn(stack: Stack, id: str) -> dict:
    return stack.by_path("aws_lambda_function", f"{id}/function")


def test_bref3_web_function(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    web = fn(stack, "web")
    assert web["runtime"] == "provided.al2023"
    assert web["handler"] == "public/index.php"
    assert web["layers"] == ["arn:aws:lambda:eu-west-1:873528684822:layer:php-84:21"]
    assert web["environment"]["variables"] == {"APP_ENV": "production", "BREF_RUNTIME": "fpm",
                                               "BREF_PING_DISABLE": "1"}
    assert web["architectures"] == ["x86_64"]
    assert web["memory_size"] == 1024
    assert web["timeout"] == 28
    assert web["tracing_config"] == {"mode": "Active"}
    assert web["function_name"] == "bref3-web"
    assert "vpc_config" not in web


def test_zip_is_a_stack_asset_with_the_package_hash(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    web = fn(stack, "web")
    package = package_app(BREF3_APP)
    assert web["source_code_hash"] == package.source_code_hash
    artifact = stack.directory / web["filename"]
    assert artifact.is_file()
    assert artifact.read_bytes() == package.path.read_bytes()


def test_log_group_with_retention_is_the_functions_log_group(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    group = stack.by_path("aws_cloudwatch_log_group", "web/logs")
    assert group["name"] == "/aws/lambda/bref3-web"
    assert group["retention_in_days"] == 30
    web = fn(stack, "web")
    assert stack.deref(web["logging_config"]["log_group"]) is group
    assert stack.address_of("aws_cloudwatch_log_group", "web/logs") in web["depends_on"]


def test_role_is_assumed_by_lambda_only(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    web = fn(stack, "web")
    role = stack.deref(web["role"])
    trust = stack.deref(role["assume_role_policy"])["statement"]
    assert trust == [{
        "sid": "AssumedByService", "effect": "Allow", "actions": ["sts:AssumeRole"],
        "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}],
    }]


def test_web_role_has_only_logs_and_traces(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    statements = stack.role_statements("web/role")
    assert set(statements) == {"WriteOwnLogs", "WriteTraces"}
    logs = statements["WriteOwnLogs"]
    assert logs["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    group = stack.address_of("aws_cloudwatch_log_group", "web/logs")
    assert logs["resources"] == [f"${{{group}.arn}}:*"]
    assert statements["WriteTraces"]["actions"] == [
        "xray:PutTelemetryRecords", "xray:PutTraceSegments"]


def test_no_statement_anywhere_uses_a_wildcard_action(stacks: dict[str, Stack]) -> None:
    for stack in stacks.values():
        for document in stack.data("aws_iam_policy_document").values():
            for statement in document.get("statement", []):
                if statement.get("effect") == "Deny":
                    continue
                assert all("*" not in a for a in statement["actions"]), statement


def test_console_and_worker_modes(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    console, worker = fn(stack, "console"), fn(stack, "worker")
    assert console["handler"] == "artisan"
    assert console["environment"]["variables"] == {"BREF_RUNTIME": "console",
                                                   "BREF_PING_DISABLE": "1"}
    assert console["timeout"] == 120
    assert worker["handler"] == QUEUE_HANDLER
    assert worker["environment"]["variables"] == {"BREF_RUNTIME": "function",
                                                  "BREF_PING_DISABLE": "1"}
    assert worker["reserved_concurrent_executions"] == 50
    assert worker["layers"] == console["layers"] == fn(stack, "web")["layers"]


def test_arm64_variant(stacks: dict[str, Stack]) -> None:
    arm = fn(stacks["bref3"], "arm")
    assert arm["architectures"] == ["arm64"]
    assert arm["layers"] == ["arn:aws:lambda:eu-west-1:873528684822:layer:arm-php-84:21"]
    assert arm["memory_size"] == 2048


def test_vpc_kms_retention_and_tracing_off(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    private = fn(stack, "private")
    assert private["function_name"] == "private-web"
    assert private["vpc_config"] == {"subnet_ids": list(SUBNETS),
                                     "security_group_ids": list(GROUPS)}
    assert private["kms_key_arn"] == KEY
    assert private["tracing_config"] == {"mode": "PassThrough"}
    assert private["timeout"] == 20
    assert private["environment"]["variables"]["QUEUE_CONNECTION"] == "sqs"
    group = stack.by_path("aws_cloudwatch_log_group", "private/logs")
    assert group["retention_in_days"] == 90
    assert group["kms_key_id"] == KEY


def test_vpc_role_statements_are_scoped(stacks: dict[str, Stack]) -> None:
    statements = stacks["bref3"].role_statements("private/role")
    assert set(statements) == {"WriteOwnLogs", "DescribeNetwork", "CreateInterfaces",
                               "ManageInterfaces", "DenyInterfacesToCode", "DecryptEnvironment",
                               "InvokeWorker"}
    assert statements["DescribeNetwork"]["resources"] == ["*"]
    account = "&{aws:PrincipalAccount}"
    assert statements["CreateInterfaces"]["resources"] == [
        f"arn:aws:ec2:eu-west-1:{account}:network-interface/*",
        f"arn:aws:ec2:eu-west-1:{account}:subnet/subnet-0a1b2c3d4e5f60718",
        f"arn:aws:ec2:eu-west-1:{account}:subnet/subnet-0f1e2d3c4b5a69788",
        f"arn:aws:ec2:eu-west-1:{account}:security-group/sg-0123456789abcdef0"]
    assert statements["ManageInterfaces"]["resources"] == [
        f"arn:aws:ec2:eu-west-1:{account}:network-interface/*"]
    assert statements["ManageInterfaces"]["condition"] == [{
        "test": "ArnEquals", "variable": "ec2:Subnet",
        "values": [f"arn:aws:ec2:eu-west-1:{account}:subnet/subnet-0a1b2c3d4e5f60718",
                   f"arn:aws:ec2:eu-west-1:{account}:subnet/subnet-0f1e2d3c4b5a69788"]}]
    deny = statements["DenyInterfacesToCode"]
    assert deny["effect"] == "Deny" and deny["resources"] == ["*"]
    assert set(deny["actions"]) == {
        "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses"}
    assert deny["condition"] == [{
        "test": "ArnEquals", "variable": "lambda:SourceFunctionArn",
        "values": [f"arn:aws:lambda:eu-west-1:{account}:function:"
                   + fn(stacks["bref3"], "private")["function_name"]]}]
    assert statements["DecryptEnvironment"] == {
        "sid": "DecryptEnvironment", "effect": "Allow", "actions": ["kms:Decrypt"],
        "resources": [KEY]}


def test_grant_invoke_scopes_to_one_function(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    invoke = stack.role_statements("private/role")["InvokeWorker"]
    worker = stack.address_of("aws_lambda_function", "worker/function")
    assert invoke["actions"] == ["lambda:InvokeFunction"]
    assert invoke["resources"] == [f"${{{worker}.arn}}", f"${{{worker}.arn}}:*"]


def test_bref2_php81_functions(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref2"]
    web, console, worker = fn(stack, "web"), fn(stack, "console"), fn(stack, "worker")
    assert {web["runtime"], console["runtime"], worker["runtime"]} == {"provided.al2"}
    assert web["layers"] == ["arn:aws:lambda:eu-west-1:534081306603:layer:php-81-fpm:125"]
    assert console["layers"] == ["arn:aws:lambda:eu-west-1:534081306603:layer:php-81:125",
                                 "arn:aws:lambda:eu-west-1:534081306603:layer:console:122"]
    assert worker["layers"] == ["arn:aws:lambda:eu-west-1:534081306603:layer:arm-php-81:104"]
    assert worker["architectures"] == ["arm64"]
    assert web["environment"]["variables"] == {"BREF_PING_DISABLE": "1"}


def test_php81_warns_end_of_life_when_built() -> None:
    stack = LaravelStack(App(), "eol", region="eu-west-1")
    with pytest.warns(EndOfLifeWarning, match="2025-12-31"):
        PhpFunction(stack, "web", app=BREF2_APP, php_version="8.1")


def test_container_image_function(stacks: dict[str, Stack]) -> None:
    web = fn(stacks["image"], "web")
    assert web["package_type"] == "Image"
    assert web["image_uri"] == IMAGE
    assert web["image_config"] == {"command": ["public/index.php"]}
    assert web["environment"]["variables"] == {"BREF_RUNTIME": "fpm", "BREF_PING_DISABLE": "1"}
    for absent in ("runtime", "handler", "layers", "filename"):
        assert absent not in web


def test_over_50mb_uploads_through_a_private_s3_object(stacks: dict[str, Stack]) -> None:
    stack = stacks["big"]
    web, console = fn(stack, "web"), fn(stack, "console")
    assert "filename" not in web
    (obj,) = stack.resources("aws_s3_object").values()
    assert obj["//"]["metadata"]["path"].startswith("big/laravel-code-object-")
    assert (stack.directory / obj["source"]).stat().st_size > 50 * 1024 * 1024
    assert web["s3_key"] == console["s3_key"]
    assert web["s3_key"].startswith("${aws_s3_object.")
    artifacts = "laravel-artifacts"
    bucket = stack.address_of("aws_s3_bucket", f"{artifacts}/bucket")
    assert web["s3_bucket"] == console["s3_bucket"] == f"${{{bucket}.bucket}}"
    block = stack.by_path("aws_s3_bucket_public_access_block", f"{artifacts}/public-access-block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))
    sse = stack.by_path("aws_s3_bucket_server_side_encryption_configuration",
                        f"{artifacts}/encryption")["rule"][0]
    assert sse["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    lifecycle = stack.by_path("aws_s3_bucket_lifecycle_configuration", f"{artifacts}/lifecycle")
    rule = lifecycle["rule"][0]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    policy = stack.by_path("aws_s3_bucket_policy", f"{artifacts}/policy")["policy"]
    deny = stack.deref(policy)["statement"][0]
    assert deny["effect"] == "Deny"
    assert deny["condition"] == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


def test_functions_on_one_package_share_one_asset(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    names = {fn(stack, id)["filename"] for id in ("web", "console", "worker", "arm", "private")}
    assert len(names) == 1
    assert len(list((stack.directory / "assets").iterdir())) == 1


def test_provider_constraint_admits_the_offline_mirror(stacks: dict[str, Stack]) -> None:
    for stack in stacks.values():
        aws = stack.doc["terraform"]["required_providers"]["aws"]
        assert aws["version"] == ">= 5.100.0, < 7.0.0"
        assert stack.doc["provider"]["aws"][0]["region"] in ("eu-west-1", "us-east-1")


# Bad input: each rule raises at construction, naming the prop, and adds nothing to the tree.

@pytest.fixture
def stack() -> LaravelStack:
    return LaravelStack(App(), "errors", region="eu-west-1")


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"memory_size": 64}, "memory_size"),
        ({"memory_size": 10_241}, "memory_size"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 901}, "timeout"),
        ({"ephemeral_storage_mb": 100}, "ephemeral_storage_mb"),
        ({"layers_unzipped_mb": 250}, "layers_unzipped_mb"),
        ({"log_retention_days": 31}, "log_retention_days"),
        ({"reserved_concurrency": -1}, "reserved_concurrency"),
        ({"image_uri": IMAGE}, "app/image_uri"),
        ({"app": None}, "app/image_uri"),
        ({"runtime": "cgi"}, "runtime"),
        ({"architecture": "arm"}, "architecture"),
        ({"function_name": "x" * 65}, "function_name"),
        ({"layers": ["not-an-arn"]}, "layers"),
        ({"layers": [f"arn:aws:lambda:eu-west-1:111122223333:layer:l{i}:1" for i in range(5)]},
         "layers"),
        ({"kms_key_arn": "alias/mine"}, "kms_key_arn"),
        ({"kms_key_arn": "arn:aws:kms:eu-west-1:111122223333:alias/mine"}, "kms_key_arn"),
        ({"tracing": "false"}, "tracing"),
        ({"function_name": 123}, "function_name"),
        ({"handler": 123}, "handler"),
        ({"vpc": {"subnet_ids": ["subnet-0a1b2c3d4e5f60718"]}}, "vpc"),
        ({"layers": "arn:aws:lambda:eu-west-1:111122223333:layer:x:1"}, "layers"),
        ({"description": "d" * 257}, "description"),
        ({"layers": ["arn:aws:lambda:us-east-1:111122223333:layer:newrelic:3"]}, "layers"),
        ({"bref_layer_account": "12345"}, "bref_layer_account"),
        ({"environment": {"AWS_REGION": "x"}}, "environment"),
        ({"environment": {"BREF_RUNTIME": "console"}}, "environment"),
        ({"environment": {"1BAD": "x"}}, "environment"),
        ({"environment": {"BIG": "x" * 5000}}, "environment"),
        ({"environment": {"PORT": 80}}, "environment['PORT']"),
        ({"region": "ap-south-1"}, "region"),
        ({"app": "/nonexistent/app"}, "app"),
        ({"php_version": "8.1"}, "php_version"),
    ],
)
def test_bad_props_raise_and_leave_nothing(stack: LaravelStack, props: dict, prop: str) -> None:
    before = len(stack.node.children)
    full = {"app": BREF3_APP, **props}
    with pytest.raises(ConfigurationError) as error:
        PhpFunction(stack, "bad", **full)
    assert error.value.prop == prop
    assert "Fix:" in str(error.value)
    assert len(stack.node.children) == before


def test_image_uri_must_be_ecr(stack: LaravelStack) -> None:
    with pytest.raises(ConfigurationError, match="ECR only"):
        PhpFunction(stack, "bad", image_uri="docker.io/library/php:8.4")


def test_image_functions_take_no_layers(stack: LaravelStack) -> None:
    with pytest.raises(ConfigurationError, match="cannot use layers"):
        PhpFunction(stack, "bad", image_uri=IMAGE,
                    layers=["arn:aws:lambda:eu-west-1:111122223333:layer:x:1"])


def test_region_token_is_refused() -> None:
    stack = TerraformStack(App(), "tokens")
    region = TerraformVariable(stack, "region", type="string")
    with pytest.raises(ConfigurationError) as error:
        PhpFunction(stack, "web", app=BREF3_APP, region=region.string_value)
    assert error.value.prop == "region"
    assert "concrete" in str(error.value)


def test_stack_without_provider_region_is_refused() -> None:
    stack = TerraformStack(App(), "bare")
    with pytest.raises(ConfigurationError, match="no AWS provider"):
        PhpFunction(stack, "web", app=BREF3_APP)


def test_vpc_ids_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="subnet_ids"):
        VpcConfig(("subnet-x",), GROUPS)
    with pytest.raises(ConfigurationError, match="security_group_ids"):
        VpcConfig(SUBNETS, ())


def test_too_big_for_lambda_suggests_a_container_image(stack: LaravelStack,
                                                       tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(BREF3_APP, app)
    with (app / "public" / "huge.bin").open("wb") as handle:
        os.truncate(handle.fileno(), 200 * 1024 * 1024)
    with pytest.raises(ConfigurationError, match="image_uri") as error:
        PhpFunction(stack, "web", app=app, layers_unzipped_mb=64)
    assert error.value.where == "package_app"


def test_add_environment_rejects_reserved_names(stack: LaravelStack) -> None:
    web = PhpFunction(stack, "web", app=BREF3_APP)
    with pytest.raises(ConfigurationError, match="reserved"):
        web.add_environment("LAMBDA_TASK_ROOT", "/x")
    assert "LAMBDA_TASK_ROOT" not in web.environment


def test_policy_statement_rules() -> None:
    for wildcard in ("s3:*", "s3:Get*", "*"):
        with pytest.raises(ConfigurationError, match="without '\\*' wildcards"):
            PolicyStatement(sid="All", actions=(wildcard,), resources=("*",))
    with pytest.raises(ConfigurationError, match="alphanumeric"):
        PolicyStatement(sid="no-dash", actions=("s3:GetObject",), resources=("*",))
    with pytest.raises(ConfigurationError, match="at least one resource"):
        PolicyStatement(sid="Get", actions=("s3:GetObject",), resources=())


def test_same_sid_for_a_different_statement_is_refused(stack: LaravelStack) -> None:
    role = ServiceRole(stack, "role", service="lambda.amazonaws.com", statements=[])
    role.add(PolicyStatement(sid="Get", actions=("s3:GetObject",), resources=("arn:aws:s3:::b/*",)))
    role.add(PolicyStatement(sid="Get", actions=("s3:GetObject",), resources=("arn:aws:s3:::b/*",)))
    with pytest.raises(ConfigurationError, match="already used"):
        role.add(PolicyStatement(sid="Get", actions=("s3:PutObject",),
                                 resources=("arn:aws:s3:::b/*",)))


def test_grants_from_same_named_constructs_in_different_scopes_do_not_collide(
    stack: LaravelStack,
) -> None:
    from serverless_laravel import PrivateBucket
    from serverless_laravel.cdk import Construct

    web = PhpFunction(stack, "web", app=BREF3_APP)
    for scope_id in ("uploads", "reports"):
        bucket = PrivateBucket(Construct(stack, scope_id), "storage", bucket_prefix=f"{scope_id}-")
        bucket.grant_read(web)
    sids = {s.sid for s in web.role.statements}
    assert {"ReadUploadsStorage", "ReadReportsStorage"} <= sids


@pytest.mark.parametrize(
    ("key", "value"),
    [("DB_PASSWORD", "hunter2"), ("APP_KEY", "base64:abc"), ("STRIPE_SECRET", "sk"),
     ("DATABASE_URL", "pgsql://laravel:hunter2@db:5432/app")],
)
def test_secret_literals_are_refused_on_any_function(
    stack: LaravelStack, key: str, value: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        PhpFunction(stack, "web", app=BREF3_APP, environment={key: value})
    assert error.value.prop == "environment"
    assert value not in str(error.value)


def test_secret_references_and_credential_free_urls_are_accepted(stack: LaravelStack) -> None:
    web = PhpFunction(stack, "web", app=BREF3_APP, environment={
        "APP_KEY": "bref-ssm:/app/key", "REDIS_URL": "tls://cache.internal:6379"})
    assert web.environment["APP_KEY"] == "bref-ssm:/app/key"


def test_stack_tags_must_be_strings() -> None:
    with pytest.raises(ConfigurationError) as error:
        LaravelStack(App(), "tagged", region="eu-west-1", tags={"CostCenter": 42})
    assert error.value.prop == "tags"


def test_add_environment_keeps_the_4kb_total(stack: LaravelStack) -> None:
    web = PhpFunction(stack, "web", app=BREF3_APP, environment={"A": "x" * 2000})
    web.add_environment("B", "y" * 2000)
    web.add_environment("B", "z" * 10)
    with pytest.raises(ConfigurationError, match="4 KB"):
        web.add_environment("C", "w" * 2100)
    assert "C" not in web.environment


def test_every_function_publishes_versions_behind_a_live_alias(stacks: dict[str, Stack]) -> None:
    stack = stacks["bref3"]
    function = fn(stack, "web")
    assert function["publish"] is True
    alias = stack.by_path("aws_lambda_alias", "web/live")
    assert alias["name"] == "live"
    address = stack.address_of("aws_lambda_function", "web/function")
    assert alias["function_name"] == f"${{{address}.function_name}}"
    assert alias["function_version"] == f"${{{address}.version}}"

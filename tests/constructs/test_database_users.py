"""The app's database users: who reads which secret (the examples, statement by statement), the
migration user on Lambda and Fargate, the bootstrap grant, existing databases, refused props."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest

from examples.fargate_baseline.stack import build as fargate_baseline
from examples.serverless_laravel.stack import build as serverless_laravel
from serverless_laravel import (
    Database,
    DatabaseProxy,
    FargateCluster,
    LaravelStack,
    PhpContainer,
    PhpFunction,
    ScheduledTask,
    SecretRef,
    VpcConfig,
)
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError, SecurityWarning
from tests.helpers import SUBNETS, VPC_ID, env, image_uri, kms_key, ref
from tests.synth import Stack, synthesize

REGION = "eu-west-1"
IMAGE = image_uri(REGION)
KEY = kms_key(REGION)
SG = "sg-0123456789abcdef0"
ACCOUNT = "111122223333"
MASTER = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbC123"
APP = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-app-DeF456"
MIGRATION = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-migrator-GhI789"
APP_KEY = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/app-key"
PHP_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/laravel:1.4.2"
NET = {"vpc_id": VPC_ID, "subnet_ids": SUBNETS}
EXISTING = {**NET, "engine": "postgres", "db_instance_identifier": "prod",
            "database_name": "app", "max_connections": 400}

# The examples take the deploy role as a variable: its construct id is the expression's label.
DEPLOY_ROLE_NAME = "var-deploy_role_name"


def function(stack: LaravelStack, name: str, **props: Any) -> PhpFunction:
    return PhpFunction(stack, name, image_uri=IMAGE, vpc=VpcConfig(SUBNETS, (SG,)),
                       reserved_concurrency=5, **props)


def build(app: App) -> None:
    """The examples, and small stacks for what they do not show."""
    serverless_laravel(app)
    fargate_baseline(app)

    stack = LaravelStack(app, "users", region=REGION)
    database = Database(stack, "database", **NET, engine="mysql", kms_key_arn=KEY,
                        app_username="shop_app", migration_username="shop_ddl")
    proxy = DatabaseProxy(stack, "proxy", **NET, database=database, iam_auth=True)
    web, console = function(stack, "web"), function(stack, "console", runtime="console")
    bootstrap = function(stack, "bootstrap", runtime="console")
    proxy.connect(web)
    proxy.connect(console, migrations=True)
    for _ in range(2):
        database.grant_bootstrap("pipeline-role")
        database.grant_bootstrap(bootstrap)
    cluster = FargateCluster(stack, "cluster", vpc_id=VPC_ID, vpc=VpcConfig(SUBNETS, (SG,)))
    migrate = ScheduledTask(stack, "migrate", cluster=cluster, command="migrate --force",
                            enabled=False, php=PhpContainer(
                                image_uri=PHP_IMAGE,
                                secrets={"APP_KEY": SecretRef.ssm(APP_KEY)}))
    proxy.connections.allow_from(migrate)
    migrate.wire(proxy.migrations)

    existing = LaravelStack(app, "existing", region=REGION)
    proxy = DatabaseProxy(existing, "proxy", **EXISTING, app_secret_arn=APP)
    proxy.connect(function(existing, "web"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        master = DatabaseProxy(existing, "master", **EXISTING, secret_arn=MASTER,
                               username="postgres_admin", allow_master_user=True)
    master.connect(function(existing, "legacy"))


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "database-users", build)


_SECRET_REF = re.compile(
    r"\$\{(aws_db_instance\.[^.}]+\.master_user_secret\[0\]\.secret_arn|"
    r"aws_secretsmanager_secret\.[^.}]+\.(?:arn|name))\}")


def readers(stack: Stack) -> dict[str, set[str]]:
    """Which database secret each policy document of ``stack`` names (directly or through its
    Parameter Store reference), by the document's path and the secret's construct path."""
    paths = {f"aws_secretsmanager_secret.{name}": block["//"]["metadata"]["path"]
             for name, block in stack.resources("aws_secretsmanager_secret").items()}
    found: dict[str, set[str]] = {}
    for document in stack.data("aws_iam_policy_document").values():
        holder = document["//"]["metadata"]["path"].split("/", 1)[1]
        for statement in document.get("statement", []):
            for resource in statement.get("resources", []):
                for match in _SECRET_REF.finditer(resource):
                    target = match.group(1)
                    if target.startswith("aws_db_instance"):
                        name = "master"
                    else:
                        name = paths[target.rsplit(".", 1)[0]].split("/", 1)[1]
                    if "password" not in name:  # the cache's secret
                        found.setdefault(holder, set()).add(name)
    return found


# Who reads which secret: the examples.

def test_serverless_example_master_secret_only_for_the_proxy_and_the_pipeline(
        stacks: dict[str, Stack]) -> None:
    assert readers(stacks["serverless-laravel"]) == {
        "proxy/role/policy": {"master", "database/app-user", "database/migration-user"},
        f"database/bootstrap-{DEPLOY_ROLE_NAME}-document": {
            "master", "database/app-user", "database/migration-user"},
        "laravel/web/role/policy": {"database/app-user"},
        "jobs/worker/role/policy": {"database/app-user"},
        "laravel/console/role/policy": {"database/migration-user"},
    }


def test_fargate_example_tasks_read_only_the_app_user(stacks: dict[str, Stack]) -> None:
    assert readers(stacks["fargate-baseline"]) == {
        "proxy/role/policy": {"master", "database/app-user", "database/migration-user"},
        f"database/bootstrap-{DEPLOY_ROLE_NAME}-document": {
            "master", "database/app-user", "database/migration-user"},
        "web/task/execution-role/policy": {"database/app-user"},
        "worker/task/execution-role/policy": {"database/app-user"},
        "scheduler/task/execution-role/policy": {"database/app-user"},
    }


def test_examples_wire_the_console_as_the_migration_user(stacks: dict[str, Stack]) -> None:
    stack = stacks["serverless-laravel"]
    users = {path: env(stack, path)["DB_USERNAME"]
             for path in ("laravel/web", "laravel/console", "jobs/worker")}
    assert users == {"laravel/web": "laravel_app", "laravel/console": "laravel_migrator",
                     "jobs/worker": "laravel_app"}
    policy = stack.by_path("aws_iam_role_policy", f"database/bootstrap-{DEPLOY_ROLE_NAME}")
    assert policy["role"] == "${var.deploy_role_name}"
    assert policy["name"] == "serverless-laravel-database-bootstrap"
    outputs = stack.doc["output"]
    assert outputs["database_bootstrap_command"]["value"] == (
        "serverless-laravel db bootstrap-sql --engine postgres --database laravel "
        "--app-user laravel_app --migration-user laravel_migrator")


# Named users, IAM auth, the bootstrap grant, a Fargate migration task.

def test_named_mysql_users_under_iam_auth(stacks: dict[str, Stack]) -> None:
    stack = stacks["users"]
    proxy = stack.address_of("aws_db_proxy", "proxy/proxy")
    prefix = (f'arn:aws:rds-db:{REGION}:${{element(split(":", {proxy}.arn), 4)}}:dbuser:'
              f'${{element(split(":", {proxy}.arn), 6)}}/')
    for fn, user in (("web", "shop_app"), ("console", "shop_ddl")):
        variables = env(stack, fn)
        assert variables["DB_USERNAME"] == user and variables["DB_IAM_AUTH"] == "true"
        assert "DB_SECRET" not in variables
        statements = stack.role_statements(f"{fn}/role")
        assert statements["ConnectProxy"]["resources"] == [prefix + user]
        assert not any(s.startswith(("ReadSecret", "ReadCredentials")) for s in statements)
    auth = stack.by_path("aws_db_proxy", "proxy/proxy")["auth"]
    assert [a["iam_auth"] for a in auth] == ["REQUIRED", "REQUIRED", "DISABLED"]
    version = stack.by_path("aws_secretsmanager_secret_version", "database/app-user-value")
    assert '"username" = "shop_app"' in version["secret_string"]
    for user in ("app-user", "migration-user"):
        assert stack.by_path("aws_secretsmanager_secret", f"database/{user}")["kms_key_id"] == KEY


def test_bootstrap_grant_reads_the_three_secrets_and_decrypts_through_secrets_manager(
        stacks: dict[str, Stack]) -> None:
    stack = stacks["users"]
    db = stack.address_of("aws_db_instance", "database/instance")
    secrets = [f"${{{db}.master_user_secret[0].secret_arn}}",
               ref(stack, "aws_secretsmanager_secret", "database/app-user", "arn"),
               ref(stack, "aws_secretsmanager_secret", "database/migration-user", "arn")]
    expected = [
        {"sid": "ReadBootstrapSecretsDatabase", "effect": "Allow",
         "actions": ["secretsmanager:GetSecretValue"], "resources": secrets},
        {"sid": "DecryptBootstrapSecretsDatabase", "effect": "Allow", "actions": ["kms:Decrypt"],
         "resources": [KEY], "condition": [{"test": "StringEquals", "variable": "kms:ViaService",
                                            "values": [f"secretsmanager.{REGION}.amazonaws.com"]}]},
    ]
    granted = stack.role_statements("bootstrap/role")
    assert [granted[s["sid"]] for s in expected] == expected
    policy = stack.by_path("aws_iam_role_policy", "database/bootstrap-pipeline-role")
    assert policy["role"] == "pipeline-role"
    assert stack.deref(policy["policy"])["statement"] == expected


def test_a_fargate_migration_task_connects_as_the_migration_user(
        stacks: dict[str, Stack]) -> None:
    stack = stacks["users"]
    definition = stack.by_path("aws_ecs_task_definition", "migrate/task/definition")
    php = json.loads(definition["container_definitions"])[0]
    assert php["command"][-2:] == ["migrate", "--force"]
    assert {e["name"]: e["value"] for e in php["environment"]}["DB_USERNAME"] == "shop_ddl"
    assert php["secrets"] == [{"name": "APP_KEY", "valueFrom": APP_KEY}]  # IAM auth: no password
    task_role = stack.role_statements("migrate/task/task-role")
    assert task_role["ConnectProxy"]["resources"][0].endswith("/shop_ddl")


# Existing databases.

def test_an_existing_database_admits_the_app_user_only(stacks: dict[str, Stack]) -> None:
    stack = stacks["existing"]
    auth = stack.by_path("aws_db_proxy", "proxy/proxy")["auth"]
    assert [a["secret_arn"] for a in auth] == [APP]
    assert stack.role_statements("proxy/role")["ReadDatabaseSecrets"]["resources"] == [APP]
    variables = env(stack, "web")
    assert variables["DB_USERNAME"] == "laravel_app"
    assert variables["DB_SECRET"] == "bref-ssm:/aws/reference/secretsmanager/prod/db-app"
    statements = stack.role_statements("web/role")
    assert statements["ReadSecretProxy"]["resources"] == [APP]
    assert statements["ReadCredentialsProxy"]["resources"] == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/aws/reference/secretsmanager/prod/db-app"]


def test_allow_master_user_is_explicit_and_warns(stacks: dict[str, Stack]) -> None:
    stack = stacks["existing"]
    auth = stack.by_path("aws_db_proxy", "master/proxy")["auth"]
    assert auth == [{"auth_scheme": "SECRETS", "iam_auth": "DISABLED", "secret_arn": MASTER,
                     "description": "Master user postgres_admin: the app connects as it "
                                    "(allow_master_user=True)"}]
    assert env(stack, "legacy")["DB_USERNAME"] == "postgres_admin"
    assert stack.role_statements("legacy/role")["ReadSecretMaster"]["resources"] == [MASTER]
    empty = LaravelStack(App(), "warn", region=REGION)
    with pytest.warns(SecurityWarning, match="connects as the master user 'postgres_admin'"):
        DatabaseProxy(empty, "proxy", **EXISTING, secret_arn=MASTER, username="postgres_admin",
                      allow_master_user=True)


# Refused props and wiring, before anything is created.

@pytest.fixture
def empty() -> LaravelStack:
    return LaravelStack(App(), "errors", region=REGION)


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"app_username": "Laravel_App"}, "database.app_username.shape"),
        ({"app_username": "1app"}, "database.app_username.shape"),
        ({"app_username": "app-user"}, "database.app_username.shape"),
        ({"app_username": "a" * 64}, "database.app_username.shape"),
        ({"engine": "mysql", "migration_username": "m" * 33}, "database.migration_username.shape"),
        ({"app_username": "public"}, "database.app_username.reserved"),
        ({"app_username": "pg_app"}, "database.app_username.reserved"),
        ({"migration_username": "rds_migrator"}, "database.migration_username.reserved"),
        ({"migration_username": "postgres"}, "database.migration_username.reserved"),
        ({"app_username": 7}, "database.app_username.shape"),
        ({"migration_username": "laravel_app"}, "database.migration_username.duplicate"),
        ({"username": "Shop", "app_username": "shop"}, "database.app_username.master"),
        ({"migration_username": "laravel"}, "database.migration_username.master"),
    ],
)
def test_bad_user_names_raise_and_leave_nothing(empty: LaravelStack, props: dict,
                                                code: str) -> None:
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        Database(empty, "bad", **NET, **props)
    assert error.value.code == code
    assert len(empty.node.children) == before


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({}, "database_proxy.app_secret_arn.missing"),
        ({"secret_arn": MASTER, "username": "admin_user"}, "database_proxy.app_secret_arn.missing"),
        ({"app_secret_arn": "arn:aws:secretsmanager:eu-west-1:1:secret:x"},
         "database_proxy.app_secret_arn.shape"),
        ({"app_secret_arn": APP, "migration_secret_arn": "x"},
         "database_proxy.migration_secret_arn.shape"),
        ({"app_secret_arn": APP, "migration_secret_arn": APP},
         "database_proxy.app_secret_arn_migration_secret_arn.duplicate"),
        ({"app_secret_arn": APP, "secret_arn": MASTER}, "database_proxy.username.missing"),
        ({"app_secret_arn": APP, "app_username": "App"}, "database_proxy.app_username.shape"),
        ({"app_secret_arn": APP, "username": "shop", "migration_username": "shop"},
         "database_proxy.migration_username.master"),
        ({"allow_master_user": True, "secret_arn": MASTER, "username": "shop",
          "app_secret_arn": APP}, "database_proxy.allow_master_user.conflict"),
        ({"allow_master_user": True, "username": "shop"}, "database_proxy.secret_arn.shape"),
        ({"allow_master_user": True, "secret_arn": MASTER}, "database_proxy.username.invalid"),
        ({"allow_master_user": "yes", "app_secret_arn": APP},
         "database_proxy.allow_master_user.type"),
    ],
)
def test_bad_existing_database_users_raise_and_leave_nothing(empty: LaravelStack, props: dict,
                                                             code: str) -> None:
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        DatabaseProxy(empty, "bad", **EXISTING, **props)
    assert error.value.code == code
    assert len(empty.node.children) == before


def test_a_database_never_needs_the_master_user(empty: LaravelStack) -> None:
    database = Database(empty, "db", **NET)
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        DatabaseProxy(empty, "proxy", **NET, database=database, allow_master_user=True)
    assert error.value.code == "database_proxy.allow_master_user.database"
    with pytest.raises(ConfigurationError) as error:
        DatabaseProxy(empty, "proxy", **NET, database=database, app_secret_arn=APP)
    assert error.value.code == "database_proxy.database.invalid"
    assert len(empty.node.children) == before


def test_wiring_refusals_leave_the_function_unchanged(empty: LaravelStack) -> None:
    proxy = DatabaseProxy(empty, "proxy", **EXISTING, app_secret_arn=APP)
    web = function(empty, "web")
    for migrations, code in ((True, "database_proxy.migrations.missing"),
                             ("yes", "database_proxy.migrations.type")):
        with pytest.raises(ConfigurationError) as error:
            proxy.wire(web, migrations=migrations)
        assert error.value.code == code
        assert "DB_HOST" not in web.environment and proxy.functions == ()
    both = DatabaseProxy(empty, "both", **EXISTING, app_secret_arn=APP,
                         migration_secret_arn=MIGRATION)
    both.wire(web)
    before = dict(web.environment)
    with pytest.raises(ConfigurationError) as error:
        both.wire(web, migrations=True)
    assert error.value.code == "database_proxy.migrations.conflict"
    assert "already wired to this proxy as laravel_app" in error.value.rule
    assert web.environment == before


@pytest.mark.parametrize("grantee", ["arn:aws:iam::123456789012:role/deploy", "", 42])
def test_grant_bootstrap_takes_a_grantable_or_a_role_name(empty: LaravelStack,
                                                          grantee: Any) -> None:
    database = Database(empty, "db", **NET)
    before = len(database.node.children)
    with pytest.raises(ConfigurationError) as error:
        database.grant_bootstrap(grantee)
    assert error.value.prop == "grant_bootstrap"
    assert len(database.node.children) == before

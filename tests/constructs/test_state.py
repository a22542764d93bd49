"""RedisCache, Database and DatabaseProxy, synthesized once per session, asserted on the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serverless_laravel import (
    Database,
    DatabaseProxy,
    LaravelStack,
    PhpFunction,
    RedisCache,
    VpcConfig,
    cdk,
)
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError
from tests.helpers import SUBNETS, VPC_ID, env, image_uri, kms_key, ref
from tests.synth import Stack, load_stacks, synthesize

IMAGE = image_uri("eu-west-1")
KEY = kms_key("eu-west-1")
WEB_SG, CONSOLE_SG = "sg-0123456789abcdef0", "sg-0fedcba9876543210"
DB_SG = "sg-0aaaaaaaaaaaaaaaa"
SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbC123"
APP_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-app-DeF456"
MIGRATION_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-migrator-GhI789"


def build(app: App) -> None:
    stack = LaravelStack(app, "state", region="eu-west-1")
    web = PhpFunction(stack, "web", image_uri=IMAGE, vpc=VpcConfig(SUBNETS, (WEB_SG,)),
                      reserved_concurrency=100)
    console = PhpFunction(stack, "console", image_uri=IMAGE, runtime="console",
                          vpc=VpcConfig(SUBNETS, (CONSOLE_SG,)), reserved_concurrency=5)
    cache = RedisCache(stack, "cache", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    cache.connect(web)
    cache.connect(console)
    nodes = RedisCache(stack, "nodes", vpc_id=VPC_ID, subnet_ids=SUBNETS, mode="nodes",
                       engine="redis", num_nodes=2, kms_key_arn=KEY, client="phpredis")
    nodes.allow_from(console)
    database = Database(stack, "database", vpc_id=VPC_ID, subnet_ids=SUBNETS, kms_key_arn=KEY,
                        multi_az=True, iam_authentication=True)
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, database=database,
                          functions=[web])
    proxy.connect(console, migrations=True)

    existing = LaravelStack(app, "existing", region="eu-west-1")
    fn = PhpFunction(existing, "web", image_uri=IMAGE, vpc=VpcConfig(SUBNETS, (WEB_SG,)),
                     reserved_concurrency=50)
    proxy = DatabaseProxy(
        existing, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, engine="mysql",
        db_cluster_identifier="legacy-aurora", secret_arn=SECRET, app_secret_arn=APP_SECRET,
        migration_secret_arn=MIGRATION_SECRET,
        database_security_group_id=DB_SG, database_name="shop", username="shop",
        max_connections=1000, iam_auth=True, max_connections_percent=50,
        idle_client_timeout=600, connection_borrow_timeout=30,
    )
    proxy.connect(fn)


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "state", build)


@pytest.fixture(scope="session")
def stack(stacks: dict[str, Stack]) -> Stack:
    return stacks["state"]




def ingress(stack: Stack, group_path: str) -> list[dict]:
    group = stack.address_of("aws_security_group", group_path)
    return sorted(
        ({k: v for k, v in rule.items() if k != "//"}
         for rule in stack.resources("aws_vpc_security_group_ingress_rule").values()
         if rule["security_group_id"] == f"${{{group}.id}}"),
        key=lambda r: (r["referenced_security_group_id"], r["from_port"]),
    )


def rule(source: str, port: int, description: str, group: str) -> dict:
    return {"security_group_id": group, "referenced_security_group_id": source,
            "ip_protocol": "tcp", "from_port": port, "to_port": port,
            "description": description}


# RedisCache.

def test_serverless_valkey_in_private_subnets(stack: Stack) -> None:
    cache = stack.by_path("aws_elasticache_serverless_cache", "cache/cache")
    assert cache["engine"] == "valkey" and cache["major_engine_version"] == "8"
    assert cache["subnet_ids"] == list(SUBNETS)
    assert cache["security_group_ids"] == [
        ref(stack, "aws_security_group", "cache/security-group/group", "id")]
    assert cache["user_group_id"] == ref(stack, "aws_elasticache_user_group",
                                         "cache/user-group", "user_group_id")
    assert "kms_key_id" not in cache
    assert cache["snapshot_retention_limit"] == 1


def test_security_groups_have_no_inline_rules(stacks: dict[str, Stack]) -> None:
    for stack in stacks.values():
        for group in stack.resources("aws_security_group").values():
            assert "ingress" not in group and "egress" not in group
            assert group["vpc_id"] == VPC_ID


def test_cache_admits_only_the_functions_on_6379_and_6380(stack: Stack) -> None:
    group = ref(stack, "aws_security_group", "cache/security-group/group", "id")
    assert ingress(stack, "cache/security-group/group") == [
        rule(WEB_SG, 6379, "web to the cache", group),
        rule(WEB_SG, 6380, "web to the cache", group),
        rule(CONSOLE_SG, 6379, "console to the cache", group),
        rule(CONSOLE_SG, 6380, "console to the cache", group),
    ]
    nodes = ref(stack, "aws_security_group", "nodes/security-group/group", "id")
    assert ingress(stack, "nodes/security-group/group") == [
        rule(CONSOLE_SG, 6379, "console to the cache", nodes)]


def test_password_user_and_disabled_default_user(stack: Stack) -> None:
    default = stack.by_path("aws_elasticache_user", "cache/default-user")
    assert default["user_name"] == "default" and default["access_string"].startswith("off")
    assert default["authentication_mode"] == {"type": "no-password-required"}
    app = stack.by_path("aws_elasticache_user", "cache/app-user")
    assert app["user_name"] == "laravel"
    assert app["access_string"] == "on ~* &* +@all -@admin -@dangerous"
    assert app["authentication_mode"] == {
        "type": "password",
        "passwords": [ref(stack, "aws_secretsmanager_secret_version", "cache/password-value",
                          "secret_string")],
    }
    group = stack.by_path("aws_elasticache_user_group", "cache/user-group")
    assert group["user_ids"] == [
        ref(stack, "aws_elasticache_user", "cache/default-user", "user_id"),
        ref(stack, "aws_elasticache_user", "cache/app-user", "user_id")]


def test_password_is_generated_once_and_kept_in_secrets_manager(stack: Stack) -> None:
    version = stack.by_path("aws_secretsmanager_secret_version", "cache/password-value")
    assert version["secret_id"] == ref(stack, "aws_secretsmanager_secret", "cache/password", "id")
    assert version["secret_string"].count("uuid()") == 2
    assert version["lifecycle"] == {"ignore_changes": ["secret_string"]}
    nodes = stack.by_path("aws_secretsmanager_secret", "nodes/password")
    assert nodes["kms_key_id"] == KEY


def test_node_based_cache_is_encrypted_multi_az(stack: Stack) -> None:
    group = stack.by_path("aws_elasticache_replication_group", "nodes/cache")
    assert group["engine"] == "redis" and group["engine_version"] == "7.1"
    assert group["transit_encryption_enabled"] is True
    assert group["transit_encryption_mode"] == "required"
    assert group["at_rest_encryption_enabled"] == "true" and group["kms_key_id"] == KEY
    assert group["num_cache_clusters"] == 2
    assert group["automatic_failover_enabled"] is True and group["multi_az_enabled"] is True
    assert group["subnet_group_name"] == ref(stack, "aws_elasticache_subnet_group",
                                             "nodes/subnet-group", "name")
    assert group["user_group_ids"] == [ref(stack, "aws_elasticache_user_group",
                                           "nodes/user-group", "user_group_id")]
    assert "auth_token" not in group
    subnets = stack.by_path("aws_elasticache_subnet_group", "nodes/subnet-group")
    assert subnets["subnet_ids"] == list(SUBNETS)


def test_cache_env_on_the_function(stack: Stack) -> None:
    host = f"${{{stack.address_of('aws_elasticache_serverless_cache', 'cache/cache')}" \
           ".endpoint[0].address}"
    secret = ref(stack, "aws_secretsmanager_secret", "cache/password", "name")
    variables = env(stack, "web")
    expected = {
        "REDIS_CLIENT": "predis", "REDIS_URL": f"tls://{host}:6379", "REDIS_HOST": host,
        "REDIS_PORT": "6379", "REDIS_SCHEME": "tls", "REDIS_USERNAME": "laravel",
        "REDIS_PASSWORD": f"bref-ssm:/aws/reference/secretsmanager/{secret}",
        "CACHE_STORE": "redis", "SESSION_DRIVER": "redis", "REDIS_DB": "0",
        "REDIS_CACHE_DB": "0",
    }
    assert {k: variables[k] for k in expected} == expected


def test_cache_password_read_is_scoped_to_one_secret(stack: Stack) -> None:
    statements = stack.role_statements("web/role")
    secret = stack.address_of("aws_secretsmanager_secret", "cache/password")
    assert statements["ReadSecretCache"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadSecretCache"]["resources"] == [f"${{{secret}.arn}}"]
    assert statements["ReadPasswordCache"]["actions"] == ["ssm:GetParameters"]
    assert statements["ReadPasswordCache"]["resources"] == [
        f'arn:aws:ssm:eu-west-1:${{element(split(":", {secret}.arn), 4)}}:'
        f"parameter/aws/reference/secretsmanager/${{{secret}.name}}"]


# Database.

def test_database_is_private_encrypted_and_protected(stack: Stack) -> None:
    db = stack.by_path("aws_db_instance", "database/instance")
    assert db["engine"] == "postgres" and db["engine_version"] == "16"
    assert db["storage_encrypted"] is True and db["kms_key_id"] == KEY
    assert db["manage_master_user_password"] is True
    assert db["master_user_secret_kms_key_id"] == KEY
    assert "password" not in db and "password_wo" not in db
    assert db["publicly_accessible"] is False
    assert db["deletion_protection"] is True and db["skip_final_snapshot"] is False
    assert db["final_snapshot_identifier"].startswith("state-database-final-${trimprefix(")
    assert db["backup_retention_period"] == 7 and db["copy_tags_to_snapshot"] is True
    assert db["performance_insights_enabled"] is True
    assert db["performance_insights_kms_key_id"] == KEY
    assert db["multi_az"] is True and db["iam_database_authentication_enabled"] is True
    assert db["db_subnet_group_name"] == ref(stack, "aws_db_subnet_group",
                                             "database/subnet-group", "name")
    assert db["vpc_security_group_ids"] == [
        ref(stack, "aws_security_group", "database/security-group/group", "id")]


def secret_arns(stack: Stack) -> dict[str, str]:
    """The three database secrets as Terraform references: master, app, migration."""
    db = stack.address_of("aws_db_instance", "database/instance")
    app = stack.address_of("aws_secretsmanager_secret", "database/app-user")
    migration = stack.address_of("aws_secretsmanager_secret", "database/migration-user")
    return {"master": f"${{{db}.master_user_secret[0].secret_arn}}", "app": f"${{{app}.arn}}",
            "migration": f"${{{migration}.arn}}"}


def test_proxy_requires_tls_and_pools_connections(stack: Stack) -> None:
    proxy = stack.by_path("aws_db_proxy", "proxy/proxy")
    assert proxy["require_tls"] is True and proxy["engine_family"] == "POSTGRESQL"
    assert proxy["idle_client_timeout"] == 1800
    secrets = secret_arns(stack)
    assert proxy["auth"] == [
        {"auth_scheme": "SECRETS", "iam_auth": "DISABLED", "secret_arn": secrets["app"],
         "description": "App user laravel_app: SELECT, INSERT, UPDATE, DELETE (web, worker)"},
        {"auth_scheme": "SECRETS", "iam_auth": "DISABLED", "secret_arn": secrets["migration"],
         "description": "Migration user laravel_migrator: owns the schema, runs migrate "
                        "(console)"},
        {"auth_scheme": "SECRETS", "iam_auth": "DISABLED", "secret_arn": secrets["master"],
         "description": "Master user: only for the one-off bootstrap SQL (creates the two "
                        "users), never for the app"},
    ]
    pool = stack.by_path("aws_db_proxy_default_target_group", "proxy/target-group")
    assert pool["connection_pool_config"] == {
        "max_connections_percent": 90, "max_idle_connections_percent": 50,
        "connection_borrow_timeout": 120}
    target = stack.by_path("aws_db_proxy_target", "proxy/target")
    assert target["db_instance_identifier"] == ref(stack, "aws_db_instance",
                                                   "database/instance", "identifier")


def test_proxy_role_reads_exactly_its_three_secrets(stack: Stack) -> None:
    role = stack.by_path("aws_iam_role", "proxy/role/role")
    trust = stack.deref(role["assume_role_policy"])["statement"][0]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["rds.amazonaws.com"]}]
    app = stack.address_of("aws_secretsmanager_secret", "database/app-user")
    account = f'${{element(split(":", {app}.arn), 4)}}'
    assert trust["condition"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [account]},
        {"test": "ArnLike", "variable": "aws:SourceArn",
         "values": [f"arn:aws:rds:eu-west-1:{account}:db-proxy:*"]}]
    statements = stack.role_statements("proxy/role")
    assert set(statements) == {"ReadDatabaseSecrets", "DecryptDatabaseSecrets"}
    secrets = secret_arns(stack)
    assert statements["ReadDatabaseSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadDatabaseSecrets"]["resources"] == [
        secrets["app"], secrets["migration"], secrets["master"]]
    assert statements["DecryptDatabaseSecrets"]["resources"] == [KEY]
    assert statements["DecryptDatabaseSecrets"]["condition"] == [{
        "test": "StringEquals", "variable": "kms:ViaService",
        "values": ["secretsmanager.eu-west-1.amazonaws.com"]}]


def test_user_secrets_are_generated_encrypted_and_kept(stack: Stack) -> None:
    for user, name in (("app-user", "laravel_app"), ("migration-user", "laravel_migrator")):
        secret = stack.by_path("aws_secretsmanager_secret", f"database/{user}")
        assert secret["kms_key_id"] == KEY and secret["recovery_window_in_days"] == 7
        version = stack.by_path("aws_secretsmanager_secret_version", f"database/{user}-value")
        assert version["secret_id"] == ref(stack, "aws_secretsmanager_secret",
                                           f"database/{user}", "id")
        assert version["secret_string"] == (
            f'${{jsonencode({{"username" = "{name}", "password" = join("", '
            '[replace(uuid(), "-", ""), replace(uuid(), "-", "")])})}')
        assert version["lifecycle"] == {"ignore_changes": ["secret_string"]}


def test_network_path_function_to_proxy_to_database(stack: Stack) -> None:
    proxy_group = ref(stack, "aws_security_group", "proxy/security-group/group", "id")
    db_group = ref(stack, "aws_security_group", "database/security-group/group", "id")
    assert ingress(stack, "proxy/security-group/group") == [
        rule(WEB_SG, 5432, "web to RDS Proxy", proxy_group),
        rule(CONSOLE_SG, 5432, "console to RDS Proxy", proxy_group)]
    assert ingress(stack, "database/security-group/group") == [
        rule(proxy_group, 5432, "from its RDS Proxy", db_group)]
    egress = [r for r in stack.resources("aws_vpc_security_group_egress_rule").values()
              if r["security_group_id"] == proxy_group]
    assert len(egress) == 1 and egress[0]["referenced_security_group_id"] == db_group
    # Named from the database group's Terraform expression, not from a counter.
    path = egress[0]["//"]["metadata"]["path"]
    assert path.startswith("state/proxy/security-group/egress-aws_security_group-database")
    assert path.endswith("-5432")


def test_web_connects_as_the_app_user_and_console_as_the_migration_user(stack: Stack) -> None:
    host = ref(stack, "aws_db_proxy", "proxy/proxy", "endpoint")
    secrets = secret_arns(stack)
    for fn, user, login in (("web", "app-user", "laravel_app"),
                            ("console", "migration-user", "laravel_migrator")):
        secret = stack.address_of("aws_secretsmanager_secret", f"database/{user}")
        expected = {
            "DB_CONNECTION": "pgsql", "DB_HOST": host, "DB_PORT": "5432",
            "DB_DATABASE": "laravel", "DB_USERNAME": login,
            "DB_SECRET": f"bref-ssm:/aws/reference/secretsmanager/${{{secret}.name}}",
        }
        variables = env(stack, fn)
        assert {k: variables[k] for k in expected} == expected
        statements = stack.role_statements(f"{fn}/role")
        assert statements["ReadSecretProxy"]["resources"] == [f"${{{secret}.arn}}"]
        assert statements["ReadCredentialsProxy"]["actions"] == ["ssm:GetParameters"]
        assert statements["ReadCredentialsProxy"]["resources"] == [
            f'arn:aws:ssm:eu-west-1:${{element(split(":", {secret}.arn), 4)}}:'
            f"parameter/aws/reference/secretsmanager/${{{secret}.name}}"]
        assert statements["DecryptCredentialsProxy"]["resources"] == [KEY]
        assert "ConnectProxy" not in statements
        # No function reads the master secret, nor the other user's.
        read = [r for s in statements.values() for r in s["resources"]]
        others = {k: v for k, v in secrets.items() if v != f"${{{secret}.arn}}"}
        assert not any(arn in r for arn in others.values() for r in read)


def test_existing_cluster_with_iam_auth(stacks: dict[str, Stack]) -> None:
    stack = stacks["existing"]
    proxy = stack.by_path("aws_db_proxy", "proxy/proxy")
    assert proxy["engine_family"] == "MYSQL" and proxy["idle_client_timeout"] == 600
    assert [(a["secret_arn"], a["iam_auth"]) for a in proxy["auth"]] == [
        (APP_SECRET, "REQUIRED"), (MIGRATION_SECRET, "REQUIRED"), (SECRET, "DISABLED")]
    target = stack.by_path("aws_db_proxy_target", "proxy/target")
    assert target["db_cluster_identifier"] == "legacy-aurora"
    assert "db_instance_identifier" not in target
    pool = stack.by_path("aws_db_proxy_default_target_group", "proxy/target-group")
    assert pool["connection_pool_config"]["max_connections_percent"] == 50
    assert pool["connection_pool_config"]["connection_borrow_timeout"] == 30
    into_db = stack.by_path("aws_vpc_security_group_ingress_rule", "proxy/database-ingress")
    assert into_db["security_group_id"] == DB_SG and into_db["from_port"] == 3306
    assert into_db["referenced_security_group_id"] == ref(
        stack, "aws_security_group", "proxy/security-group/group", "id")


def test_iam_auth_grants_rds_db_connect_as_one_user(stacks: dict[str, Stack]) -> None:
    stack = stacks["existing"]
    statements = stack.role_statements("web/role")
    proxy = stack.address_of("aws_db_proxy", "proxy/proxy")
    assert statements["ConnectProxy"] == {
        "sid": "ConnectProxy", "effect": "Allow", "actions": ["rds-db:connect"],
        "resources": [f'arn:aws:rds-db:eu-west-1:${{element(split(":", {proxy}.arn), 4)}}:'
                      f'dbuser:${{element(split(":", {proxy}.arn), 6)}}/laravel_app']}
    assert not any(sid.startswith(("ReadSecret", "ReadCredentials")) for sid in statements)
    variables = env(stack, "web")
    assert variables["DB_CONNECTION"] == "mysql" and variables["DB_PORT"] == "3306"
    assert variables["DB_IAM_AUTH"] == "true" and "DB_SECRET" not in variables
    assert variables["MYSQL_ATTR_SSL_CA"] == "/etc/pki/tls/certs/ca-bundle.crt"
    roles = stack.role_statements("proxy/role")
    assert roles["ReadDatabaseSecrets"]["resources"] == [APP_SECRET, MIGRATION_SECRET, SECRET]
    trust = stack.deref(stack.by_path("aws_iam_role", "proxy/role/role")["assume_role_policy"])
    assert trust["statement"][0]["condition"] == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["111122223333"]},
        {"test": "ArnLike", "variable": "aws:SourceArn",
         "values": ["arn:aws:rds:eu-west-1:111122223333:db-proxy:*"]}]


# Bad props.

@pytest.fixture
def empty() -> LaravelStack:
    return LaravelStack(App(), "errors", region="eu-west-1")


CACHE = {"vpc_id": VPC_ID, "subnet_ids": SUBNETS}


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"mode": "cluster"}, "mode"),
        ({"engine": "memcached"}, "engine"),
        ({"client": "credis"}, "client"),
        ({"vpc_id": "vpc-x"}, "vpc_id"),
        ({"subnet_ids": SUBNETS[:1]}, "subnet_ids"),
        ({"mode": "nodes", "num_nodes": 7}, "num_nodes"),
        ({"mode": "nodes", "num_nodes": 2, "subnet_ids": SUBNETS[:1]}, "subnet_ids"),
        ({"mode": "nodes", "node_type": "t4g.small"}, "node_type"),
        ({"kms_key_arn": "alias/cache"}, "kms_key_arn"),
        ({"snapshot_retention_days": 36}, "snapshot_retention_days"),
        ({"max_ecpu_per_second": 10}, "max_ecpu_per_second"),
        ({"username": "default"}, "username"),
        ({"engine_version": "8.0"}, "engine_version"),
        ({"engine_version": "6"}, "engine_version"),
        ({"engine": "redis", "engine_version": "8"}, "engine_version"),
        ({"mode": "nodes", "engine_version": "8"}, "engine_version"),
        ({"mode": "nodes", "engine": "redis", "engine_version": "6.2"}, "engine_version"),
        ({"engine_version": 8}, "engine_version"),
    ],
)
def test_bad_cache_props_raise_and_leave_nothing(empty: LaravelStack, props: dict,
                                                 prop: str) -> None:
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        RedisCache(empty, "bad", **{**CACHE, **props})
    assert error.value.prop == prop
    assert len(empty.node.children) == before


def test_functions_outside_the_vpc_cannot_be_admitted(empty: LaravelStack) -> None:
    fn = PhpFunction(empty, "web", image_uri=IMAGE)
    cache = RedisCache(empty, "cache", **CACHE)
    with pytest.raises(ConfigurationError, match="runs outside the VPC"):
        cache.allow_from(fn)


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"engine": "oracle"}, "engine"),
        ({"instance_class": "t4g.medium"}, "instance_class"),
        ({"instance_class": "db.x9.huge"}, "instance_class"),
        ({"backup_retention_days": 0}, "backup_retention_days"),
        ({"allocated_storage_gb": 10}, "allocated_storage_gb"),
        ({"max_allocated_storage_gb": 19}, "max_allocated_storage_gb"),
        ({"username": "admin"}, "username"),
        ({"database_name": "my-app"}, "database_name"),
        ({"subnet_ids": SUBNETS[:1]}, "subnet_ids"),
        ({"max_connections": 0}, "max_connections"),
        ({"engine_version": "12"}, "engine_version"),
        ({"engine_version": "19"}, "engine_version"),
        ({"engine_version": "16.x"}, "engine_version"),
        ({"engine_version": 16}, "engine_version"),
        ({"engine": "mysql", "engine_version": "5.7"}, "engine_version"),
        ({"engine": "mysql", "engine_version": "8.1"}, "engine_version"),
        ({"engine": "mysql", "engine_version": "16"}, "engine_version"),
        ({"engine": "mysql", "instance_class": "db.t4g.micro"}, "performance_insights"),
        ({"engine": "mysql", "instance_class": "db.t3.small"}, "performance_insights"),
    ],
)
def test_bad_database_props_raise_and_leave_nothing(empty: LaravelStack, props: dict,
                                                    prop: str) -> None:
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        Database(empty, "bad", **{**CACHE, **props})
    assert error.value.prop == prop
    assert len(empty.node.children) == before


EXISTING = {**CACHE, "engine": "postgres", "db_instance_identifier": "prod",
            "secret_arn": SECRET, "app_secret_arn": APP_SECRET, "database_name": "app",
            "username": "app",
            "max_connections": 400}


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"max_connections_percent": 0}, "max_connections_percent"),
        ({"max_connections_percent": 101}, "max_connections_percent"),
        ({"max_connections_percent": 40, "max_idle_connections_percent": 50},
         "max_idle_connections_percent"),
        ({"idle_client_timeout": 0}, "idle_client_timeout"),
        ({"connection_borrow_timeout": 3601}, "connection_borrow_timeout"),
        ({"connections_per_environment": 0}, "connections_per_environment"),
        ({"engine": "sqlserver"}, "engine"),
        ({"db_cluster_identifier": "also"}, "db_instance_identifier/db_cluster_identifier"),
        ({"db_instance_identifier": None}, "db_instance_identifier/db_cluster_identifier"),
        ({"secret_arn": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}, "secret_arn"),
        ({"database_security_group_id": "sg-bad"}, "database_security_group_id"),
        ({"max_connections": None}, "max_connections"),
        ({"max_connections": None, "instance_class": "db.z1.small"}, "instance_class"),
        ({"functions": ["web"]}, "functions"),
    ],
)
def test_bad_proxy_props_raise_and_leave_nothing(empty: LaravelStack, props: dict,
                                                 prop: str) -> None:
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError) as error:
        DatabaseProxy(empty, "bad", **{**EXISTING, **props})
    assert error.value.prop == prop
    assert len(empty.node.children) == before


def test_a_database_brings_its_own_target(empty: LaravelStack) -> None:
    database = Database(empty, "db", **CACHE)
    with pytest.raises(ConfigurationError) as error:
        DatabaseProxy(empty, "proxy", **CACHE, database=database, engine="postgres")
    assert error.value.prop == "database"


def test_a_function_cannot_use_two_proxies(empty: LaravelStack) -> None:
    fn = PhpFunction(empty, "web", image_uri=IMAGE, vpc=VpcConfig(SUBNETS, (WEB_SG,)),
                     reserved_concurrency=10)
    DatabaseProxy(empty, "one", **EXISTING, functions=[fn])
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError, match="already has DB_HOST"):
        DatabaseProxy(empty, "two", **EXISTING, functions=[fn])
    assert len(empty.node.children) == before


def test_proxy_functions_must_be_in_the_vpc(empty: LaravelStack) -> None:
    fn = PhpFunction(empty, "web", image_uri=IMAGE, reserved_concurrency=10)
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError, match="runs outside the VPC"):
        DatabaseProxy(empty, "proxy", **EXISTING, functions=[fn])
    assert len(empty.node.children) == before


def test_wiring_twice_is_idempotent(empty: LaravelStack) -> None:
    fn = PhpFunction(empty, "web", image_uri=IMAGE, vpc=VpcConfig(SUBNETS, (WEB_SG,)),
                     reserved_concurrency=10)
    cache = RedisCache(empty, "cache", **CACHE)
    proxy = DatabaseProxy(empty, "proxy", **EXISTING)
    for _ in range(2):
        cache.connect(fn)
        proxy.connect(fn)
    assert proxy.functions == (fn,)


# Booleans: a string such as "false" is truthy, so every flag must be a real bool.

@pytest.mark.parametrize(
    ("construct", "props", "prop"),
    [
        ("database", {"deletion_protection": "false"}, "deletion_protection"),
        ("database", {"multi_az": 1}, "multi_az"),
        ("database", {"iam_authentication": "no"}, "iam_authentication"),
        ("database", {"performance_insights": None}, "performance_insights"),
        ("proxy", {"iam_auth": "false"}, "iam_auth"),
        ("proxy", {"allow_over_budget": "true"}, "allow_over_budget"),
        ("proxy", {"debug_logging": 0}, "debug_logging"),
    ],
)
def test_flags_must_be_bools_and_leave_nothing(empty: LaravelStack, construct: str,
                                               props: dict, prop: str) -> None:
    before = len(empty.node.children)
    with pytest.raises(ConfigurationError, match="must be True or False") as error:
        if construct == "database":
            Database(empty, "bad", **{**CACHE, **props})
        else:
            DatabaseProxy(empty, "bad", **{**EXISTING, **props})
    assert error.value.prop == prop
    assert len(empty.node.children) == before


# Versions AWS offers are accepted.

@pytest.mark.parametrize(
    ("engine", "version"),
    [("postgres", "13"), ("postgres", "17"), ("postgres", "16.4"), ("postgres", "18"),
     ("mysql", "8.0"), ("mysql", "8.4"), ("mysql", "8.0.39")],
)
def test_supported_database_versions(empty: LaravelStack, engine: str, version: str) -> None:
    database = Database(empty, "db", **CACHE, engine=engine, engine_version=version)
    assert database.instance.engine_version_input == version


def test_performance_insights_off_on_small_mysql_classes(empty: LaravelStack) -> None:
    database = Database(empty, "db", **CACHE, engine="mysql", instance_class="db.t4g.micro",
                        performance_insights=False)
    assert database.instance.performance_insights_enabled_input is False
    Database(empty, "pg", **CACHE, instance_class="db.t4g.micro")  # PostgreSQL: no such rule


@pytest.mark.parametrize(
    ("props", "expected"),
    [({"engine_version": "7"}, "7"), ({"engine_version": "9"}, "9"),
     ({"engine": "redis", "engine_version": "7"}, "7"),
     ({"mode": "nodes", "engine_version": "8.1"}, "8.1"),
     ({"mode": "nodes", "engine": "redis", "engine_version": "7.0"}, "7.0")],
)
def test_supported_cache_versions(empty: LaravelStack, props: dict, expected: str) -> None:
    cache = RedisCache(empty, "cache", **CACHE, **props)
    resource = cache.serverless_cache if cache.mode == "serverless" else cache.replication_group
    version = resource.major_engine_version_input if cache.mode == "serverless" \
        else resource.engine_version_input
    assert version == expected


def test_phpredis_is_an_option(empty: LaravelStack) -> None:
    fn = PhpFunction(empty, "web", image_uri=IMAGE, vpc=VpcConfig(SUBNETS, (WEB_SG,)))
    RedisCache(empty, "cache", **CACHE, client="phpredis").wire(fn)
    assert fn.environment["REDIS_CLIENT"] == "phpredis"


# Security group rules keep their Terraform address whatever order functions connect in.

def _connected(app: App, name: str, order: tuple[str, ...]) -> None:
    """Functions whose security groups are known only at apply time, connected in ``order``."""
    stack = LaravelStack(app, name, region="eu-west-1")
    groups = {n: cdk.aws("security_group").SecurityGroup(stack, f"{n}-sg", vpc_id=VPC_ID)
              for n in ("web", "console", "worker")}
    shared = cdk.aws("security_group").SecurityGroup(stack, "shared-sg", vpc_id=VPC_ID)
    functions = {
        n: PhpFunction(stack, n, image_uri=IMAGE, reserved_concurrency=5,
                       vpc=VpcConfig(SUBNETS, (groups[n].id, shared.id)))
        for n in ("web", "console", "worker")
    }
    cache = RedisCache(stack, "cache", **CACHE)
    database = Database(stack, "database", **CACHE)
    proxy = DatabaseProxy(stack, "proxy", **CACHE, database=database)
    for n in order:
        cache.connect(functions[n])
        proxy.connect(functions[n])


def _rules(stack: Stack) -> dict[str, tuple[str, str]]:
    """Every rule by logical id: (path inside the stack, referenced group)."""
    rules = {}
    for type_ in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        for logical_id, rule in stack.resources(type_).items():
            path = rule["//"]["metadata"]["path"].split("/", 1)[1]
            rules[f"{type_}.{logical_id}"] = (path, rule["referenced_security_group_id"])
    return rules


def test_rule_addresses_do_not_depend_on_connection_order(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path / "out"))
    _connected(app, "forward", ("web", "console", "worker"))
    _connected(app, "backward", ("worker", "console", "web"))
    app.synth()
    stacks = load_stacks(tmp_path / "out")
    forward, backward = _rules(stacks["forward"]), _rules(stacks["backward"])
    assert forward == backward
    # 3 own groups + 1 shared, on 6379/6380 into the cache and 5432 into the proxy; the
    # proxy to the database, both ways.
    assert len(forward) == 4 * 3 + 2
    paths = {path for path, _ in forward.values()}
    assert "cache/security-group/ingress-aws_security_group-shared-sg-id-6379" in paths
    assert "proxy/security-group/ingress-aws_security_group-web-sg-id-5432" in paths


def test_iam_authentication_is_on_unless_turned_off(empty: LaravelStack) -> None:
    """IAM tokens for people (database users granted rds_iam); the app keeps its password."""
    Database(empty, "on", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    Database(empty, "off", vpc_id=VPC_ID, subnet_ids=SUBNETS, iam_authentication=False)
    instances = {i["identifier"]: i["iam_database_authentication_enabled"] for i in
                 json.loads(cdk.Testing.synth(empty))["resource"]["aws_db_instance"].values()}
    assert instances == {"errors-on": True, "errors-off": False}

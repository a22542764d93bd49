"""Database query logging and TLS (its own parameter group) and Enhanced Monitoring (its own
role), per engine, turned off, and refused props; synthesized once per module."""

from __future__ import annotations

import pytest

from serverless_laravel import Database, LaravelStack
from serverless_laravel.cdk import App
from serverless_laravel.constructs.database import db_parameters
from serverless_laravel.errors import ConfigurationError
from tests.helpers import SUBNETS, VPC_ID, ref
from tests.synth import Stack, synthesize

REGION = "eu-west-1"
NET = {"vpc_id": VPC_ID, "subnet_ids": SUBNETS}
LOG_GROUP = f"arn:aws:logs:{REGION}:&{{aws:PrincipalAccount}}:log-group:RDS*"


def build(app: App) -> None:
    stack = LaravelStack(app, "observed", region=REGION)
    Database(stack, "postgres", **NET)
    Database(stack, "mysql", **NET, engine="mysql", slow_query_ms=1500, monitoring_interval=15)
    quiet = LaravelStack(app, "quiet", region=REGION)
    Database(quiet, "postgres", **NET, engine_version="13.12", slow_query_ms=None,
             monitoring_interval=0)
    Database(quiet, "mysql", **NET, engine="mysql", engine_version="8.4", slow_query_ms=None,
             monitoring_interval=0)
    china = LaravelStack(app, "china", region="cn-north-1")
    Database(china, "postgres", **NET)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "database-observability", build)


def parameters(stack: Stack, database: str) -> dict[str, tuple[str, str]]:
    group = stack.by_path("aws_db_parameter_group", f"{database}/parameter-group")
    return {p["name"]: (p["value"], p["apply_method"]) for p in group["parameter"]}


# Query logging.

def test_postgres_logs_ddl_and_slow_statements_and_requires_tls(stacks: dict[str, Stack]) -> None:
    stack = stacks["observed"]
    group = stack.by_path("aws_db_parameter_group", "postgres/parameter-group")
    assert group["family"] == "postgres16"
    assert group["name_prefix"] == "observed-postgres-"
    assert group["lifecycle"] == {"create_before_destroy": True}
    assert parameters(stack, "postgres") == {
        "log_statement": ("ddl", "immediate"),
        "log_min_duration_statement": ("1000", "immediate"),
        "rds.force_ssl": ("1", "pending-reboot"),
    }
    instance = stack.by_path("aws_db_instance", "postgres/instance")
    assert instance["parameter_group_name"] == ref(stack, "aws_db_parameter_group",
                                                   "postgres/parameter-group", "name")
    assert instance["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]


def test_mysql_writes_a_slow_query_log_file_and_requires_tls(stacks: dict[str, Stack]) -> None:
    stack = stacks["observed"]
    group = stack.by_path("aws_db_parameter_group", "mysql/parameter-group")
    assert group["family"] == "mysql8.0"
    assert parameters(stack, "mysql") == {
        "slow_query_log": ("1", "immediate"),
        "long_query_time": ("1.5", "immediate"),
        "log_output": ("FILE", "immediate"),
        "require_secure_transport": ("1", "immediate"),
    }
    instance = stack.by_path("aws_db_instance", "mysql/instance")
    assert instance["parameter_group_name"] == ref(stack, "aws_db_parameter_group",
                                                   "mysql/parameter-group", "name")
    assert instance["enabled_cloudwatch_logs_exports"] == ["error", "slowquery"]


def test_slow_query_logging_turned_off_keeps_the_group(stacks: dict[str, Stack]) -> None:
    stack = stacks["quiet"]
    assert stack.by_path("aws_db_parameter_group", "postgres/parameter-group")["family"] \
        == "postgres13"
    assert parameters(stack, "postgres") == {"log_statement": ("ddl", "immediate"),
                                             "rds.force_ssl": ("1", "pending-reboot")}
    assert stack.by_path("aws_db_parameter_group", "mysql/parameter-group")["family"] \
        == "mysql8.4"
    assert parameters(stack, "mysql") == {"log_output": ("FILE", "immediate"),
                                          "require_secure_transport": ("1", "immediate")}
    for database in ("postgres", "mysql"):
        assert stack.by_path("aws_db_instance", f"{database}/instance")[
            "parameter_group_name"] == ref(stack, "aws_db_parameter_group",
                                           f"{database}/parameter-group", "name")


@pytest.mark.parametrize(
    ("ms", "seconds"),
    [(0, "0"), (1, "0.001"), (1000, "1"), (1500, "1.5"), (1_234_567, "1234.567"),
     (3_600_000, "3600")],
)
def test_long_query_time_is_the_threshold_in_seconds(ms: int, seconds: str) -> None:
    assert dict(db_parameters("mysql", ms))["long_query_time"] == seconds
    assert dict(db_parameters("postgres", ms))["log_min_duration_statement"] == str(ms)


@pytest.mark.parametrize(
    ("engine", "version", "family"),
    [("postgres", "13", "postgres13"), ("postgres", "14.11", "postgres14"),
     ("postgres", "15", "postgres15"), ("postgres", "16.4", "postgres16"),
     ("postgres", "17", "postgres17"), ("postgres", "18", "postgres18"),
     ("mysql", "8.0", "mysql8.0"), ("mysql", "8.0.39", "mysql8.0"),
     ("mysql", "8.4", "mysql8.4"), ("mysql", "8.4.3", "mysql8.4")],
)
def test_family_follows_the_engine_major_version(engine: str, version: str,
                                                  family: str) -> None:
    stack = LaravelStack(App(), "families", region=REGION)
    database = Database(stack, "db", **NET, engine=engine, engine_version=version)
    assert database.parameter_group.family_input == family


# Enhanced Monitoring.

def test_monitoring_every_60_seconds_by_default(stacks: dict[str, Stack]) -> None:
    stack = stacks["observed"]
    instance = stack.by_path("aws_db_instance", "postgres/instance")
    assert instance["monitoring_interval"] == 60
    assert instance["monitoring_role_arn"] == ref(stack, "aws_iam_role",
                                                  "postgres/monitoring-role/role", "arn")
    policy = stack.address_of("aws_iam_role_policy", "postgres/monitoring-role/inline")
    assert instance["depends_on"] == [policy]
    assert stack.by_path("aws_db_instance", "mysql/instance")["monitoring_interval"] == 15


def test_monitoring_role_mirrors_the_managed_policy(stacks: dict[str, Stack]) -> None:
    stack = stacks["observed"]
    assert stack.role_statements("postgres/monitoring-role") == {
        "CreateMonitoringLogGroup": {
            "sid": "CreateMonitoringLogGroup", "effect": "Allow",
            "actions": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
            "resources": [LOG_GROUP]},
        "WriteMonitoringLogStreams": {
            "sid": "WriteMonitoringLogStreams", "effect": "Allow",
            "actions": ["logs:CreateLogStream", "logs:DescribeLogStreams",
                        "logs:GetLogEvents", "logs:PutLogEvents"],
            "resources": [f"{LOG_GROUP}:log-stream:*"]},
    }
    china = stacks["china"].role_statements("postgres/monitoring-role")
    assert china["CreateMonitoringLogGroup"]["resources"] == [
        "arn:aws-cn:logs:cn-north-1:&{aws:PrincipalAccount}:log-group:RDS*"]


def test_monitoring_role_trusts_rds_monitoring_in_this_account(
        stacks: dict[str, Stack]) -> None:
    stack = stacks["observed"]
    role = stack.by_path("aws_iam_role", "postgres/monitoring-role/role")
    (trust,) = stack.deref(role["assume_role_policy"])["statement"]
    assert trust["actions"] == ["sts:AssumeRole"]
    assert trust["principals"] == [{"type": "Service",
                                    "identifiers": ["monitoring.rds.amazonaws.com"]}]
    subnet_group = stack.address_of("aws_db_subnet_group", "postgres/subnet-group")
    assert trust["condition"] == [{
        "test": "StringEquals", "variable": "aws:SourceAccount",
        "values": [f'${{element(split(":", {subnet_group}.arn), 4)}}']}]


def test_monitoring_turned_off_creates_no_role(stacks: dict[str, Stack]) -> None:
    stack = stacks["quiet"]
    for database in ("postgres", "mysql"):
        instance = stack.by_path("aws_db_instance", f"{database}/instance")
        assert instance["monitoring_interval"] == 0
        assert "monitoring_role_arn" not in instance and "depends_on" not in instance
    assert stack.resources("aws_iam_role") == {}


# Refused props, before anything is created.

@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"slow_query_ms": -1}, "database.slow_query_ms.range"),
        ({"slow_query_ms": 3_600_001}, "database.slow_query_ms.range"),
        ({"slow_query_ms": "1000"}, "database.slow_query_ms.range"),
        ({"slow_query_ms": 1.5}, "database.slow_query_ms.range"),
        ({"slow_query_ms": True}, "database.slow_query_ms.range"),
        ({"engine": "mysql", "slow_query_ms": -5}, "database.slow_query_ms.range"),
        ({"monitoring_interval": 2}, "database.monitoring_interval.choice"),
        ({"monitoring_interval": 120}, "database.monitoring_interval.choice"),
        ({"monitoring_interval": -60}, "database.monitoring_interval.choice"),
        ({"monitoring_interval": None}, "database.monitoring_interval.choice"),
        ({"monitoring_interval": "60"}, "database.monitoring_interval.choice"),
        ({"monitoring_interval": 60.0}, "database.monitoring_interval.choice"),
        ({"monitoring_interval": True}, "database.monitoring_interval.choice"),
    ],
)
def test_bad_observability_props_raise_and_leave_nothing(props: dict, code: str) -> None:
    stack = LaravelStack(App(), "errors", region=REGION)
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        Database(stack, "bad", **NET, **props)
    assert error.value.code == code
    assert len(stack.node.children) == before

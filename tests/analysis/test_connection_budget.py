"""The connection budget: the pure arithmetic, then the check a DatabaseProxy runs at synth."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from serverless_laravel import (
    Database,
    DatabaseProxy,
    LaravelStack,
    PhpFunction,
    QueueWorker,
    VpcConfig,
)
from serverless_laravel.analysis.connection_budget import (
    Consumer,
    check_budget,
    compute_budget,
    consumer_of,
    default_max_connections,
)
from serverless_laravel.cdk import App
from serverless_laravel.errors import BudgetWarning, ConfigurationError
from tests.helpers import SUBNETS, VPC_ID, image_uri

IMAGE = image_uri("eu-west-1")
VPC = VpcConfig(SUBNETS, ("sg-0123456789abcdef0",))


@pytest.mark.parametrize(
    ("engine", "instance_class", "expected"),
    [
        ("postgres", "db.t4g.micro", 112),
        ("postgres", "db.t4g.medium", 450),
        ("postgres", "db.r6g.large", 1802),
        ("postgres", "db.r6g.2xlarge", 5000),
        ("mysql", "db.t4g.micro", 85),
        ("mysql", "db.t4g.medium", 341),
        ("mysql", "db.r6g.2xlarge", 5461),
    ],
)
def test_rds_default_max_connections(engine: str, instance_class: str, expected: int) -> None:
    assert default_max_connections(engine, instance_class) == expected


def test_unknown_class_asks_for_max_connections() -> None:
    with pytest.raises(ConfigurationError, match="max_connections="):
        default_max_connections("postgres", "db.x2iedn.32xlarge")


def test_cap_is_the_lower_of_reserved_and_event_source_concurrency() -> None:
    assert Consumer("web", 100).cap == 100
    assert Consumer("worker", None, 20).cap == 20
    assert Consumer("worker", 50, 20).cap == 20
    assert Consumer("worker", 10, 20).cap == 10
    assert Consumer("disabled", 0).cap == 0
    assert Consumer("web").cap is None


def test_budget_within_the_proxy_limit() -> None:
    budget = compute_budget(
        [Consumer("web", 100), Consumer("console", 5), Consumer("worker", None, 20)],
        max_connections=450, max_connections_percent=90,
    )
    assert budget.limit == 405 and budget.total == 125 and not budget.over_budget
    check_budget(budget, "test")


def test_connections_per_environment_multiplies() -> None:
    budget = compute_budget([Consumer("web", 100), Consumer("worker", None, 20)],
                            max_connections=450, max_connections_percent=50,
                            connections_per_environment=2)
    assert budget.total == 240 and budget.limit == 225 and budget.over_budget


def test_3000_concurrent_invocations_oversubscribe_and_print_the_numbers() -> None:
    budget = compute_budget(
        [Consumer("web", 3000), Consumer("console", 5), Consumer("worker", None, 50)],
        max_connections=default_max_connections("postgres", "db.t4g.medium"),
        max_connections_percent=90,
    )
    assert (budget.total, budget.limit) == (3055, 405)
    with pytest.raises(ConfigurationError) as error:
        check_budget(budget, "prod/proxy")
    message = str(error.value)
    assert error.value.prop == "connection budget" and error.value.value == "3055 > 405"
    for needle in ("3055 connections may be opened at once but the proxy may open 405",
                   "web", "3000", "worker", "50", "max_connections 450 x 90%",
                   "reserved_concurrency", "maximum_concurrency", "max_connections_percent",
                   "larger instance class"):
        assert needle in message, needle


def test_over_budget_only_warns_when_allowed() -> None:
    budget = compute_budget([Consumer("web", 3000)], max_connections=450)
    with pytest.warns(BudgetWarning, match="3000 connections"):
        check_budget(budget, "test", allow_over_budget=True)


@pytest.mark.parametrize("value", ["false", "true", 0, None])
def test_allow_over_budget_must_be_a_bool(value: object) -> None:
    budget = compute_budget([Consumer("web", 3000)], max_connections=450)
    with pytest.raises(ConfigurationError, match="must be True or False") as error:
        check_budget(budget, "test", allow_over_budget=value)  # type: ignore[arg-type]
    assert error.value.prop == "allow_over_budget"


def test_uncapped_functions_are_reported_by_name() -> None:
    budget = compute_budget([Consumer("web"), Consumer("worker", None, 5)],
                            max_connections=5000)
    assert budget.uncapped == ("web",) and budget.over_budget
    with pytest.raises(ConfigurationError, match="web reach the database with no concurrency"):
        check_budget(budget, "test")
    assert "unbounded" in budget.describe()


def test_describe_is_a_table_of_the_numbers() -> None:
    budget = compute_budget([Consumer("web", 100), Consumer("worker", 40, 20)],
                            max_connections=450, max_connections_percent=90)
    lines = budget.describe().splitlines()
    assert lines[1].split() == ["web", "100", "100"]
    assert lines[2].split() == ["worker", "20", "20"]
    assert lines[3].split()[-1] == "120"
    assert "405" in lines[4] and "450 x 90%" in lines[4]


@pytest.mark.parametrize(
    ("props", "prop"),
    [({"max_connections": 0}, "max_connections"),
     ({"max_connections_percent": 0}, "max_connections_percent"),
     ({"connections_per_environment": 0}, "connections_per_environment")],
)
def test_budget_inputs_are_checked(props: dict, prop: str) -> None:
    arguments = {"max_connections": 100, **props}
    with pytest.raises(ConfigurationError) as error:
        compute_budget([], **arguments)
    assert error.value.prop == prop


# At synth: a DatabaseProxy checks the functions wired to it.

def oversubscribed(app: App, allow: bool) -> DatabaseProxy:
    stack = LaravelStack(app, "oversubscribed", region="eu-west-1")
    web = PhpFunction(stack, "web", image_uri=IMAGE, vpc=VPC, reserved_concurrency=3000)
    jobs = QueueWorker(stack, "jobs", image_uri=IMAGE, vpc=VPC, maximum_concurrency=100)
    database = Database(stack, "database", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, database=database,
                          allow_over_budget=allow)
    proxy.connect(web)
    proxy.connect(jobs.function)
    return proxy


def test_worker_consumer_carries_its_event_source_cap() -> None:
    proxy = oversubscribed(App(), allow=False)
    jobs = proxy.functions[1]
    assert consumer_of(jobs) == Consumer("oversubscribed-jobs-worker", None, 100)
    assert proxy.budget().total == 3100 and proxy.budget().limit == 405
    with pytest.raises(ConfigurationError, match="3100 connections"):
        proxy.check_budget()


def test_oversubscribed_stack_fails_at_synth(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path / "out"))
    oversubscribed(app, allow=False)
    with pytest.raises(Exception, match="connection budget") as error:
        app.synth()
    message = str(error.value)
    assert "3100 connections may be opened at once but the proxy may open 405" in message
    assert "oversubscribed-web" in message
    assert not (tmp_path / "out" / "stacks" / "oversubscribed" / "cdk.tf.json").exists()


def test_allowed_over_budget_synthesizes_with_a_warning(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path / "out"))
    oversubscribed(app, allow=True)
    with pytest.warns(BudgetWarning, match="3100 connections"):
        app.synth()
    assert (tmp_path / "out" / "stacks" / "oversubscribed" / "cdk.tf.json").is_file()


def test_a_string_flag_is_refused_before_anything_is_created() -> None:
    stack = LaravelStack(App(), "strings", region="eu-west-1")
    database = Database(stack, "database", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError, match="must be True or False") as error:
        DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, database=database,
                      allow_over_budget="false")
    assert error.value.prop == "allow_over_budget"
    assert len(stack.node.children) == before


def test_uncapped_function_fails_at_synth(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path / "out"))
    stack = LaravelStack(app, "uncapped", region="eu-west-1")
    web = PhpFunction(stack, "web", image_uri=IMAGE, vpc=VPC)
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, engine="mysql",
                          db_instance_identifier="prod", database_name="app", username="app",
                          app_secret_arn="arn:aws:secretsmanager:eu-west-1:111122223333:"
                                         "secret:x-AbC123", max_connections=5000)
    proxy.wire(web)
    with warnings.catch_warnings(), pytest.raises(Exception, match="no concurrency cap"):
        app.synth()

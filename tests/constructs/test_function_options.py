"""FunctionOptions: one typed object for function sizing, shared by every composite."""

from __future__ import annotations

import json
import warnings

import pytest

from serverless_laravel import (
    FunctionOptions,
    LaravelApp,
    LaravelStack,
    PhpFunction,
    QueueWorker,
    SecretRef,
    cdk,
)
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError
from tests.helpers import LARAVEL_APP, image_uri

IMAGE = image_uri("eu-west-1")
APP_KEY = SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/app/key")


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"memory_size": 64}, "function_options.memory_size.range"),
        ({"memory_size": 10_241}, "function_options.memory_size.range"),
        ({"memory_size": "1024"}, "function_options.memory_size.range"),
        ({"timeout": 0}, "function_options.timeout.range"),
        ({"timeout": 901}, "function_options.timeout.range"),
        ({"timeout": True}, "function_options.timeout.range"),
        ({"architecture": "arm"}, "function_options.architecture.choice"),
        ({"reserved_concurrency": -1}, "function_options.reserved_concurrency.range"),
        ({"ephemeral_storage_mb": 511}, "function_options.ephemeral_storage_mb.range"),
        ({"log_retention_days": 2}, "function_options.log_retention_days.choice"),
        ({"tracing": "false"}, "function_options.tracing.type"),
        ({"description": "d" * 257}, "function_options.description.length"),
        ({"environment": ["A=1"]}, "function_options.environment.type"),
        ({"provisioned_concurrency": -1}, "function_options.provisioned_concurrency.range"),
        ({"provisioned_concurrency": 10_001},
         "function_options.provisioned_concurrency.range"),
        ({"provisioned_concurrency": "5"}, "function_options.provisioned_concurrency.range"),
        ({"provisioned_concurrency": 6, "reserved_concurrency": 5},
         "function_options.provisioned_concurrency.exceeds_reserved"),
        ({"provisioned_concurrency": 1, "reserved_concurrency": 0},
         "function_options.provisioned_concurrency.exceeds_reserved"),
    ],
)
def test_bad_options_are_refused_with_a_stable_code(props: dict, code: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        FunctionOptions(**props)
    assert error.value.code == code
    assert error.value.prop == code.split(".")[1]
    assert "Fix:" in str(error.value)


def test_props_hold_only_what_was_given() -> None:
    options = FunctionOptions(memory_size=2048, tracing=False, environment={"A": "1"})
    assert options.props() == {"memory_size": 2048, "tracing": False}
    assert FunctionOptions().props() == {}


def test_options_are_immutable_values() -> None:
    options = FunctionOptions(environment={"A": "1"})
    assert options == FunctionOptions(environment={"A": "1"})
    with pytest.raises(AttributeError):
        options.memory_size = 1  # type: ignore[misc]


def _functions(build: object) -> dict[str, dict]:
    """Every aws_lambda_function of a one-stack app built by ``build``, by construct path
    (``app/web``: the logical id without its hash suffix, which Testing.synth keeps)."""
    stack = LaravelStack(App(), "options", region="eu-west-1")
    build(stack)  # type: ignore[operator]
    doc = json.loads(cdk.Testing.synth(stack))
    functions = doc["resource"]["aws_lambda_function"]
    return {name.rsplit("_", 2)[0].replace("_", "/"): f for name, f in functions.items()}


def test_laravel_app_and_queue_worker_take_the_same_options_object() -> None:
    web = FunctionOptions(memory_size=2048, timeout=20, architecture="arm64",
                          reserved_concurrency=100, environment={"OCTANE": "0"},
                          ephemeral_storage_mb=1024)
    worker = FunctionOptions(memory_size=512, timeout=90, reserved_concurrency=10,
                             environment={"QUEUE_TRIES": "3"})

    def build(stack: LaravelStack) -> None:
        laravel = LaravelApp(stack, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY},
                             web=web, console=FunctionOptions(timeout=600))
        QueueWorker(stack, "jobs", image_uri=IMAGE, function=worker,
                    producers=[laravel.web], maximum_concurrency=10)

    functions = _functions(build)
    web_fn = functions["app/web"]
    assert (web_fn["memory_size"], web_fn["timeout"], web_fn["architectures"],
            web_fn["reserved_concurrent_executions"], web_fn["ephemeral_storage"]["size"]) \
        == (2048, 20, ["arm64"], 100, 1024)
    assert web_fn["environment"]["variables"]["OCTANE"] == "0"
    console_fn = functions["app/console"]
    assert console_fn["timeout"] == 600 and "OCTANE" not in console_fn["environment"]["variables"]
    worker_fn = functions["jobs/worker"]
    assert (worker_fn["memory_size"], worker_fn["timeout"],
            worker_fn["reserved_concurrent_executions"]) == (512, 90, 10)
    assert worker_fn["environment"]["variables"]["QUEUE_TRIES"] == "3"


def test_deprecated_keywords_warn_and_build_the_same_functions() -> None:
    def old(stack: LaravelStack) -> None:
        LaravelApp(stack, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY},
                   web_memory=2048, web_timeout=20, web_reserved_concurrency=100,
                   console_memory=512, console_timeout=300, console_reserved_concurrency=2)
        QueueWorker(stack, "jobs", image_uri=IMAGE, memory_size=512, timeout=90,
                    reserved_concurrency=10, environment={"A": "1"},
                    function_options={"tracing": False})

    def new(stack: LaravelStack) -> None:
        LaravelApp(stack, "app", app=LARAVEL_APP, secrets={"APP_KEY": APP_KEY},
                   web=FunctionOptions(memory_size=2048, timeout=20, reserved_concurrency=100),
                   console=FunctionOptions(memory_size=512, timeout=300,
                                           reserved_concurrency=2))
        QueueWorker(stack, "jobs", image_uri=IMAGE,
                    function=FunctionOptions(memory_size=512, timeout=90,
                                             reserved_concurrency=10, environment={"A": "1"},
                                             tracing=False))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy = _functions(old)
    deprecated = sorted(str(w.message).split("(", 1)[1].split("=", 1)[0]
                        for w in caught if issubclass(w.category, DeprecationWarning)
                        and "serverless" not in str(w.filename))
    assert deprecated == sorted([
        "console_memory", "console_reserved_concurrency", "console_timeout", "environment",
        "function_options['tracing']", "memory_size", "reserved_concurrency", "timeout",
        "web_memory", "web_reserved_concurrency", "web_timeout",
    ])
    assert legacy == _functions(new)


def test_a_setting_given_both_ways_is_refused() -> None:
    stack = LaravelStack(App(), "both", region="eu-west-1")
    with pytest.warns(DeprecationWarning), pytest.raises(ConfigurationError) as error:
        QueueWorker(stack, "jobs", image_uri=IMAGE, timeout=30,
                    function=FunctionOptions(timeout=60))
    assert error.value.code == "queue_worker.timeout.conflict"
    assert not stack.node.children[1:]


def test_php_function_and_options_share_the_rules() -> None:
    stack = LaravelStack(App(), "rules", region="eu-west-1")
    with pytest.raises(ConfigurationError) as direct:
        PhpFunction(stack, "web", image_uri=IMAGE, memory_size=64)
    with pytest.raises(ConfigurationError) as through_options:
        FunctionOptions(memory_size=64)
    assert direct.value.rule == through_options.value.rule
    assert direct.value.code == "php_function.memory_size.range"


def test_provisioned_concurrency_within_reserved_is_kept() -> None:
    options = FunctionOptions(reserved_concurrency=5, provisioned_concurrency=5)
    assert options.props() == {"reserved_concurrency": 5, "provisioned_concurrency": 5}
    assert FunctionOptions(provisioned_concurrency=0).props() == {"provisioned_concurrency": 0}


def test_php_function_refuses_more_provisioned_than_reserved_and_creates_nothing() -> None:
    stack = LaravelStack(App(), "warm", region="eu-west-1")
    with pytest.raises(ConfigurationError) as error:
        PhpFunction(stack, "web", image_uri=IMAGE, reserved_concurrency=2,
                    provisioned_concurrency=3)
    assert error.value.code == "php_function.provisioned_concurrency.exceeds_reserved"
    assert "at most 2" in error.value.fix
    assert [c.node.id for c in stack.node.children] == ["aws"]

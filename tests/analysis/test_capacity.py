"""The capacity model against hand calculations; each figure appears only with its inputs."""

from __future__ import annotations

import pytest

from serverless_laravel.analysis.capacity import (
    SPECS,
    CapacityInputs,
    capacity,
    queue_drain_seconds,
    scale_up_seconds,
)
from serverless_laravel.errors import ConfigurationError


def test_concurrency_is_rate_times_duration() -> None:
    result = capacity(CapacityInputs(requests_per_second=500, avg_duration_ms=120))
    assert result["concurrency"] == 60  # 500 x 0.120 s
    assert result["target_concurrency"] == 60
    assert result["scale_up_seconds"] == 0  # within the first 1,000


def test_a_fraction_of_an_environment_rounds_up_for_the_target() -> None:
    result = capacity(CapacityInputs(requests_per_second=10, avg_duration_ms=25))
    assert result["concurrency"] == 0.25
    assert result["target_concurrency"] == 1


@pytest.mark.parametrize(("target", "seconds"), [
    (1, 0), (1000, 0), (1500, 5), (2000, 10), (3000, 20), (10_000, 90)])
def test_scale_up_is_1000_at_once_then_1000_every_10_seconds(target: int, seconds: float
                                                              ) -> None:
    assert scale_up_seconds(target) == seconds
    raised = capacity(CapacityInputs(target_concurrency=target, account_concurrency=10_000))
    assert raised["scale_up_seconds"] == seconds
    assert raised["exceeds_account_concurrency"] is False


def test_3000_at_once_against_the_default_account_quota() -> None:
    result = capacity(CapacityInputs(requests_per_second=25_000, avg_duration_ms=120))
    assert result["concurrency"] == 3000  # 25,000 rps x 0.12 s
    assert result["exceeds_account_concurrency"] is True
    assert result["reachable_concurrency"] == 1000
    assert result["throttled_concurrency"] == 2000
    assert result["scale_up_seconds"] == 0
    assert result["scale_up_seconds_to_target"] == 20


def test_reserved_concurrency_caps_the_function() -> None:
    result = capacity(CapacityInputs(target_concurrency=300, reserved_concurrency=100))
    assert result["reachable_concurrency"] == 100
    assert result["throttled_concurrency"] == 200
    assert result["exceeds_account_concurrency"] is False


def test_connections_with_and_without_the_proxy() -> None:
    result = capacity(CapacityInputs(target_concurrency=3000, account_concurrency=3000,
                                     max_connections=450, max_connections_percent=80,
                                     max_concurrency=20))
    assert result["connections_without_proxy"] == 3020  # 3,000 web + 20 workers, 1 each
    assert result["fits_without_proxy"] is False  # > 450
    assert result["proxy_connection_limit"] == 360  # 450 x 80 %
    assert result["connections_with_proxy"] == 360
    assert result["waiting_for_proxy"] == 2660


def test_max_connections_from_the_database_class() -> None:
    result = capacity(CapacityInputs(target_concurrency=100, database_class="db.t4g.medium",
                                     connections_per_environment=2))
    assert result["max_connections"] == 450  # 4 GiB / 9,531,392 (PostgreSQL)
    assert result["connections_without_proxy"] == 200
    assert result["fits_without_proxy"] is True
    assert result["waiting_for_proxy"] == 0
    mysql = capacity(CapacityInputs(max_concurrency=10, database_class="db.t4g.medium",
                                    engine="mysql"))
    assert mysql["max_connections"] == 341
    assert mysql["connections_without_proxy"] == 10


def test_queue_drain_by_hand() -> None:
    result = capacity(CapacityInputs(backlog_jobs=100_000, job_duration_ms=500,
                                     max_concurrency=20))
    assert result["queue_drain_seconds"] == 2500  # 100,000 x 0.5 s / 20
    assert queue_drain_seconds(1_000_000, 200, 1000) == 200


@pytest.mark.parametrize(("inputs", "present"), [
    ({}, set()),
    ({"requests_per_second": 100}, set()),
    ({"avg_duration_ms": 100}, set()),
    ({"requests_per_second": 100, "avg_duration_ms": 100},
     {"concurrency", "target_concurrency", "reachable_concurrency",
      "exceeds_account_concurrency", "throttled_concurrency", "scale_up_seconds"}),
    ({"max_connections": 100}, set()),
    ({"max_concurrency": 5, "max_connections": 100},
     {"max_connections", "connections_without_proxy", "fits_without_proxy",
      "proxy_connection_limit", "connections_with_proxy", "waiting_for_proxy"}),
    ({"backlog_jobs": 10, "job_duration_ms": 100}, set()),
    ({"backlog_jobs": 10, "job_duration_ms": 100, "max_concurrency": 2},
     {"queue_drain_seconds"}),
])
def test_each_figure_only_from_the_inputs_given(inputs: dict, present: set) -> None:
    assert set(capacity(CapacityInputs(**inputs)).to_json()) == present


@pytest.mark.parametrize(("name", "value"), [
    (n, v) for n, spec in SPECS.items() for v in (spec.low - 1, spec.high * 2, "1", True)])
def test_every_input_is_validated(name: str, value: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        CapacityInputs(**{name: value})
    assert caught.value.code == f"capacity.{name}.range"
    assert "--" + name.replace("_", "-") in caught.value.fix


def test_engine_and_unknown_class_are_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        CapacityInputs(engine="oracle")
    assert caught.value.code == "capacity.engine.choice"
    with pytest.raises(ConfigurationError, match="max_connections="):
        capacity(CapacityInputs(target_concurrency=10, database_class="db.z1.huge"))

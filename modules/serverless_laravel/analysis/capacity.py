"""How far Lambda scales for a load: concurrency, time to scale from zero, database connections
with and without RDS Proxy, and how long a queue backlog takes to drain.

Every input is optional; each figure is computed only from the inputs it needs (a figure whose
inputs are missing is left out, never guessed). ``docs/capacity.md`` gives the formulas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..checks import check_choice
from .connection_budget import ENGINES, Consumer, compute_budget, default_max_connections
from .cost import Spec

WHERE = "capacity"
# Lambda's concurrency scaling rate per function: 1,000 execution environments every 10 s,
# refilled continuously (100 a second); the first 1,000 are available at once.
SCALING_BURST = 1000
SCALING_PER_SECOND = 1000 / 10
DEFAULT_ACCOUNT_CONCURRENCY = 1000

SPECS: Mapping[str, Spec] = {
    "requests_per_second": Spec(0, 10_000_000, unit="requests per second"),
    "avg_duration_ms": Spec(1, 900_000, unit="ms (Lambda's 15-minute limit)"),
    "target_concurrency": Spec(1, 10_000_000, True, "execution environments"),
    "account_concurrency": Spec(1, 10_000_000, True, "concurrent executions"),
    "reserved_concurrency": Spec(0, 10_000_000, True, "concurrent executions"),
    "max_connections": Spec(1, 262_143, True, "connections (RDS's max_connections)"),
    "connections_per_environment": Spec(1, 100, True, "connections"),
    "max_connections_percent": Spec(1, 100, True, "%"),
    "backlog_jobs": Spec(0, 1e12, True, "jobs"),
    "job_duration_ms": Spec(1, 900_000, unit="ms"),
    "max_concurrency": Spec(2, 1000, True, "(the SQS event source's maximum_concurrency)"),
}


@dataclass(frozen=True)
class CapacityInputs:
    """The load and limits; None means "not given" (the figures needing it are skipped).

    ``account_concurrency`` defaults to 1,000 (Lambda's default quota per Region);
    ``connections_per_environment`` to 1 (Laravel's one PDO connection); ``engine`` to
    postgres; ``max_connections_percent`` to 100 (RDS Proxy's default).
    """

    requests_per_second: float | None = None
    avg_duration_ms: float | None = None
    target_concurrency: int | None = None
    account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY
    reserved_concurrency: int | None = None
    max_connections: int | None = None
    database_class: str | None = None
    engine: str = "postgres"
    connections_per_environment: int = 1
    max_connections_percent: int = 100
    backlog_jobs: int | None = None
    job_duration_ms: float | None = None
    max_concurrency: int | None = None

    def __post_init__(self) -> None:
        for name, spec in SPECS.items():
            value = getattr(self, name)
            if value is not None:
                spec.check(name, value, WHERE)
        check_choice(WHERE, "engine", self.engine, ENGINES)

    def database_max_connections(self) -> int | None:
        """``max_connections`` as given, else RDS's default for the class, else None."""
        if self.max_connections is not None:
            return self.max_connections
        if self.database_class is not None:
            return default_max_connections(self.engine, self.database_class)
        return None


@dataclass(frozen=True)
class Figure:
    """One computed figure, its value and the arithmetic behind it."""

    name: str
    value: Any
    basis: str


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def concurrency(i: CapacityInputs) -> float | None:
    """Execution environments busy at once: requests per second x seconds per request."""
    if i.requests_per_second is None or i.avg_duration_ms is None:
        return None
    return i.requests_per_second * i.avg_duration_ms / 1000


def scale_up_seconds(target: int) -> float:
    """Seconds from zero to ``target`` environments: 1,000 at once, then 1,000 per 10 s."""
    return max(0, target - SCALING_BURST) / SCALING_PER_SECOND


def queue_drain_seconds(backlog_jobs: int, job_duration_ms: float, max_concurrency: int
                        ) -> float:
    """Seconds to work off ``backlog_jobs`` with ``max_concurrency`` workers at full speed."""
    return backlog_jobs * job_duration_ms / 1000 / max_concurrency


def _scaling(i: CapacityInputs, load: float | None) -> tuple[list[Figure], int | None]:
    """The scale-up figures, and the environments the web function reaches (None: unknown)."""
    target = i.target_concurrency if i.target_concurrency is not None else (
        math.ceil(load) if load is not None else None)
    if target is None:
        return [], None
    ceiling = i.account_concurrency if i.reserved_concurrency is None else min(
        i.account_concurrency, i.reserved_concurrency)
    reached = min(target, ceiling)
    source = "--target-concurrency" if i.target_concurrency is not None else "ceil(concurrency)"
    cap = f"--account-concurrency {i.account_concurrency:,}" + (
        f", --reserved-concurrency {i.reserved_concurrency:,}"
        if i.reserved_concurrency is not None else "")
    figures = [
        Figure("target_concurrency", target, source),
        Figure("reachable_concurrency", reached, f"min(target, {cap})"),
        Figure("exceeds_account_concurrency", target > i.account_concurrency,
               f"{target:,} > {i.account_concurrency:,}: the rest is throttled (429) until the "
               "quota is raised" if target > i.account_concurrency else
               f"{target:,} <= {i.account_concurrency:,}"),
        Figure("throttled_concurrency", target - reached, "target - reachable"),
        Figure("scale_up_seconds", scale_up_seconds(reached),
               f"max(0, {reached:,} - {SCALING_BURST:,}) / {SCALING_PER_SECOND:g} per s "
               "(1,000 environments per function every 10 s)"),
    ]
    if reached < target:
        figures.append(Figure("scale_up_seconds_to_target", scale_up_seconds(target),
                              f"max(0, {target:,} - {SCALING_BURST:,}) / "
                              f"{SCALING_PER_SECOND:g} per s, once the caps allow {target:,}"))
    return figures, reached


def _connections(i: CapacityInputs, web: int | None) -> list[Figure]:
    """Database connections opened without a proxy, and through RDS Proxy's limit."""
    maximum = i.database_max_connections()
    consumers = [Consumer(name, cap) for name, cap in (("web", web),
                                                       ("worker", i.max_concurrency))
                 if cap is not None]
    if maximum is None or not consumers:
        return []
    budget = compute_budget(consumers, max_connections=maximum,
                            max_connections_percent=i.max_connections_percent,
                            connections_per_environment=i.connections_per_environment)
    demand = budget.total
    names = " + ".join(f"{c.name} {c.cap:,}" for c in consumers)
    through_proxy = min(demand, budget.limit)
    return [
        Figure("max_connections", maximum, "--max-connections" if i.max_connections
               is not None else f"RDS default for {i.engine} on {i.database_class}"),
        Figure("connections_without_proxy", demand,
               f"({names}) x {i.connections_per_environment} per environment, each straight "
               "to the database"),
        Figure("fits_without_proxy", demand <= maximum,
               f"{demand:,} {'<=' if demand <= maximum else '>'} {maximum:,}"),
        Figure("proxy_connection_limit", budget.limit,
               f"{maximum:,} x {i.max_connections_percent}%"),
        Figure("connections_with_proxy", through_proxy, f"min({demand:,}, {budget.limit:,})"),
        Figure("waiting_for_proxy", demand - through_proxy,
               "clients the proxy queues (borrow timeout) instead of refusing"),
    ]


def _drain(i: CapacityInputs) -> list[Figure]:
    if None in (i.backlog_jobs, i.job_duration_ms, i.max_concurrency):
        return []
    seconds = queue_drain_seconds(i.backlog_jobs, i.job_duration_ms, i.max_concurrency)
    return [Figure("queue_drain_seconds", seconds,
                   f"{i.backlog_jobs:,} jobs x {_fmt(i.job_duration_ms)} ms / "
                   f"{i.max_concurrency} workers")]


@dataclass(frozen=True)
class Capacity:
    """The figures the inputs allowed, in order."""

    inputs: CapacityInputs
    figures: tuple[Figure, ...]

    def to_json(self) -> dict[str, Any]:
        """``{figure name: value}`` for every computed figure."""
        return {f.name: f.value for f in self.figures}

    def __getitem__(self, name: str) -> Any:
        return self.to_json()[name]


def capacity(inputs: CapacityInputs) -> Capacity:
    """Compute every figure whose inputs are given."""
    load = concurrency(inputs)
    figures: list[Figure] = []
    if load is not None:
        figures.append(Figure("concurrency", load,
                              f"{_fmt(inputs.requests_per_second)} rps x "
                              f"{_fmt(inputs.avg_duration_ms)} ms / 1000"))
    scaling, web = _scaling(inputs, load)
    figures += scaling
    figures += _connections(inputs, web)
    figures += _drain(inputs)
    return Capacity(inputs, tuple(figures))

"""The connection budget: how many database connections Lambda may open, against what RDS allows.

Each Lambda execution environment holds its own connections (Laravel keeps one PDO connection
per database connection name), so the worst case is the sum, over every function that reaches
the database, of its concurrency cap times the connections each environment opens. RDS Proxy
multiplexes, but it opens at most ``max_connections x max_connections_percent / 100`` to the
database and makes the rest wait (then fail after ``connection_borrow_timeout``).

Pure Python: no CDK engine is loaded, so docs and the CLI can print a budget.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..checks import check_int
from ..errors import BudgetWarning, ConfigurationError, config_error

GIB = 1024 ** 3

# RDS default parameter groups: max_connections formulas (DBInstanceClassMemory in bytes).
#   PostgreSQL: LEAST({DBInstanceClassMemory/9531392}, 5000)
#   MySQL/MariaDB: {DBInstanceClassMemory/12582880}
POSTGRES_DIVISOR = 9_531_392
POSTGRES_CEILING = 5_000
MYSQL_DIVISOR = 12_582_880

_SIZES_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32,
              "4xlarge": 64}
_GENERAL = ("t3", "t4g", "m5", "m6g", "m6i", "m7g")
_MEMORY_OPTIMIZED = ("r5", "r6g", "r6i", "r7g")


def _instance_memory() -> dict[str, int]:
    """Nominal memory in GiB of common RDS classes (db.t4g.micro .. db.r7g.4xlarge)."""
    table: dict[str, int] = {}
    for family in _GENERAL:
        burstable = family.startswith("t")
        for size, gib in _SIZES_GIB.items():
            if burstable and size == "4xlarge":
                continue
            if not burstable and size in ("micro", "small", "medium"):
                continue
            table[f"db.{family}.{size}"] = gib
    for family in _MEMORY_OPTIMIZED:
        for size in ("large", "xlarge", "2xlarge", "4xlarge"):
            table[f"db.{family}.{size}"] = _SIZES_GIB[size] * 2
    return table


INSTANCE_MEMORY_GIB: Mapping[str, int] = _instance_memory()
ENGINES = ("postgres", "mysql")


def default_max_connections(engine: str, instance_class: str) -> int:
    """RDS's default ``max_connections`` for ``engine`` on ``instance_class``.

    Computed from the class's nominal memory: DBInstanceClassMemory is somewhat lower (RDS keeps
    memory for the OS and its agents), so this is an upper bound; pass the real value
    (``SHOW max_connections``) as ``max_connections=`` when it matters.
    """
    if engine not in ENGINES:
        raise config_error("connection budget", "engine", engine,
                           f"must be one of {list(ENGINES)}", "pass 'postgres' or 'mysql'")
    gib = INSTANCE_MEMORY_GIB.get(instance_class)
    if gib is None:
        raise config_error(
            "connection budget", "instance_class", instance_class,
            "is not in the table of known RDS classes",
            "pass max_connections= (the value of SHOW max_connections on the database)",
        )
    memory = gib * GIB
    if engine == "postgres":
        return min(memory // POSTGRES_DIVISOR, POSTGRES_CEILING)
    return memory // MYSQL_DIVISOR


@dataclass(frozen=True)
class Consumer:
    """One function reaching the database and what caps its concurrency.

    ``reserved_concurrency`` is the function's reserved concurrency; ``maximum_concurrency`` the
    SQS event source's cap. Either bounds the number of environments, so the cap is the lower.
    """

    name: str
    reserved_concurrency: int | None = None
    maximum_concurrency: int | None = None

    @property
    def cap(self) -> int | None:
        """How many environments may run at once; None when nothing bounds it."""
        caps = [c for c in (self.reserved_concurrency, self.maximum_concurrency) if c is not None]
        return min(caps) if caps else None


@dataclass(frozen=True)
class ConnectionBudget:
    """The computed budget: each consumer's cap and connections, their sum, the proxy's limit."""

    consumers: tuple[Consumer, ...]
    connections_per_environment: int
    max_connections: int
    max_connections_percent: int

    @property
    def limit(self) -> int:
        """Connections the proxy may open to the database."""
        return self.max_connections * self.max_connections_percent // 100

    def connections(self, consumer: Consumer) -> int | None:
        cap = consumer.cap
        return None if cap is None else cap * self.connections_per_environment

    @property
    def total(self) -> int:
        """Connections the capped consumers may ask for at once."""
        return sum(self.connections(c) or 0 for c in self.consumers)

    @property
    def uncapped(self) -> tuple[str, ...]:
        """Consumers nothing bounds: each may scale to the account's concurrency limit."""
        return tuple(c.name for c in self.consumers if c.cap is None)

    @property
    def over_budget(self) -> bool:
        return bool(self.uncapped) or self.total > self.limit

    def describe(self) -> str:
        """A table of the numbers, for error messages, docs and the CLI."""
        per = self.connections_per_environment
        lines = [f"{'function':<40} {'cap':>6} {'connections':>12}"]
        for consumer in self.consumers:
            cap = consumer.cap
            shown = "none" if cap is None else str(cap)
            used = "unbounded" if cap is None else str(cap * per)
            lines.append(f"{consumer.name:<40} {shown:>6} {used:>12}")
        total = "unbounded" if self.uncapped else str(self.total)
        lines.append(f"{'sum (x ' + str(per) + ' per environment)':<47} {total:>12}")
        lines.append(
            f"{'proxy limit':<40} {self.limit:>19} "
            f"(max_connections {self.max_connections} x {self.max_connections_percent}%)"
        )
        return "\n".join(lines)


def compute_budget(
    consumers: Iterable[Consumer],
    *,
    max_connections: int,
    max_connections_percent: int = 100,
    connections_per_environment: int = 1,
) -> ConnectionBudget:
    """The budget of ``consumers`` against a proxy opening ``max_connections_percent`` of RDS's."""
    _positive("max_connections", max_connections, 1, 262_143)
    _positive("max_connections_percent", max_connections_percent, 1, 100)
    _positive("connections_per_environment", connections_per_environment, 1, 100)
    return ConnectionBudget(tuple(consumers), connections_per_environment, max_connections,
                            max_connections_percent)


def _positive(prop: str, value: Any, low: int, high: int) -> None:
    check_int("connection budget", prop, value, low, high)


def budget_error(budget: ConnectionBudget, where: str) -> ConfigurationError | None:
    """The error describing an over-subscribed budget, with its numbers and knobs; else None."""
    if not budget.over_budget:
        return None
    if budget.uncapped:
        rule = (f"{', '.join(budget.uncapped)} reach the database with no concurrency cap, so "
                "they can scale to the account's limit (1,000 by default) and open that many "
                "connections")
        fix = ("set reserved_concurrency on each such function (and maximum_concurrency on "
               "queue workers)")
    else:
        rule = (f"{budget.total} connections may be opened at once but the proxy may open "
                f"{budget.limit}")
        fix = ("lower reserved_concurrency of web/console functions, lower maximum_concurrency "
               f"of queue workers, raise max_connections_percent (now "
               f"{budget.max_connections_percent}), or choose a larger instance class; "
               "pass allow_over_budget=True to only warn")
    return config_error("DatabaseProxy", "connection budget",
                        f"{budget.total if not budget.uncapped else 'unbounded'} > "
                        f"{budget.limit}",
                        f"at {where}: {rule}\n{budget.describe()}\n", fix,
                        kind="uncapped" if budget.uncapped else "exceeded")


def check_budget(budget: ConnectionBudget, where: str, *, allow_over_budget: bool = False) -> None:
    """Raise the budget error, or only warn (``BudgetWarning``) when the user allows it."""
    if not isinstance(allow_over_budget, bool):  # "false" would be truthy: warn, not raise
        raise config_error(where, "allow_over_budget", allow_over_budget,
                           "must be True or False (a bool)",
                           "pass allow_over_budget=True or allow_over_budget=False")
    error = budget_error(budget, where)
    if error is None:
        return
    if not allow_over_budget:
        raise error
    warnings.warn(str(error), BudgetWarning, stacklevel=2)


_EVENT_SOURCE_CAPS: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()


def register_event_source(function: Any, source: str, maximum_concurrency: int) -> None:
    """Record that an event source (``source``) runs ``function`` at most this many at once."""
    _EVENT_SOURCE_CAPS.setdefault(function, {})[source] = maximum_concurrency


def consumer_of(function: Any) -> Consumer:
    """A PhpFunction as a Consumer: its reserved concurrency and its event sources' caps."""
    sources = _EVENT_SOURCE_CAPS.get(function)
    maximum = sum(sources.values()) if sources else None
    return Consumer(function.function_name, function.reserved_concurrency, maximum)

"""The decision, with numbers: both designs synthesized, scanned, compared, priced and sized.

Everything here is computed from what the other tools produce (the synthesized stacks, the
security comparison, the cost and capacity models), so the decision record's figures can be
regenerated and checked for drift (:mod:`.adr`). Pure: no CLI, no AWS SDK, no CDK engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..build.bref import BREF_MAJORS, PHP_END_OF_LIFE, layer_names
from . import capacity as capacity_model
from . import cost as cost_model
from .connection_budget import ConnectionBudget
from .stack_facts import instance_class, resources_by_service, stack_budget

if TYPE_CHECKING:
    from .compare import Comparison

SCHEMA = "serverless-laravel/decision/1"
PROFILES = ("low-traffic internal", "mid-traffic public", "high-traffic public")
"""The traffic profiles the decision prices (see :func:`.cost.profiles`)."""
CHART_PROFILE = "mid-traffic public"
BURST_INVOCATIONS = 3_000
"""The team's question: 3,000 simultaneous invocations against the database."""

SECURITY_ROWS: tuple[tuple[str, str], ...] = (
    ("checkov_passed", "checkov checks passed"),
    ("checkov_failed", "checkov checks failed (outside the reviewed skip list)"),
    ("wildcard_actions", "IAM wildcard actions"),
    ("resource_star_actions", "IAM actions allowed on Resource *"),
    ("privilege_escalation", "privilege-escalation paths"),
    ("credentials_exposure", "credentials-exposure actions without resource constraint"),
    ("public_endpoints", "public endpoints"),
    ("world_open_ingress", "security-group rules open to the internet"),
    ("public_ips", "resources holding public IPs"),
    ("in_transit_not_enforced", "resources not enforcing TLS in transit"),
    ("plaintext_secrets", "secret-like values in plaintext"),
)


@dataclass(frozen=True)
class Scaling:
    """One load: the environments it needs and how fast Lambda gets there."""

    label: str
    requests_per_second: float
    figures: capacity_model.Capacity


@dataclass(frozen=True)
class Decision:
    """Every number the decision rests on, for two designs."""

    serverless: str
    baseline: str
    resources: dict[str, dict[str, int]]
    security: dict[str, dict[str, int]]
    budget: ConnectionBudget | None
    database_class: str | None
    estimates: dict[str, cost_model.Estimate]
    scaling: tuple[Scaling, ...]
    burst: capacity_model.Capacity

    def to_json(self) -> dict[str, Any]:
        """Everything, keyed for scripts (``serverless-laravel decide --json``)."""
        budget = None if self.budget is None else {
            "consumers": {c.name: c.cap for c in self.budget.consumers},
            "total": self.budget.total, "limit": self.budget.limit,
            "max_connections": self.budget.max_connections,
            "max_connections_percent": self.budget.max_connections_percent}
        return {
            "schema": SCHEMA, "stacks": {"serverless": self.serverless,
                                         "baseline": self.baseline},
            "resources": self.resources, "security": self.security,
            "connection_budget": budget, "database_class": self.database_class,
            "cost": {name: {**e.to_json(), "requests_per_month": e.inputs.requests_per_month}
                     for name, e in self.estimates.items()},
            "prices_version": next(iter(self.estimates.values())).prices.version,
            "scaling": {s.label: s.figures.to_json() for s in self.scaling},
            "burst": self.burst.to_json(),
        }


def _scaling(name: str, inputs: cost_model.CostInputs) -> Scaling:
    """The profile's dynamic peak as Lambda concurrency, with no cap: what Lambda must reach."""
    rps = inputs.peak * (1 - inputs.static_share)
    figures = capacity_model.capacity(capacity_model.CapacityInputs(
        requests_per_second=rps, avg_duration_ms=inputs.avg_duration_ms))
    return Scaling(name, rps, figures)


def _burst(budget: ConnectionBudget | None, database_class: str | None
           ) -> capacity_model.Capacity:
    """3,000 environments at once against the stack's database, with and without the proxy."""
    percent = budget.max_connections_percent if budget is not None else 100
    return capacity_model.capacity(capacity_model.CapacityInputs(
        target_concurrency=BURST_INVOCATIONS, account_concurrency=BURST_INVOCATIONS,
        database_class=database_class, max_connections=None if database_class else
        (budget.max_connections if budget else None), max_connections_percent=percent))


def decide(stacks: Mapping[str, Mapping[str, Any]], comparison: Comparison, *,
           serverless: str, baseline: str,
           prices: cost_model.PriceTable | None = None,
           profiles: Sequence[str] = PROFILES) -> Decision:
    """Gather the decision from synthesized stacks (name -> Terraform JSON) and their
    comparison (``serverless-laravel compare``)."""
    table = prices if prices is not None else cost_model.load_prices()
    known = cost_model.profiles()
    estimates = {name: cost_model.estimate(known[name], table) for name in profiles}
    doc = stacks[serverless]
    budget = stack_budget(doc)
    database = instance_class(doc)
    return Decision(
        serverless=serverless, baseline=baseline,
        resources={name: resources_by_service(stacks[name]) for name in (serverless, baseline)},
        security={d.stack: d.headline() for d in comparison.designs},
        budget=budget, database_class=database, estimates=estimates,
        scaling=tuple(_scaling(name, known[name]) for name in profiles),
        burst=_burst(budget, database))


# Markdown ------------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _count(value: float | None) -> str:
    return "none" if value is None else f"{value:,.0f}"


def _seconds(value: float) -> str:
    return f"{value:,.0f} s"


def resources_block(d: Decision) -> str:
    services = sorted(set(d.resources[d.serverless]) | set(d.resources[d.baseline]))
    rows = [(s, d.resources[d.serverless].get(s, 0) or "-", d.resources[d.baseline].get(s, 0)
             or "-") for s in services]
    rows.append(("**total**", sum(d.resources[d.serverless].values()),
                 sum(d.resources[d.baseline].values())))
    return _table(["AWS service", f"`{d.serverless}`", f"`{d.baseline}`"], rows)


def php81_block() -> str:
    bref2, bref3 = BREF_MAJORS[2], BREF_MAJORS[3]
    rows = []
    for kind, runtime in (("web (PHP-FPM)", "fpm"), ("queue worker, handlers", "function"),
                          ("console (artisan)", "console")):
        rows.append((kind,
                     " + ".join(f"`{n}`" for n in layer_names(2, "8.1", runtime, "x86_64")),
                     " + ".join(f"`{n}`" for n in layer_names(2, "8.1", runtime, "arm64")),
                     " + ".join(f"`{n}`" for n in layer_names(3, "8.4", runtime, "arm64"))
                     + f" (`BREF_RUNTIME={runtime}`)"))
    table = _table(["function", "PHP 8.1 on Bref 2, x86_64", "PHP 8.1 on Bref 2, arm64",
                    "after the upgrade: PHP 8.4 on Bref 3, arm64"], rows)
    return (table + f"\nBref 2 layers come from account {bref2.account} on "
            f"`{bref2.lambda_runtime}`; Bref 3 layers from {bref3.account} on "
            f"`{bref3.lambda_runtime}`. PHP 8.1's end of life: {PHP_END_OF_LIFE['8.1']}.\n")


def cost_block(d: Decision) -> str:
    rows = []
    for name, e in d.estimates.items():
        cheaper = "serverless" if e.serverless_total < e.fargate_total else "Fargate"
        rows.append((name, _count(e.inputs.requests_per_month), _usd(e.serverless_total),
                     _usd(e.fargate_total), cheaper,
                     _count(e.break_even_requests_per_month)))
    table = _table(["profile", "requests / month", "serverless / month", "Fargate / month",
                    "cheaper", "break-even requests / month"], rows)
    chart = d.estimates.get(CHART_PROFILE) or next(iter(d.estimates.values()))
    items = _table(
        ["line item", "serverless", "Fargate"],
        _item_rows(chart))
    version = chart.prices.version
    return (f"{table}\nWhere the money goes in the {CHART_PROFILE!r} profile (USD per month, "
            f"prices `{version}`):\n\n{items}")


def _item_rows(e: cost_model.Estimate) -> list[tuple[str, str, str]]:
    serverless = {i.name: i.usd for i in e.serverless}
    fargate = {i.name: i.usd for i in e.fargate}
    names = list(serverless) + [n for n in fargate if n not in serverless]
    rows = [(f"`{n}`", _usd(serverless[n]) if n in serverless else "-",
             _usd(fargate[n]) if n in fargate else "-") for n in names]
    rows.append(("**total**", _usd(e.serverless_total), _usd(e.fargate_total)))
    return rows


def capacity_block(d: Decision) -> str:
    rows = []
    for s in d.scaling:
        f = s.figures.to_json()
        rows.append((s.label, f"{s.requests_per_second:,.1f}", _count(f["target_concurrency"]),
                     "yes" if f["exceeds_account_concurrency"] else "no",
                     _seconds(f.get("scale_up_seconds_to_target", f["scale_up_seconds"]))))
    burst = d.burst.to_json()
    rows.append((f"{BURST_INVOCATIONS:,} simultaneous invocations", "-",
                 _count(burst["target_concurrency"]),
                 "yes" if BURST_INVOCATIONS > capacity_model.DEFAULT_ACCOUNT_CONCURRENCY
                 else "no", _seconds(burst["scale_up_seconds"])))
    return _table(["load", "dynamic requests / s at peak", "environments needed",
                   "over the default 1,000 account limit", "time from zero"], rows)


def connections_block(d: Decision) -> str:
    if d.budget is None:
        return "The serverless stack has no database behind RDS Proxy.\n"
    burst = d.burst.to_json()
    budget = d.budget
    rows = [(f"`{c.name}`", _count(c.cap), _count(budget.connections(c)))
            for c in budget.consumers]
    rows.append(("**sum**", "", _count(budget.total)))
    rows.append((f"proxy limit ({budget.max_connections:,} x "
                 f"{budget.max_connections_percent}%)", "", _count(budget.limit)))
    caps = _table(["function", "concurrency cap", "connections at most"], rows)
    return (
        f"{caps}\nWithout the caps, {BURST_INVOCATIONS:,} simultaneous invocations on "
        f"`{d.database_class}` ask for {_count(burst['connections_without_proxy'])} "
        f"connections against `max_connections` {_count(burst['max_connections'])}: without "
        f"the proxy the excess is refused; through it, "
        f"{_count(burst['connections_with_proxy'])} are opened and "
        f"{_count(burst['waiting_for_proxy'])} clients wait for a connection. With the caps, "
        f"at most {_count(budget.total)} are ever asked for, "
        f"{budget.limit - budget.total:,} under the proxy's limit.\n")


def security_block(d: Decision) -> str:
    rows = [(label, d.security[d.serverless][key], d.security[d.baseline][key])
            for key, label in SECURITY_ROWS]
    return _table(["measure", f"`{d.serverless}`", f"`{d.baseline}`"], rows)


def summary_rows(d: Decision) -> list[tuple[str, str, str]]:
    """(measure, serverless, Fargate) rows: the one-screen summary ``make demo`` prints."""
    s, b = d.security[d.serverless], d.security[d.baseline]
    rows = [
        ("checkov failures (unskipped)", str(s["checkov_failed"]), str(b["checkov_failed"])),
        ("internet-open security-group rules", str(s["world_open_ingress"]),
         str(b["world_open_ingress"])),
        ("resources holding public IPs", str(s["public_ips"]), str(b["public_ips"])),
        ("IAM actions on Resource *", str(s["resource_star_actions"]),
         str(b["resource_star_actions"])),
        ("resources in the stack", str(sum(d.resources[d.serverless].values())),
         str(sum(d.resources[d.baseline].values()))),
    ]
    for name, e in d.estimates.items():
        rows.append((f"cost, {name} ({_count(e.inputs.requests_per_month)} req/month)",
                     _usd(e.serverless_total), _usd(e.fargate_total)))
    chart = d.estimates.get(CHART_PROFILE) or next(iter(d.estimates.values()))
    rows.append((f"break-even, {CHART_PROFILE!r} (requests / month)",
                 _count(chart.break_even_requests_per_month), ""))
    burst = d.burst.to_json()
    rows.append((f"time from zero to {BURST_INVOCATIONS:,} environments",
                 _seconds(burst["scale_up_seconds"]), ""))
    if d.budget is not None:
        rows.append(("database connections at most / proxy limit",
                     f"{d.budget.total:,} / {d.budget.limit:,}", ""))
    return rows


def summary_block(d: Decision) -> str:
    return _table(["measure", f"serverless (`{d.serverless}`)", f"Fargate (`{d.baseline}`)"],
                  [(m, sv, fv or "-") for m, sv, fv in summary_rows(d)])


def blocks(d: Decision) -> dict[str, str]:
    """Every generated block of the decision record, by name."""
    return {"summary": summary_block(d), "resources": resources_block(d),
            "php81": php81_block(), "cost": cost_block(d), "capacity": capacity_block(d),
            "connections": connections_block(d), "security": security_block(d)}


def report(d: Decision) -> str:
    """A standalone Markdown report of every block (``make demo`` writes it)."""
    titles = {"summary": "Summary", "resources": "Resources by service",
              "php81": "PHP 8.1 layers and the upgrade", "cost": "Cost per month",
              "capacity": "Scaling", "connections": "Database connections",
              "security": "Security"}
    parts = [f"# The decision, with numbers: `{d.serverless}` against `{d.baseline}`\n"]
    for name, body in blocks(d).items():
        parts.append(f"## {titles[name]}\n\n{body}")
    parts.append("![Monthly cost against traffic](cost-vs-traffic.png)\n")
    return "\n".join(parts)

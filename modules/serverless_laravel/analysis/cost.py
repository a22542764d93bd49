"""The monthly cost of the serverless stack beside the Fargate baseline, for one traffic profile.

Pure arithmetic over a dated price table (``prices.json`` beside this module, overridable with
a file): every line item is quantity x unit price, in USD per month of 730 hours. Both designs
carry the same shared pieces (WAF, SQS, logs, NAT, database, proxy, cache) so the difference is
the compute and the front door: Lambda + HTTP API + CloudFront against Fargate tasks + ALB.
No free tier unless ``free_tier=True``. ``docs/cost.md`` gives every formula and default.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..checks import check_choice
from ..errors import ConfigurationError, config_error

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GIB_PER_KB = 1 / (1024 * 1024)
ARCHITECTURES = ("x86_64", "arm64")
FARGATE_VCPUS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
# Fargate's memory range (GB) per vCPU size.
FARGATE_MEMORY = {0.25: (0.5, 2), 0.5: (1, 4), 1.0: (2, 8), 2.0: (4, 16), 4.0: (8, 30),
                  8.0: (16, 60), 16.0: (32, 120)}
# The baseline's ScheduledTask (256 CPU units / 512 MiB); Fargate bills a 1-minute minimum.
SCHEDULE_TASK_VCPU, SCHEDULE_TASK_GB, FARGATE_MINIMUM_SECONDS = 0.25, 0.5, 60
# constructs/waf.py: one rate rule and six AWS managed rule groups on each web ACL.
WAF_RULES = 7
# The baseline's ALB sits in two public subnets: one public IPv4 address each.
ALB_PUBLIC_ADDRESSES = 2
SQS_REQUESTS_PER_JOB = 3  # SendMessage, ReceiveMessage, DeleteMessage (jobs up to 64 KB)
CACHE_MINIMUM_GB = 0.1  # ElastiCache Serverless Valkey bills at least 100 MB
PROXY_MINIMUM_VCPUS = 2
ALB_NEW_CONNECTIONS_PER_LCU = 25  # per second; one LCU also covers 1 GB processed per hour
# Free tier (only with free_tier=True): monthly allowances.
FREE_LAMBDA_REQUESTS, FREE_LAMBDA_GB_SECONDS = 1_000_000, 400_000
FREE_HTTP_API_REQUESTS = 1_000_000  # the first 12 months of a new account only
FREE_CLOUDFRONT_REQUESTS, FREE_CLOUDFRONT_GB = 10_000_000, 1024
FREE_SQS_REQUESTS, FREE_LOG_GB, FREE_INTERNET_GB = 1_000_000, 5, 100
# The break-even is searched from 0 to this many requests per month (~380,000 per second).
BREAK_EVEN_CEILING = 1e12

PRICES_FILE = Path(__file__).with_name("prices.json")
PRICES_SCHEMA = "serverless-laravel/prices/1"
WHERE = "cost"


@dataclass(frozen=True)
class Spec:
    """The range of one numeric input, its unit, and the CLI flag that sets it."""

    low: float
    high: float
    integer: bool = False
    unit: str = ""

    def check(self, name: str, value: Any, where: str = WHERE) -> None:
        """Raise a ConfigurationError naming ``name``'s flag unless ``value`` is in range."""
        ok_type = isinstance(value, int) if self.integer else isinstance(value, (int, float))
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool) or not ok_type or not (
                math.isfinite(value) and self.low <= value <= self.high):
            kind = "an integer" if self.integer else "a number"
            raise config_error(
                where, name, value,
                f"must be {kind} from {self.low:g} to {self.high:g} {self.unit}".rstrip(),
                f"pass {flag} within {self.low:g}..{self.high:g}", kind="range")


SPECS: Mapping[str, Spec] = {
    "requests_per_month": Spec(0, 1e12, True, "requests"),
    "avg_duration_ms": Spec(1, 900_000, unit="ms (Lambda's 15-minute limit)"),
    "memory_mb": Spec(128, 10_240, True, "MB (Lambda's range)"),
    "static_share": Spec(0, 1, unit="(a fraction of requests)"),
    "peak_rps": Spec(0, 1e7, unit="requests per second"),
    "payload_kb": Spec(0, 6144, unit="KB (API Gateway's 6 MB response limit)"),
    "queue_jobs_per_month": Spec(0, 1e12, True, "jobs"),
    "job_duration_ms": Spec(1, 900_000, unit="ms"),
    "nat_gb": Spec(0, 1e7, unit="GB per month"),
    "log_gb": Spec(0, 1e7, unit="GB per month"),
    "task_vcpu": Spec(0.25, 16, unit="vCPU"),
    "task_memory_gb": Spec(0.5, 120, unit="GB"),
    "min_tasks": Spec(1, 1000, True, "tasks"),
    "max_tasks": Spec(1, 1000, True, "tasks"),
    "worker_min_tasks": Spec(1, 1000, True, "tasks"),
    "task_rps": Spec(0.1, 100_000, unit="requests per second per task"),
    "schedule_runs_per_month": Spec(0, 10_000_000, True, "runs"),
    "schedule_duration_ms": Spec(1, 900_000, unit="ms"),
    "database_storage_gb": Spec(20, 65_536, True, "GB"),
    "cache_gb": Spec(0, 5000, unit="GB stored on average"),
    "cache_ops_per_request": Spec(0, 1000, unit="cache commands per request or job"),
    "nat_gateways": Spec(0, 16, True, "gateways"),
}


@dataclass(frozen=True)
class CostInputs:
    """A traffic profile and the sizing of both designs; every field has a default.

    Traffic: ``requests_per_month`` (10M), ``avg_duration_ms`` of a dynamic request (120),
    ``static_share`` answered from CloudFront's cache (0), ``peak_rps`` (None: 3x the month's
    average rate), ``payload_kb`` per response (30). Lambda: ``memory_mb`` (1,024),
    ``architecture`` (x86_64, also the Fargate tasks'). Queue: ``queue_jobs_per_month`` (1M)
    of ``job_duration_ms`` (500). Schedule: ``schedule_runs_per_month`` (43,800: every minute)
    of ``schedule_duration_ms`` (1,000). Fargate: ``task_vcpu`` (0.5) / ``task_memory_gb`` (1)
    for web and worker tasks, ``min_tasks`` (2) / ``max_tasks`` (10) web tasks, each serving
    ``task_rps`` (50) dynamic requests per second at the CPU target, ``worker_min_tasks`` (1).
    Shared: ``database_class`` (db.t4g.medium), ``database_storage_gb`` (20), ``multi_az``
    (False), ``proxy`` (True), ``cache_gb`` (1), ``cache_ops_per_request`` (2),
    ``nat_gateways`` (1), ``nat_gb`` (10), ``log_gb`` (5). ``free_tier`` (False).
    """

    requests_per_month: int = 10_000_000
    avg_duration_ms: float = 120
    memory_mb: int = 1024
    architecture: str = "x86_64"
    static_share: float = 0.0
    peak_rps: float | None = None
    payload_kb: float = 30
    queue_jobs_per_month: int = 1_000_000
    job_duration_ms: float = 500
    nat_gb: float = 10
    log_gb: float = 5
    task_vcpu: float = 0.5
    task_memory_gb: float = 1
    min_tasks: int = 2
    max_tasks: int = 10
    worker_min_tasks: int = 1
    task_rps: float = 50
    schedule_runs_per_month: int = 43_800
    schedule_duration_ms: float = 1000
    database_class: str = "db.t4g.medium"
    database_storage_gb: int = 20
    multi_az: bool = False
    proxy: bool = True
    cache_gb: float = 1
    cache_ops_per_request: float = 2
    nat_gateways: int = 1
    free_tier: bool = False

    def __post_init__(self) -> None:
        for name, spec in SPECS.items():
            value = getattr(self, name)
            if not (name == "peak_rps" and value is None):
                spec.check(name, value)
        check_choice(WHERE, "architecture", self.architecture, ARCHITECTURES)
        for name in ("multi_az", "proxy", "free_tier"):
            if not isinstance(getattr(self, name), bool):
                raise config_error(WHERE, name, getattr(self, name), "must be True or False",
                                   f"pass {name}=True or {name}=False", kind="type")
        if self.max_tasks < self.min_tasks:
            raise config_error(WHERE, "max_tasks", self.max_tasks,
                               f"must be at least min_tasks ({self.min_tasks})",
                               f"pass --max-tasks {self.min_tasks} or more", kind="range")
        self._check_task_size()

    def _check_task_size(self) -> None:
        if self.task_vcpu not in FARGATE_MEMORY:
            raise config_error(WHERE, "task_vcpu", self.task_vcpu,
                               f"must be one of Fargate's sizes {list(FARGATE_VCPUS)}",
                               "pass --task-vcpu 0.25, 0.5, 1, 2, 4, 8 or 16", kind="choice")
        low, high = FARGATE_MEMORY[self.task_vcpu]
        if not low <= self.task_memory_gb <= high:
            raise config_error(WHERE, "task_memory_gb", self.task_memory_gb,
                               f"must be from {low:g} to {high:g} GB with {self.task_vcpu:g} "
                               "vCPU (Fargate's pairs)",
                               f"pass --task-memory-gb within {low:g}..{high:g}",
                               kind="range")

    @property
    def dynamic_requests(self) -> float:
        """Requests that reach the web function (the rest CloudFront answers from cache)."""
        return self.requests_per_month * (1 - self.static_share)

    @property
    def average_rps(self) -> float:
        return self.requests_per_month / SECONDS_PER_MONTH

    @property
    def peak(self) -> float:
        """The peak rate: given, or 3x the month's average."""
        return self.peak_rps if self.peak_rps is not None else 3 * self.average_rps


@dataclass(frozen=True)
class Price:
    """One line of the price table: the figure, its unit, where it comes from and when."""

    key: str
    price: float
    unit: str = ""
    source: str = ""
    date: str = ""
    third_party: bool = True


@dataclass(frozen=True)
class PriceTable:
    """A versioned, dated table of unit prices (us-east-1, USD)."""

    version: str
    region: str
    lines: Mapping[str, Price]

    def __getitem__(self, key: str) -> float:
        return self.lines[key].price

    def database_hour(self, instance_class: str) -> float:
        key = f"rds_hour.{instance_class}"
        if key not in self.lines:
            known = sorted(k.split(".", 1)[1] for k in self.lines if k.startswith("rds_hour."))
            raise config_error(WHERE, "database_class", instance_class,
                               f"has no price in the table (priced: {', '.join(known)})",
                               f"pass one of those, or add \"{key}\" to a --prices file",
                               kind="choice")
        return self[key]


def _price_error(path: str, key: str, value: Any, rule: str, fix: str) -> ConfigurationError:
    return config_error(f"prices file {path}", key, value, rule, fix, kind="invalid")


def _price_line(path: str, key: str, raw: Any, base: Price | None) -> Price:
    """One price line from a file: a bare number, or an object with ``price`` and its source."""
    entry = raw if isinstance(raw, dict) else {"price": raw}
    unknown = set(entry) - {"price", "unit", "source", "date", "third_party"}
    if unknown:
        raise _price_error(path, f"prices.{key}", raw, f"has unknown fields {sorted(unknown)}",
                           "give a number, or {\"price\": N, \"unit\", \"source\", \"date\"}")
    value = entry.get("price")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value >= 0):
        unit = f" ({base.unit})" if base else ""
        raise _price_error(path, f"prices.{key}", value,
                           f"must be a finite number of USD, 0 or more{unit}",
                           f"write e.g. \"{key}\": {base.price if base else 0.1}")
    defaults = base or Price(key, 0.0, source=f"{path}", date="")
    return Price(key, float(value), entry.get("unit", defaults.unit),
                 entry.get("source", f"override: {path}"), entry.get("date", defaults.date),
                 bool(entry.get("third_party", defaults.third_party)))


def load_prices(override: str | Path | None = None) -> PriceTable:
    """The shipped price table, with the lines of ``override`` (a JSON file) replacing its own.

    The override has the table's shape (``{"prices": {"<key>": <number or object>}}``, any
    subset of keys; ``rds_hour.<class>`` lines may be added); a bad key or value raises a
    ConfigurationError naming it.
    """
    base = json.loads(PRICES_FILE.read_text())
    lines = {key: Price(key, **entry) for key, entry in base["prices"].items()}
    version = base["version"]
    if override is not None:
        path = str(override)
        doc = _read_override(path)
        for key, raw in doc["prices"].items():
            if key not in lines and not key.startswith("rds_hour.db."):
                raise _price_error(path, f"prices.{key}", raw, "is not a price this model uses",
                                   f"use one of: {', '.join(sorted(lines))}")
            lines[key] = _price_line(path, key, raw, lines.get(key))
        version = f"{version}+{doc.get('version', Path(path).name)}"
    return PriceTable(version, base["region"], lines)


def _read_override(path: str) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise _price_error(path, "file", path, f"cannot be read as JSON ({error})",
                           "pass a JSON file shaped like analysis/prices.json") from error
    if not isinstance(doc, dict) or not isinstance(doc.get("prices"), dict):
        raise _price_error(path, "prices", doc if not isinstance(doc, dict) else
                           doc.get("prices"), "must be an object of price lines",
                           "write {\"prices\": {\"lambda_requests_per_million\": 0.2}}")
    extra = set(doc) - {"schema", "version", "region", "currency", "note", "prices"}
    if extra:
        raise _price_error(path, "top-level keys", sorted(extra), "are not part of the table",
                           "keep only schema, version, region, currency, note and prices")
    return doc


@dataclass(frozen=True)
class LineItem:
    """One service's monthly cost and how it was computed."""

    name: str
    usd: float
    basis: str


@dataclass
class _Allowance:
    """What is left of a monthly free-tier allowance (none without the free tier)."""

    left: float

    def take(self, quantity: float) -> float:
        """The part of ``quantity`` billed after the allowance is used up."""
        free = min(self.left, quantity)
        self.left -= free
        return quantity - free


def _free(inputs: CostInputs, amount: float) -> _Allowance:
    return _Allowance(amount if inputs.free_tier else 0.0)


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.4g}"


def _lambda_items(i: CostInputs, p: PriceTable) -> list[LineItem]:
    gbs_price = p[f"lambda_gb_second_{i.architecture}"]
    gb = i.memory_mb / 1024
    requests, seconds = _free(i, FREE_LAMBDA_REQUESTS), _free(i, FREE_LAMBDA_GB_SECONDS)
    web_gbs = i.dynamic_requests * i.avg_duration_ms / 1000 * gb
    billed_requests, billed_gbs = requests.take(i.dynamic_requests), seconds.take(web_gbs)
    per_m = p["lambda_requests_per_million"]
    items = [
        LineItem("lambda_requests", billed_requests / 1e6 * per_m,
                 f"{_count(billed_requests)} requests x ${per_m}/M"),
        LineItem("lambda_compute", billed_gbs * gbs_price,
                 f"{_count(billed_gbs)} GB-s ({i.avg_duration_ms:g} ms x {gb:g} GB) x "
                 f"${gbs_price}"),
    ]
    for name, runs, ms in (("queue_worker", i.queue_jobs_per_month, i.job_duration_ms),
                           ("scheduler", i.schedule_runs_per_month, i.schedule_duration_ms)):
        n, gbs = requests.take(runs), seconds.take(runs * ms / 1000 * gb)
        items.append(LineItem(name, n / 1e6 * per_m + gbs * gbs_price,
                              f"{_count(n)} invocations + {_count(gbs)} GB-s ({ms:g} ms)"))
    return items


def _front_door_serverless(i: CostInputs, p: PriceTable) -> list[LineItem]:
    api = _free(i, FREE_HTTP_API_REQUESTS).take(i.dynamic_requests)
    cf_requests = _free(i, FREE_CLOUDFRONT_REQUESTS).take(i.requests_per_month)
    gb = _free(i, FREE_CLOUDFRONT_GB).take(i.requests_per_month * i.payload_kb * GIB_PER_KB)
    per_10k, per_gb = p["cloudfront_https_requests_per_10k"], p["cloudfront_data_out_per_gb"]
    return [
        LineItem("http_api", api / 1e6 * p["http_api_requests_per_million"],
                 f"{_count(api)} requests x ${p['http_api_requests_per_million']}/M"),
        LineItem("cloudfront", cf_requests / 1e4 * per_10k + gb * per_gb,
                 f"{_count(cf_requests)} HTTPS requests x ${per_10k}/10k + {_count(gb)} GB x "
                 f"${per_gb}"),
    ]


def _task_hour(i: CostInputs, p: PriceTable, vcpu: float, gb: float) -> float:
    return vcpu * p[f"fargate_vcpu_hour_{i.architecture}"] + gb * p[
        f"fargate_gb_hour_{i.architecture}"]


def average_web_tasks(i: CostInputs) -> float:
    """Web tasks running on average: the dynamic load over ``task_rps``, never below min."""
    return max(float(i.min_tasks), i.dynamic_requests / SECONDS_PER_MONTH / i.task_rps)


def peak_web_tasks(i: CostInputs) -> int:
    """Web tasks the peak needs (rounded up), never below min."""
    return max(i.min_tasks, math.ceil(i.peak * (1 - i.static_share) / i.task_rps))


def _fargate_items(i: CostInputs, p: PriceTable) -> list[LineItem]:
    hour = _task_hour(i, p, i.task_vcpu, i.task_memory_gb)
    web = average_web_tasks(i)
    busy_workers = i.queue_jobs_per_month * i.job_duration_ms / 1000 / SECONDS_PER_MONTH
    workers = max(float(i.worker_min_tasks), busy_workers)
    run_seconds = max(FARGATE_MINIMUM_SECONDS, i.schedule_duration_ms / 1000)
    schedule_hours = i.schedule_runs_per_month * run_seconds / 3600
    processed_gb_hour = i.requests_per_month * i.payload_kb * GIB_PER_KB / HOURS_PER_MONTH
    lcu = max(i.average_rps / ALB_NEW_CONNECTIONS_PER_LCU, processed_gb_hour)
    out_gb = _free(i, FREE_INTERNET_GB).take(i.requests_per_month * i.payload_kb * GIB_PER_KB)
    size = f"{i.task_vcpu:g} vCPU/{i.task_memory_gb:g} GB at ${hour:.5f}/h"
    return [
        LineItem("web_tasks", web * HOURS_PER_MONTH * hour,
                 f"{web:,.2f} tasks on average x {HOURS_PER_MONTH} h, {size}"),
        LineItem("worker_tasks", workers * HOURS_PER_MONTH * hour,
                 f"{workers:,.2f} tasks on average x {HOURS_PER_MONTH} h, {size}"),
        LineItem("scheduler", schedule_hours * _task_hour(i, p, SCHEDULE_TASK_VCPU,
                                                          SCHEDULE_TASK_GB),
                 f"{_count(i.schedule_runs_per_month)} runs x {run_seconds:g} s (1-minute "
                 f"minimum), {SCHEDULE_TASK_VCPU:g} vCPU/{SCHEDULE_TASK_GB:g} GB"),
        LineItem("load_balancer",
                 HOURS_PER_MONTH * (p["alb_hour"] + lcu * p["alb_lcu_hour"]),
                 f"{HOURS_PER_MONTH} h x (${p['alb_hour']} + {lcu:,.3f} LCU x "
                 f"${p['alb_lcu_hour']})"),
        LineItem("public_ipv4", ALB_PUBLIC_ADDRESSES * HOURS_PER_MONTH * p["public_ipv4_hour"],
                 f"{ALB_PUBLIC_ADDRESSES} ALB addresses x {HOURS_PER_MONTH} h x "
                 f"${p['public_ipv4_hour']}"),
        LineItem("data_transfer", out_gb * p["internet_data_out_per_gb"],
                 f"{_count(out_gb)} GB to the internet x ${p['internet_data_out_per_gb']}"),
    ]


def _shared_items(i: CostInputs, p: PriceTable) -> list[LineItem]:
    """The pieces both designs pay for alike."""
    inspected = i.requests_per_month
    sqs = _free(i, FREE_SQS_REQUESTS).take(i.queue_jobs_per_month * SQS_REQUESTS_PER_JOB)
    log_gb = _free(i, FREE_LOG_GB).take(i.log_gb)
    copies = 2 if i.multi_az else 1
    vcpus = max(PROXY_MINIMUM_VCPUS, database_vcpus(i.database_class))
    stored = max(CACHE_MINIMUM_GB, i.cache_gb)
    ecpu = (i.dynamic_requests + i.queue_jobs_per_month) * i.cache_ops_per_request / 1e6
    nat_hours = i.nat_gateways * HOURS_PER_MONTH
    return [
        LineItem("waf", p["waf_web_acl_month"] + WAF_RULES * p["waf_rule_month"]
                 + inspected / 1e6 * p["waf_requests_per_million"],
                 f"1 web ACL + {WAF_RULES} rules + {_count(inspected)} requests x "
                 f"${p['waf_requests_per_million']}/M"),
        LineItem("sqs", sqs / 1e6 * p["sqs_requests_per_million"],
                 f"{_count(sqs)} requests ({SQS_REQUESTS_PER_JOB} per job) x "
                 f"${p['sqs_requests_per_million']}/M"),
        LineItem("logs", log_gb * p["logs_ingested_per_gb"] + i.log_gb * p[
            "logs_stored_per_gb_month"],
                 f"{_count(log_gb)} GB ingested x ${p['logs_ingested_per_gb']} + "
                 f"{_count(i.log_gb)} GB stored x ${p['logs_stored_per_gb_month']}"),
        LineItem("nat", nat_hours * (p["nat_gateway_hour"] + p["public_ipv4_hour"])
                 + i.nat_gb * p["nat_gateway_per_gb"],
                 f"{i.nat_gateways} gateway(s) x {HOURS_PER_MONTH} h (+ its IPv4) + "
                 f"{_count(i.nat_gb)} GB x ${p['nat_gateway_per_gb']}"),
        LineItem("database", copies * (HOURS_PER_MONTH * p.database_hour(i.database_class)
                                       + i.database_storage_gb * p["rds_storage_gb_month"]),
                 f"{i.database_class} x {HOURS_PER_MONTH} h + {i.database_storage_gb} GB gp3"
                 + (" (Multi-AZ: x2)" if i.multi_az else "")),
        LineItem("proxy", HOURS_PER_MONTH * vcpus * p["rds_proxy_vcpu_hour"] if i.proxy else 0.0,
                 f"{vcpus} vCPUs x {HOURS_PER_MONTH} h x ${p['rds_proxy_vcpu_hour']}"
                 if i.proxy else "no proxy"),
        LineItem("cache", stored * HOURS_PER_MONTH * p["cache_valkey_gb_hour"]
                 + ecpu * p["cache_valkey_million_ecpu"],
                 f"{stored:g} GB x {HOURS_PER_MONTH} h + {_count(ecpu)}M ECPUs"),
    ]


_VCPUS_BY_SIZE = {"micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8,
                  "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64}


def database_vcpus(instance_class: str) -> int:
    """vCPUs of an RDS class from its size (db.t4g.medium -> 2); what RDS Proxy bills on."""
    return _VCPUS_BY_SIZE.get(instance_class.rsplit(".", 1)[-1], PROXY_MINIMUM_VCPUS)


def serverless_items(i: CostInputs, p: PriceTable) -> list[LineItem]:
    """Lambda (web, worker, schedule), HTTP API, CloudFront, and the shared pieces."""
    return [*_lambda_items(i, p), *_front_door_serverless(i, p), *_shared_items(i, p)]


def fargate_items(i: CostInputs, p: PriceTable) -> list[LineItem]:
    """Web/worker/schedule tasks, ALB, its addresses, egress, and the shared pieces."""
    return [*_fargate_items(i, p), *_shared_items(i, p)]


def _total(items: list[LineItem]) -> float:
    return sum(item.usd for item in items)


def break_even(i: CostInputs, p: PriceTable) -> int | None:
    """Requests per month at which both designs cost the same; None when the lines never meet.

    Only ``requests_per_month`` moves (every other input stays as given). The search walks a
    grid from 0 to ``BREAK_EVEN_CEILING``, takes the first interval where the cheaper design
    changes, and bisects it to within one request. Both totals are piecewise linear in the
    requests, so the result is exact to that precision.
    """
    def gap(requests: float) -> float:
        j = replace(i, requests_per_month=int(requests), peak_rps=None)
        return _total(serverless_items(j, p)) - _total(fargate_items(j, p))

    grid = [0.0, *(10 ** (k / 20) for k in range(40, 241))]
    previous = gap(grid[0])
    if previous == 0:
        return 0
    for low, high in itertools.pairwise(grid):
        current = gap(high)
        if (previous < 0) != (current < 0) or current == 0:
            return _bisect(gap, low, high, previous < 0)
        previous = current
    return None


def _bisect(gap: Callable[[float], float], low: float, high: float, rising: bool) -> int:
    while high - low > 1:
        middle = math.floor((low + high) / 2)
        if (gap(middle) < 0) == rising:
            low = middle
        else:
            high = middle
    return int(high if abs(gap(high)) <= abs(gap(low)) else low)


@dataclass(frozen=True)
class Estimate:
    """Both designs' line items, their totals and the break-even, for one profile."""

    inputs: CostInputs
    prices: PriceTable
    serverless: tuple[LineItem, ...]
    fargate: tuple[LineItem, ...]
    break_even_requests_per_month: int | None
    notes: tuple[str, ...] = field(default=())

    @property
    def serverless_total(self) -> float:
        return _total(list(self.serverless))

    @property
    def fargate_total(self) -> float:
        return _total(list(self.fargate))

    def to_json(self) -> dict[str, Any]:
        """The issue's shape: items and totals per design (USD per month), the break-even."""
        def design(items: tuple[LineItem, ...]) -> dict[str, Any]:
            return {"items": {it.name: round(it.usd, 2) for it in items},
                    "total": round(_total(list(items)), 2)}

        return {"serverless": design(self.serverless), "fargate": design(self.fargate),
                "break_even_requests_per_month": self.break_even_requests_per_month}


def _notes(i: CostInputs) -> tuple[str, ...]:
    notes = []
    average = i.dynamic_requests / SECONDS_PER_MONTH / i.task_rps
    if average > i.max_tasks:
        notes.append(f"Fargate needs {average:,.1f} web tasks on average, more than --max-tasks "
                     f"{i.max_tasks}: the cost assumes the team raises it")
    peak = peak_web_tasks(i)
    if peak > i.max_tasks:
        notes.append(f"the peak ({i.peak:,.0f} rps) needs {peak} web tasks, more than "
                     f"--max-tasks {i.max_tasks}: requests would queue at the ALB")
    concurrency = i.peak * (1 - i.static_share) * i.avg_duration_ms / 1000
    if concurrency > 1000:
        notes.append(f"the peak needs {concurrency:,.0f} concurrent Lambda environments, more "
                     "than the default account limit of 1,000: ask for a quota increase")
    if not i.free_tier:
        notes.append("no free tier counted (pass --free-tier to subtract it)")
    return tuple(notes)


def estimate(profile: str | CostInputs = "default", prices: PriceTable | None = None
             ) -> Estimate:
    """Price a named profile (see :func:`profiles`) or a ``CostInputs``."""
    inputs = profile_inputs(profile) if isinstance(profile, str) else profile
    table = prices if prices is not None else load_prices()
    return Estimate(inputs, table, tuple(serverless_items(inputs, table)),
                    tuple(fargate_items(inputs, table)), break_even(inputs, table),
                    _notes(inputs))


def profile_inputs(name: str) -> CostInputs:
    """The inputs of the named profile, or a ConfigurationError listing the names."""
    known = profiles()
    if name not in known:
        raise config_error(WHERE, "profile", name, f"must be one of {list(known)}",
                           f"pass one of {', '.join(repr(k) for k in known)}", kind="choice")
    return known[name]


def profiles() -> dict[str, CostInputs]:
    """Named traffic profiles for reports: the defaults and three apps of different sizes."""
    return {
        "default": CostInputs(),
        "low-traffic internal": CostInputs(
            requests_per_month=300_000, avg_duration_ms=150, peak_rps=5, payload_kb=20,
            queue_jobs_per_month=20_000, nat_gb=2, log_gb=1, database_class="db.t4g.small",
            cache_gb=0.1, cache_ops_per_request=2),
        "mid-traffic public": CostInputs(
            requests_per_month=30_000_000, avg_duration_ms=120, static_share=0.3, peak_rps=60,
            payload_kb=40, queue_jobs_per_month=2_000_000, nat_gb=30, log_gb=20,
            database_class="db.t4g.medium", max_tasks=10),
        "high-traffic public": CostInputs(
            requests_per_month=300_000_000, avg_duration_ms=120, static_share=0.5,
            peak_rps=600, payload_kb=40, queue_jobs_per_month=10_000_000,
            job_duration_ms=400, nat_gb=200, log_gb=150, database_class="db.t4g.large",
            multi_az=True, database_storage_gb=100, cache_gb=5, min_tasks=3, max_tasks=40),
    }


def cost_curve(inputs: CostInputs, prices: PriceTable, requests: list[float]
               ) -> list[tuple[float, float, float]]:
    """(requests per month, serverless total, Fargate total) at each traffic level."""
    rows = []
    for r in requests:
        j = replace(inputs, requests_per_month=int(r), peak_rps=None)
        rows.append((r, _total(serverless_items(j, prices)), _total(fargate_items(j, prices))))
    return rows


def chart_range(result: Estimate) -> list[float]:
    """Traffic levels for the chart: a decade below the profile to a decade past the break-even."""
    anchors = [max(result.inputs.requests_per_month, 1.0)]
    if result.break_even_requests_per_month:
        anchors.append(float(result.break_even_requests_per_month))
    low = max(10_000.0, min(anchors) / 10)
    high = max(anchors) * 10
    steps = 120
    return [low * (high / low) ** (k / steps) for k in range(steps + 1)]


def write_chart(result: Estimate, path: str | Path, title: str | None = None) -> Path:
    """Write a PNG of monthly cost against traffic for both designs, break-even marked."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = cost_curve(result.inputs, result.prices, chart_range(result))
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
    axes.plot([r[0] for r in rows], [r[1] for r in rows], label="serverless (Lambda)")
    axes.plot([r[0] for r in rows], [r[2] for r in rows], label="Fargate baseline")
    even = result.break_even_requests_per_month
    if even:
        axes.axvline(even, color="grey", linestyle="--", linewidth=1)
        axes.plot([even], [cost_curve(result.inputs, result.prices, [even])[0][1]], "o",
                  color="grey")
        axes.annotate(f"break-even\n{even:,.0f} req/month", (even, axes.get_ylim()[1] * 0.9),
                      xytext=(5, 0), textcoords="offset points", fontsize=8)
    axes.axvline(result.inputs.requests_per_month, color="black", linestyle=":", linewidth=1,
                 label="this profile")
    axes.set_xscale("log")
    axes.set_xlabel("requests per month")
    axes.set_ylabel("USD per month")
    axes.set_title(title or f"Monthly cost against traffic (prices {result.prices.version})")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    target = Path(path)
    figure.savefig(target, format="png")
    plt.close(figure)
    return target

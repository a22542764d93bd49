"""Read, follow and query the CloudWatch Logs of the app's functions.

Each ``PhpFunction`` writes to ``/aws/lambda/<function name>`` (Lambda's text log format).
Laravel's Monolog JSON lines are recognised and pretty-printed with their level coloured; every
other line (Bref, PHP, Lambda's ``START``/``END``/``REPORT``) is printed as it is. Parsing and
formatting are pure functions; boto3 is imported only where a client is made.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import config_error
from .outputs import ALL_ROLES, ROLES, functions_for

WHERE = "serverless-laravel logs"
LOG_GROUP_PREFIX = "/aws/lambda/"
DEFAULT_SINCE = "15m"
FOLLOW_INTERVAL_SECONDS = 2.0
INSIGHTS_POLL_SECONDS = 1.0
INSIGHTS_TIMEOUT_SECONDS = 300.0
SINCE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_SINCE = timedelta(days=365)
SINCE = re.compile(r"(?P<amount>[1-9]\d*)(?P<unit>[smhdw])")
REQUEST_ID = re.compile(r"RequestId: (?P<id>[0-9a-fA-F-]{8,})")
TAB_PREFIXED_ID = re.compile(r"^\S+\t(?P<id>[0-9a-f]{8}-[0-9a-f-]{27})\t")
LEVEL_STYLES = {
    "DEBUG": "dim", "INFO": "green", "NOTICE": "cyan", "WARNING": "yellow", "ERROR": "red",
    "CRITICAL": "bold red", "ALERT": "bold white on red", "EMERGENCY": "bold white on red",
}
NAMED_QUERIES = {
    "errors": (
        "fields coalesce(context.route, extra.url, extra.route) as route"
        " | filter level >= 400"
        " | stats count(*) as errors by level_name, message, route"
        " | sort errors desc | limit 50"
    ),
    "slowest": (
        "filter @type = \"REPORT\""
        " | fields @timestamp, @requestId, @duration, @billedDuration,"
        " @maxMemoryUsed / 1000000 as maxMemoryMB, @log"
        " | sort @duration desc | limit 25"
    ),
    "cold-starts": (
        "filter @type = \"REPORT\" and @message like /Init Duration/"
        " | parse @message /Init Duration: (?<initMs>[0-9.]+) ms/"
        " | stats count(*) as coldStarts, avg(initMs) as avgInitMs, max(initMs) as maxInitMs"
        " by @log, bin(1h)"
        " | sort maxInitMs desc"
    ),
}
TERMINAL_STATUSES = {"Complete", "Failed", "Cancelled", "Timeout", "Unknown"}


class InsightsQueryError(RuntimeError):
    """A Logs Insights query ended in a status other than ``Complete``."""


@dataclass(frozen=True)
class LogEvent:
    """One CloudWatch Logs event of one function."""

    function: str
    event_id: str
    timestamp: int
    message: str
    stream: str = ""
    request_id: str | None = None


@dataclass(frozen=True)
class LaravelLine:
    """A Monolog JSON line split from whatever Lambda or Bref put before it."""

    prefix: str
    record: dict[str, Any]

    @property
    def level_name(self) -> str:
        return str(self.record.get("level_name", "")).upper()


def parse_since(text: str) -> timedelta:
    """``15m``, ``2h``, ``1d`` (also ``s`` and ``w``) as a duration; at most 365 days."""
    match = SINCE.fullmatch(text.strip())
    if match is None:
        raise config_error(WHERE, "since", text, "must be a whole number and a unit: s, m, h, d, w",
                           "write e.g. 15m, 2h or 1d", kind="format")
    since = timedelta(**{SINCE_UNITS[match["unit"]]: int(match["amount"])})
    if since > MAX_SINCE:
        raise config_error(WHERE, "since", text, "must be at most 365 days",
                           "ask for a shorter window", kind="range")
    return since


def log_group_name(function: str) -> str:
    """The log group of a function name or ARN; a name starting with ``/`` is a group already."""
    function = function.strip()
    if not function or any(c.isspace() for c in function):
        raise config_error(WHERE, "function", function, "must be a function name, ARN or log group",
                           "pass --function shop-web (as `terraform output` shows it)")
    if function.startswith("/"):
        return function
    if function.startswith("arn:"):
        parts = function.split(":")
        if len(parts) < 7 or parts[5] != "function":
            raise config_error(WHERE, "function", function, "is not a Lambda function ARN",
                               "pass arn:aws:lambda:REGION:ACCOUNT:function:NAME or the name",
                               kind="arn")
        function = parts[6]
    return f"{LOG_GROUP_PREFIX}{function}"


def expand_functions(values: Sequence[str], outputs: Mapping[str, str] | None) -> list[str]:
    """Names, ARNs and groups as given; ``web``, ``console``, ``worker`` and ``all`` become the
    functions of that role among the stack's ``outputs`` (None: no stack given)."""
    names: list[str] = []
    for value in values:
        if value not in (*ROLES, ALL_ROLES):
            names.append(value)
            continue
        if outputs is None:
            raise config_error(
                WHERE, "function", value,
                "is a role of the app's functions, read from the stack's outputs",
                "pass --stack NAME (synthesized into --outdir), or the function's own name",
                kind="role_without_stack")
        names += functions_for(WHERE, outputs, value)
    return list(dict.fromkeys(names))


def function_of(group: str) -> str:
    """The short name shown for a log group: the function name for Lambda groups."""
    return group.removeprefix(LOG_GROUP_PREFIX)


def parse_laravel(message: str) -> LaravelLine | None:
    """The Monolog JSON record in ``message`` (possibly after a tab-separated prefix), or None."""
    text = message.rstrip("\n")
    start = text.find("{")
    if start < 0 or not text.endswith("}"):
        return None
    try:
        record = json.loads(text[start:])
    except ValueError:
        return None
    if not isinstance(record, dict) or "message" not in record or "level_name" not in record:
        return None
    return LaravelLine(text[:start], record)


def request_id_of(message: str) -> str | None:
    """The request id a ``START``/``END``/``REPORT`` (or tab-prefixed runtime) line names."""
    match = REQUEST_ID.search(message) or TAB_PREFIXED_ID.match(message)
    return match["id"] if match else None


@dataclass
class RequestIds:
    """Gives each line the request id its stream is serving (between START and REPORT)."""

    current: dict[str, str] = field(default_factory=dict)

    def see(self, stream: str, message: str) -> str | None:
        found = request_id_of(message)
        if message.startswith("START "):
            if found:
                self.current[stream] = found
            return found
        if message.startswith("REPORT "):
            self.current.pop(stream, None)
            return found
        return found or self.current.get(stream)


def iso_time(timestamp_ms: int) -> str:
    """An event timestamp (milliseconds since the epoch) as UTC ISO 8601 with milliseconds."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_json(event: LogEvent) -> dict[str, Any]:
    """One event as the JSON object ``--json`` prints: the Laravel record parsed when present."""
    laravel = parse_laravel(event.message)
    return {
        "function": event.function, "timestamp": event.timestamp,
        "time": iso_time(event.timestamp), "stream": event.stream, "id": event.event_id,
        "request_id": event.request_id, "message": event.message.rstrip("\n"),
        "level": laravel.level_name if laravel else None,
        "laravel": laravel.record if laravel else None,
    }


def format_event(event: LogEvent, *, show_function: bool = True) -> Any:
    """A rich ``Text`` for one event: Laravel records laid out and coloured, other lines as is."""
    from rich.text import Text

    text = Text(iso_time(event.timestamp), style="dim")
    if show_function:
        text.append(f" {event.function}", style="blue")
    laravel = parse_laravel(event.message)
    if laravel is None:
        text.append(" " + event.message.rstrip("\n"))
        return text
    level = laravel.level_name or "LOG"
    text.append(" ")
    text.append(f"{level:<9}", style=LEVEL_STYLES.get(level, "bold"))
    channel = laravel.record.get("channel")
    if channel:
        text.append(f"{channel} ", style="magenta")
    text.append(str(laravel.record.get("message", "")), style="bold")
    if event.request_id:
        text.append(f"  RequestId: {event.request_id}", style="dim")
    for key in ("context", "extra"):
        value = laravel.record.get(key)
        if value:
            body = json.dumps(value, indent=2, ensure_ascii=False, default=str)
            text.append(f"\n  {key}: " + body.replace("\n", "\n  "), style="dim")
    return text


def logs_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    """A CloudWatch Logs client; ``AWS_ENDPOINT_URL`` (an emulator in tests) is honoured."""
    from . import aws

    return aws.client("logs", region, endpoint_url=endpoint_url)


def fetch_events(client: Any, groups: Iterable[str], start_ms: int,
                 filter_pattern: str | None = None, end_ms: int | None = None) -> list[LogEvent]:
    """Every event of ``groups`` from ``start_ms`` (matching the filter), oldest first."""
    found: list[LogEvent] = []
    for group in groups:
        args: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
        if filter_pattern:
            args["filterPattern"] = filter_pattern
        if end_ms is not None:
            args["endTime"] = end_ms
        for page in client.get_paginator("filter_log_events").paginate(**args):
            found += [LogEvent(function_of(group), e["eventId"], int(e["timestamp"]),
                               e.get("message", ""), e.get("logStreamName", ""))
                      for e in page.get("events", [])]
    return sorted(found, key=lambda e: (e.timestamp, e.function, e.event_id))


@dataclass
class Follower:
    """Polls the groups, yielding each event once (seen ids kept for the overlapping window)."""

    client: Any
    groups: list[str]
    start_ms: int
    filter_pattern: str | None = None
    seen: dict[str, int] = field(default_factory=dict)
    requests: RequestIds = field(default_factory=RequestIds)

    def poll(self) -> list[LogEvent]:
        """The events not returned by an earlier poll, with request ids attached."""
        events = [e for e in fetch_events(self.client, self.groups, self.start_ms,
                                          self.filter_pattern) if e.event_id not in self.seen]
        self.seen |= {e.event_id: e.timestamp for e in events}
        if events:
            self.start_ms = max(self.start_ms, max(e.timestamp for e in events))
            self.seen = {i: t for i, t in self.seen.items() if t >= self.start_ms}
        return [self._with_request_id(e) for e in events]

    def _with_request_id(self, event: LogEvent) -> LogEvent:
        request = self.requests.see(f"{event.function}/{event.stream}", event.message)
        return LogEvent(event.function, event.event_id, event.timestamp, event.message,
                        event.stream, request)


def follow(follower: Follower, emit: Callable[[LogEvent], None], *,
           follow: bool, interval: float = FOLLOW_INTERVAL_SECONDS,
           max_polls: int | None = None,
           sleep: Callable[[float], None] = time.sleep) -> int:
    """Emit events once, or poll every ``interval`` s until stopped; the number of events."""
    emitted = polls = 0
    while True:
        for event in follower.poll():
            emit(event)
            emitted += 1
        polls += 1
        if not follow or (max_polls is not None and polls >= max_polls):
            return emitted
        sleep(interval)


def resolve_query(query: str) -> str:
    """A built-in query by name (errors, slowest, cold-starts), else the text as a raw query."""
    query = query.strip()
    if not query:
        raise config_error(WHERE, "insights", query, "must be a query or one of "
                           + ", ".join(NAMED_QUERIES), "pass --insights errors", kind="empty")
    return NAMED_QUERIES.get(query, query)


def run_insights(client: Any, groups: list[str], query: str, start: datetime, end: datetime, *,
                 poll: float = INSIGHTS_POLL_SECONDS, timeout: float = INSIGHTS_TIMEOUT_SECONDS,
                 sleep: Callable[[float], None] = time.sleep) -> list[dict[str, str]]:
    """Run a Logs Insights query over ``groups`` and return its rows (``@ptr`` left out)."""
    query_id = client.start_query(
        logGroupNames=groups, startTime=int(start.timestamp()), endTime=int(end.timestamp()),
        queryString=query)["queryId"]
    waited = 0.0
    while True:
        answer = client.get_query_results(queryId=query_id)
        status = answer.get("status", "Unknown")
        if status in TERMINAL_STATUSES:
            break
        if waited >= timeout:
            client.stop_query(queryId=query_id)
            raise InsightsQueryError(f"query {query_id} still {status} after {timeout:.0f} s")
        sleep(poll)
        waited += poll
    if status != "Complete":
        raise InsightsQueryError(f"query {query_id} ended {status}")
    return [{f["field"]: f.get("value", "") for f in row if f["field"] != "@ptr"}
            for row in answer.get("results", [])]


def window(since: timedelta, now: Callable[[], float] = time.time) -> tuple[datetime, datetime]:
    """The (start, end) of the last ``since``, in UTC."""
    end = datetime.fromtimestamp(now(), tz=UTC)
    return end - since, end

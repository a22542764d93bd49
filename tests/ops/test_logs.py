"""``serverless-laravel logs``: parsing and formatting, reading against moto, Insights on a fake.

moto's Logs Insights does not evaluate queries the way CloudWatch does, so StartQuery and
GetQueryResults are answered by a small Logs JSON-protocol server on 127.0.0.1 instead.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.errors import ConfigurationError
from serverless_laravel.ops import logs
from tests.loopback import serve

runner = CliRunner()
REQUEST = "8f5c2a1e-1b2c-4d3e-9f00-0123456789ab"
LARAVEL_ERROR = json.dumps({
    "message": "Order 42 failed", "context": {"order": 42, "route": "orders.store"},
    "level": 400, "level_name": "ERROR", "channel": "production",
    "datetime": "2026-11-30T14:00:00.000000+00:00", "extra": {},
})
LARAVEL_INFO = json.dumps({"message": "Order 43 placed", "context": {}, "level": 200,
                           "level_name": "INFO", "channel": "production", "extra": {}})
START = f"START RequestId: {REQUEST} Version: 3"
END = f"END RequestId: {REQUEST}"
REPORT = (f"REPORT RequestId: {REQUEST}\tDuration: 812.33 ms\tBilled Duration: 1123 ms\t"
          "Memory Size: 1024 MB\tMax Memory Used: 180 MB\tInit Duration: 310.12 ms")


# ---- pure parsing and formatting ----

@pytest.mark.parametrize(("text", "expected"), [
    ("15m", timedelta(minutes=15)), ("2h", timedelta(hours=2)), ("1d", timedelta(days=1)),
    ("30s", timedelta(seconds=30)), ("1w", timedelta(weeks=1)),
])
def test_since_reads_a_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert logs.parse_since(text) == expected


@pytest.mark.parametrize(("text", "kind"), [("", "format"), ("15", "format"), ("0m", "format"),
                                            ("-1h", "format"), ("1y", "format"),
                                            ("400d", "range")])
def test_since_refuses_what_it_cannot_read(text: str, kind: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        logs.parse_since(text)
    assert error.value.code == f"serverless_laravel_logs.since.{kind}"


def test_log_group_follows_the_php_function_naming() -> None:
    assert logs.log_group_name("shop-web") == "/aws/lambda/shop-web"
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:shop-web:live"
    assert logs.log_group_name(arn) == "/aws/lambda/shop-web"
    assert logs.log_group_name("/custom/group") == "/custom/group"
    for bad in ("", "shop web", "arn:aws:lambda:eu-west-1:1:layer:x"):
        with pytest.raises(ConfigurationError):
            logs.log_group_name(bad)


def test_laravel_json_lines_are_recognised_even_after_a_prefix() -> None:
    line = logs.parse_laravel(LARAVEL_ERROR + "\n")
    assert line is not None and line.level_name == "ERROR" and line.prefix == ""
    prefixed = logs.parse_laravel(f"2026-11-30T14:00:00Z\t{REQUEST}\tINFO\t{LARAVEL_INFO}")
    assert prefixed is not None and prefixed.record["message"] == "Order 43 placed"
    for other in (START, REPORT, "{not json}", '{"message": "no level"}', "PHP Warning: x"):
        assert logs.parse_laravel(other) is None


def test_request_ids_come_from_lambda_lines_and_carry_over_to_the_app_lines() -> None:
    ids = logs.RequestIds()
    assert ids.see("s", START) == REQUEST
    assert ids.see("s", LARAVEL_ERROR) == REQUEST
    assert ids.see("other", LARAVEL_ERROR) is None
    assert ids.see("s", END) == REQUEST
    assert ids.see("s", REPORT) == REQUEST
    assert ids.see("s", LARAVEL_INFO) is None


def test_formatting_lays_out_laravel_records_and_keeps_other_lines() -> None:
    error = logs.LogEvent("shop-web", "1", 1_795_000_000_000, LARAVEL_ERROR, "s", REQUEST)
    text = logs.format_event(error)
    assert "ERROR" in text.plain and "production Order 42 failed" in text.plain
    assert f"RequestId: {REQUEST}" in text.plain and '"route": "orders.store"' in text.plain
    assert any(span.style == "red" for span in text.spans)
    report = logs.format_event(logs.LogEvent("shop-web", "2", 1_795_000_000_000, REPORT),
                               show_function=False)
    assert report.plain.endswith(REPORT) and "shop-web" not in report.plain


def test_json_output_keeps_the_raw_line_and_the_parsed_record() -> None:
    out = logs.event_json(logs.LogEvent("shop-web", "1", 0, LARAVEL_ERROR + "\n", "s", REQUEST))
    assert out["time"] == "1970-01-01T00:00:00.000Z" and out["level"] == "ERROR"
    assert out["laravel"]["context"]["order"] == 42 and out["request_id"] == REQUEST
    assert logs.event_json(logs.LogEvent("f", "2", 0, REPORT))["laravel"] is None


def test_named_queries_resolve_and_raw_queries_pass_through() -> None:
    assert "Init Duration" in logs.resolve_query("cold-starts")
    assert "@duration desc" in logs.resolve_query("slowest")
    assert "level >= 400" in logs.resolve_query("errors")
    assert logs.resolve_query("fields @message | limit 5") == "fields @message | limit 5"
    with pytest.raises(ConfigurationError):
        logs.resolve_query("  ")


# ---- reading and following against moto ----

@pytest.fixture
def cw(aws: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Two functions' log groups with a request's lines, timestamped a minute ago."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    client = boto3.client("logs")
    now = int(time.time() * 1000) - 60_000
    for name, lines in {"shop-web": [START, LARAVEL_ERROR, END, REPORT],
                        "shop-worker": [LARAVEL_INFO]}.items():
        group = f"/aws/lambda/{name}"
        client.create_log_group(logGroupName=group)
        client.create_log_stream(logGroupName=group, logStreamName="2026/11/30/[3]abc")
        put(client, name, lines, now)
    return client


def put(client: Any, function: str, lines: list[str], start_ms: int) -> None:
    """Append ``lines`` to the function's stream, one millisecond apart."""
    client.put_log_events(
        logGroupName=f"/aws/lambda/{function}", logStreamName="2026/11/30/[3]abc",
        logEvents=[{"timestamp": start_ms + i, "message": m} for i, m in enumerate(lines)])


def test_logs_prints_laravel_records_and_lambda_lines_of_every_function(cw: Any) -> None:
    result = runner.invoke(app, ["logs", "-f", "shop-web", "-f", "shop-worker"])
    assert result.exit_code == 0, result.output
    assert "ERROR" in result.output and "Order 42 failed" in result.output
    assert REPORT.split("\t")[0] in result.output and "Init Duration: 310.12 ms" in result.output
    assert "shop-worker" in result.output and "Order 43 placed" in result.output
    assert result.output.index("START RequestId") < result.output.index("Order 42 failed")


def test_logs_json_prints_one_object_per_event_with_request_ids(cw: Any) -> None:
    result = runner.invoke(app, ["logs", "-f", "shop-web", "--json"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.output.splitlines()]
    assert [e["level"] for e in events] == [None, "ERROR", None, None]
    assert {e["request_id"] for e in events} == {REQUEST}
    assert events[1]["laravel"]["context"]["route"] == "orders.store"


def test_logs_filter_is_passed_to_cloudwatch(cw: Any) -> None:
    result = runner.invoke(app, ["logs", "-f", "shop-web", "--filter", "REPORT", "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["message"] for x in result.output.splitlines()] == [REPORT]


def test_since_leaves_out_older_events(cw: Any) -> None:
    put(cw, "shop-web", ["recent line"], int(time.time() * 1000) - 1_000)
    result = runner.invoke(app, ["logs", "-f", "shop-web", "--since", "30s", "--json"])
    assert [json.loads(x)["message"] for x in result.output.splitlines()] == ["recent line"]


def test_follow_prints_new_events_once_per_poll(cw: Any) -> None:
    start = int(time.time() * 1000) - 120_000
    follower = logs.Follower(cw, ["/aws/lambda/shop-web"], start)
    sleeps: list[float] = []

    def sleep(interval: float) -> None:
        sleeps.append(interval)
        if len(sleeps) == 1:
            put(cw, "shop-web", ["second request"], int(time.time() * 1000))

    seen: list[str] = []
    emitted = logs.follow(follower, lambda e: seen.append(e.message), follow=True, max_polls=3,
                          sleep=sleep, interval=2.0)
    assert seen == [START, LARAVEL_ERROR, END, REPORT, "second request"] and emitted == 5
    assert sleeps == [2.0, 2.0]


def test_follow_cli_stops_after_the_hidden_poll_limit(cw: Any) -> None:
    result = runner.invoke(app, ["logs", "-f", "shop-web", "--follow", "--max-polls", "2",
                                 "--poll-interval", "0", "--json"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 4


def test_a_missing_log_group_is_an_aws_error(cw: Any) -> None:
    result = runner.invoke(app, ["logs", "-f", "nope"])
    assert result.exit_code == 1
    assert "ResourceNotFoundException" in result.output


@pytest.mark.parametrize("argv", [
    ["logs", "-f", "shop-web", "--since", "soon"],
    ["logs", "-f", "shop web"],
    ["logs", "-f", "shop-web", "--insights", "errors", "--follow"],
    ["logs"],
])
def test_bad_input_exits_2_before_any_call(argv: list[str]) -> None:
    assert runner.invoke(app, argv).exit_code == 2


# ---- --function web|console|worker|all, names from the stack's synthesized outputs ----

SYNTHESIZED = {
    "resource": {"aws_lambda_function": {
        "web_1": {"function_name": "shop-web"}, "console_2": {"function_name": "shop-console"},
        "worker_3": {"function_name": "shop-worker"}}},
    "output": {
        "laravel_web_function": {"value": "${aws_lambda_function.web_1.function_name}"},
        "laravel_console_function": {"value": "${aws_lambda_function.console_2.function_name}"},
        "worker_function": {"value": "${aws_lambda_function.worker_3.function_name}"},
    },
}


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    """A synthesis outdir holding the stack ``shop`` with its function outputs."""
    stack = tmp_path / "stacks" / "shop"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps(SYNTHESIZED))
    return tmp_path


def roles(outdir: Path, *functions: str) -> list[dict[str, Any]]:
    """``logs --stack shop --json`` with ``--function`` for each of ``functions``."""
    argv = ["logs", "--stack", "shop", "--outdir", str(outdir), "--json"]
    result = runner.invoke(app, [*argv, *(a for f in functions for a in ("-f", f))])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_roles_read_the_function_names_from_the_stack(cw: Any, outdir: Path) -> None:
    assert {e["function"] for e in roles(outdir, "worker")} == {"shop-worker"}
    assert {e["function"] for e in roles(outdir, "web")} == {"shop-web"}


def test_all_interleaves_every_function_by_timestamp(cw: Any, outdir: Path) -> None:
    later = int(time.time() * 1000) - 30_000
    put(cw, "shop-web", ["web, later"], later)
    cw.create_log_group(logGroupName="/aws/lambda/shop-console")
    cw.create_log_stream(logGroupName="/aws/lambda/shop-console",
                         logStreamName="2026/11/30/[3]abc")
    put(cw, "shop-console", ["console, between"], later - 10_000)
    events = roles(outdir, "all")
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert [e["function"] for e in events][-2:] == ["shop-console", "shop-web"]
    assert {e["function"] for e in events} == {"shop-web", "shop-console", "shop-worker"}


@pytest.mark.parametrize(("argv", "message"), [
    (["-f", "web"], "--stack"),
    (["-f", "web", "--stack", "nope"], "synthesized JSON"),
])
def test_a_role_needs_a_synthesized_stack(outdir: Path, argv: list[str], message: str) -> None:
    result = runner.invoke(app, ["logs", "--outdir", str(outdir), *argv])
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_role_the_stack_has_no_output_for_is_bad_input(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "shop"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps({"output": {}}))
    result = runner.invoke(app, ["logs", "--stack", "shop", "--outdir", str(tmp_path),
                                 "-f", "worker"])
    assert result.exit_code == 2
    assert "worker_function" in result.stderr


# ---- Logs Insights against a local fake ----

@dataclass
class FakeInsights:
    """The fake Logs endpoint: its URL, the queries it started, and how to answer them."""

    url: str = ""
    started: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    running_polls: int = 1
    final_status: str = "Complete"
    results: list[list[dict[str, str]]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    """Answers StartQuery and GetQueryResults (Logs JSON 1.1 protocol)."""

    fake: FakeInsights

    def do_POST(self) -> None:
        target = self.headers.get("X-Amz-Target", "")
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if target.endswith(".StartQuery"):
            if "parse error" in body["queryString"]:
                return self._answer(400, {"__type": "MalformedQueryException",
                                          "message": "unexpected symbol"})
            if body["logGroupNames"] == ["/aws/lambda/gone"]:
                return self._answer(400, {"__type": "ResourceNotFoundException",
                                          "message": "Log group does not exist"})
            self.fake.started.append(body)
            return self._answer(200, {"queryId": "q-1"})
        if target.endswith(".GetQueryResults"):
            self.fake.polls += 1
            if self.fake.polls <= self.fake.running_polls:
                return self._answer(200, {"status": "Running", "results": []})
            return self._answer(200, {"status": self.fake.final_status,
                                      "results": self.fake.results,
                                      "statistics": {"recordsMatched": 3.0}})
        if target.endswith(".StopQuery"):
            return self._answer(200, {"success": True})
        return self._answer(400, {"__type": "UnknownOperationException", "message": target})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def insights_server() -> Iterator[FakeInsights]:
    fake = FakeInsights()
    with serve(_Handler, fake=fake) as fake.url:
        yield fake


@pytest.fixture
def insights(insights_server: FakeInsights, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[FakeInsights]:
    """The fake with fresh state, as the endpoint of every client, with dummy credentials."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                        "AWS_ENDPOINT_URL": insights_server.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(logs, "INSIGHTS_POLL_SECONDS", 0.0)
    insights_server.started.clear()
    insights_server.polls, insights_server.running_polls = 0, 1
    insights_server.final_status = "Complete"
    insights_server.results = [
        [{"field": "@requestId", "value": REQUEST}, {"field": "@duration", "value": "812.33"},
         {"field": "@ptr", "value": "xyz"}],
        [{"field": "@requestId", "value": "other"}, {"field": "@duration", "value": "95.1"}],
    ]
    yield insights_server


def test_run_insights_polls_until_complete_and_drops_ptr(insights: FakeInsights) -> None:
    end = datetime(2026, 11, 30, 14, tzinfo=UTC)
    rows = logs.run_insights(logs.logs_client(), ["/aws/lambda/shop-web"],
                             logs.NAMED_QUERIES["slowest"], end - timedelta(hours=1), end,
                             poll=0, sleep=lambda _: None)
    assert rows == [{"@requestId": REQUEST, "@duration": "812.33"},
                    {"@requestId": "other", "@duration": "95.1"}]
    assert insights.polls == 2
    started = insights.started[0]
    assert started["endTime"] - started["startTime"] == 3600
    assert started["queryString"] == logs.NAMED_QUERIES["slowest"]


def test_run_insights_gives_up_after_its_timeout(insights: FakeInsights) -> None:
    insights.running_polls = 100
    with pytest.raises(logs.InsightsQueryError, match="still Running"):
        logs.run_insights(logs.logs_client(), ["/g"], "fields @message",
                          datetime.now(UTC), datetime.now(UTC), poll=1, timeout=3,
                          sleep=lambda _: None)


def test_insights_cli_runs_a_named_query_over_every_function(insights: FakeInsights) -> None:
    result = runner.invoke(app, ["logs", "-f", "shop-web", "-f", "shop-worker",
                                 "--insights", "cold-starts", "--since", "1d", "--json"])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["@duration"] for x in result.output.splitlines()] == ["812.33", "95.1"]
    started = insights.started[0]
    assert started["logGroupNames"] == ["/aws/lambda/shop-web", "/aws/lambda/shop-worker"]
    assert "Init Duration" in started["queryString"]
    assert started["endTime"] - started["startTime"] == 86400


def test_insights_cli_prints_a_table_for_a_raw_query(insights: FakeInsights) -> None:
    result = runner.invoke(app, ["logs", "-f", "shop-web", "--insights",
                                 "fields @requestId, @duration | sort @duration desc"])
    assert result.exit_code == 0, result.output
    assert "@requestId" in result.output and "812.33" in result.output
    assert insights.started[0]["queryString"].startswith("fields @requestId")


@pytest.mark.parametrize(("argv", "status", "code"), [
    (["--insights", "parse error here"], "Complete", 2),
    (["--insights", "errors"], "Failed", 1),
])
def test_insights_cli_failures(insights: FakeInsights, argv: list[str], status: str,
                               code: int) -> None:
    insights.final_status = status
    result = runner.invoke(app, ["logs", "-f", "shop-web", *argv])
    assert result.exit_code == code, result.output


def test_insights_cli_reports_a_missing_group_as_an_aws_error(insights: FakeInsights) -> None:
    result = runner.invoke(app, ["logs", "-f", "gone", "--insights", "errors"])
    assert result.exit_code == 1 and "ResourceNotFoundException" in result.output

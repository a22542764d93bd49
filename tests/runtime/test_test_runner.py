"""The test runner's handler run for real: Debian's PHP runs a fixture ``artisan`` of our own,
results land in S3 on a moto server on 127.0.0.1, and refused events never start a process."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_laravel.runtime import test_runner
from serverless_laravel.runtime.test_runner import DEFAULT_COMMANDS, EventError, parse_commands

FIXTURE_APP = Path(__file__).resolve().parents[1] / "fixtures" / "runner-app"
BUCKET = "test-results"
REQUEST_ID = "3f1c2a9e-7b4d-4e1a-9c2f-0d5e6f7a8b9c"
PHP_MISSING = "php is not installed: `make php` installs Debian's php8.2-cli (`make test` runs it)"
needs_php = pytest.mark.skipif(shutil.which("php") is None, reason=PHP_MISSING)


@dataclass
class Context:
    """The two things the handler reads from Lambda's context object."""

    aws_request_id: str = REQUEST_ID
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Runner:
    """The handler's environment in one test: where the fixture records its runs, S3."""

    log: Path
    tmp: Path
    s3: Any

    def runs(self) -> list[list[str]]:
        """The argument lists the fixture artisan was started with, in order."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def objects(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET)
        return sorted(obj["Key"] for obj in listing.get("Contents", []))

    def text(self, key: str) -> str:
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


@pytest.fixture
def runner(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """The handler's variables as the construct sets them, over the fixture app, and a bucket."""
    log = tmp_path / "ran.log"
    for name, value in {
        "AWS_ENDPOINT_URL": aws, "RESULTS_BUCKET": BUCKET, "APP_ROOT": str(FIXTURE_APP),
        "PHP_BINARY": "php", "UPLOAD_MARGIN_SECONDS": "5", "RUNNER_FIXTURE_LOG": str(log),
        "RUNNER_FIXTURE_CHILD": str(tmp_path / "child.pid"), "TMPDIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("TEST_RUNNER_COMMANDS", "TEST_RUNNER_SECRETS", "TEST_RUNNER_COPY_APP",
                 "TEST_RUNNER_SHARE_CREDENTIALS", "FIXTURE_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("tempfile.tempdir", None)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    yield Runner(log, tmp_path, s3)


def prefix_of(summary: dict[str, Any], before: datetime.date) -> str:
    """The results prefix, checked against the UTC date the run started on."""
    today = datetime.datetime.now(datetime.timezone.utc).date()
    dates = {f"{day:%Y-%m-%d}" for day in (before, today)}
    prefix = summary["results_prefix"]
    assert prefix in {f"runs/{day}/{REQUEST_ID}/" for day in dates}
    return prefix


def utc_today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def fixture_files() -> set[Path]:
    return {p.relative_to(FIXTURE_APP) for p in FIXTURE_APP.rglob("*")}


# End to end with PHP.

@needs_php
def test_a_passing_suite_uploads_output_junit_and_summary(runner: Runner) -> None:
    before, files_before = utc_today(), fixture_files()
    event = {"command": "test", "filter": "Integration", "testsuite": "Feature",
             "group": "slow", "parallel": True}
    summary = test_runner.handler(event, Context())
    prefix = prefix_of(summary, before)
    assert runner.objects() == [f"{prefix}junit.xml", f"{prefix}output.txt",
                             f"{prefix}summary.json"]
    assert {k: summary[k] for k in ("command", "status", "exit_code", "tests", "failures",
                                    "errors", "skipped")} == {
        "command": "test", "status": "passed", "exit_code": 0, "tests": 6, "failures": 0,
        "errors": 0, "skipped": 1}
    assert isinstance(summary["duration_s"], float) and summary["duration_s"] >= 0
    assert summary["results_bucket"] == BUCKET
    [argv] = runner.runs()
    assert argv[:5] == ["test", "--filter=Integration", "--testsuite=Feature", "--group=slow",
                        "--parallel"]
    assert argv[5] == "--log-junit" and argv[6].endswith("/junit.xml") and len(argv) == 7
    output = runner.text(f"{prefix}output.txt")
    assert "stderr: a line on the error stream" in output and "Tests: 6, Skipped: 1" in output
    assert 'testcase name="test_orders_are_listed"' in runner.text(f"{prefix}junit.xml")
    stored = json.loads(runner.text(f"{prefix}summary.json"))
    assert stored == summary
    assert fixture_files() == files_before, "the run must work on a copy of the app"


@needs_php
def test_a_failing_suite_is_a_result_not_a_crash(runner: Runner) -> None:
    summary = test_runner.handler({"command": "test", "filter": "Broken"}, Context())
    assert (summary["status"], summary["exit_code"]) == ("failed", 1)
    assert (summary["tests"], summary["failures"], summary["errors"], summary["skipped"]) \
        == (6, 2, 1, 1)
    prefix = summary["results_prefix"]
    assert json.loads(runner.text(f"{prefix}summary.json"))["status"] == "failed"
    assert "FAILURES!" in summary["output_tail"]


@needs_php
def test_no_command_means_test(runner: Runner) -> None:
    summary = test_runner.handler({}, Context())
    assert (summary["command"], summary["status"], summary["tests"]) == ("test", "passed", 6)
    assert runner.runs()[0][0] == "test"


@needs_php
def test_docs_folders_are_uploaded_under_their_paths(runner: Runner) -> None:
    before = utc_today()
    summary = test_runner.handler({"command": "scribe:generate"}, Context())
    prefix = prefix_of(summary, before)
    assert runner.objects() == [f"{prefix}{key}" for key in (
        "output.txt", "public/docs/css/style.css", "public/docs/index.html",
        "storage/app/scribe/openapi.yaml", "summary.json")]
    assert (summary["status"], summary["tests"]) == ("passed", None)
    head = runner.s3.head_object(Bucket=BUCKET, Key=f"{prefix}public/docs/index.html")
    assert head["ContentType"] == "text/html"
    assert runner.runs() == [["scribe:generate"]]


@needs_php
def test_a_configured_allow_list_replaces_the_default(
    runner: Runner, monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands = {"test": {"options": {"filter": "value"}, "junit": True,
                         "artifacts": ["public/docs"]}}
    monkeypatch.setenv("TEST_RUNNER_COMMANDS", json.dumps(commands))
    rejected = test_runner.handler({"command": "scribe:generate"}, Context())
    assert rejected["status"] == "rejected" and "['test']" in rejected["error"]
    rejected = test_runner.handler({"command": "test", "parallel": True}, Context())
    assert rejected["status"] == "rejected" and "parallel" in rejected["error"]
    assert runner.runs() == []
    summary = test_runner.handler({"command": "test", "filter": "Unit"}, Context())
    assert summary["status"] == "passed" and runner.runs()[0][:2] == ["test", "--filter=Unit"]


@needs_php
def test_secrets_reach_the_child_only_and_role_credentials_do_not(
    runner: Runner, monkeypatch: pytest.MonkeyPatch,
) -> None:
    value = "s3cr3t-from-secrets-manager"
    arn = boto3.client("secretsmanager").create_secret(
        Name="app/fixture", SecretString=json.dumps({"password": value}))["ARN"]
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/app/other", Value="x", Type="SecureString")
    parameter = ssm.get_parameter(Name="/app/other")["Parameter"]["ARN"]
    monkeypatch.setenv("TEST_RUNNER_SECRETS", json.dumps({
        "FIXTURE_SECRET": f"{arn}:password::", "OTHER_SECRET": parameter}))
    summary = test_runner.handler({"command": "test"}, Context())
    output = runner.text(f"{summary['results_prefix']}output.txt")
    assert f"secret: sha256={hashlib.sha256(value.encode()).hexdigest()}" in output
    assert "aws credentials: absent" in output
    assert "FIXTURE_SECRET" not in os.environ and "OTHER_SECRET" not in os.environ
    monkeypatch.setenv("TEST_RUNNER_SHARE_CREDENTIALS", "1")
    summary = test_runner.handler({"command": "test"}, Context(aws_request_id="second-run"))
    assert "aws credentials: present" in runner.text(f"{summary['results_prefix']}output.txt")


@needs_php
def test_links_in_docs_folders_are_not_followed(
    runner: Runner, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = runner.tmp / "app"
    shutil.copytree(FIXTURE_APP, app)
    (runner.tmp / "outside").mkdir()
    (runner.tmp / "outside" / "secret.txt").write_text("not for the bucket")
    (app / "public" / "docs").mkdir(parents=True)
    (app / "public" / "docs" / "linked").symlink_to(runner.tmp / "outside")
    (app / "public" / "docs" / "linked.txt").symlink_to(runner.tmp / "outside" / "secret.txt")
    monkeypatch.setenv("APP_ROOT", str(app))
    summary = test_runner.handler({"command": "scribe:generate"}, Context())
    keys = [k.removeprefix(summary["results_prefix"]) for k in runner.objects()]
    assert keys == ["output.txt", "public/docs/css/style.css", "public/docs/index.html",
                    "storage/app/scribe/openapi.yaml", "summary.json"]


@needs_php
def test_in_place_runs_write_into_the_app(runner: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    app = runner.tmp / "app"
    shutil.copytree(FIXTURE_APP, app)
    monkeypatch.setenv("APP_ROOT", str(app))
    monkeypatch.setenv("TEST_RUNNER_COPY_APP", "0")
    assert test_runner.handler({"command": "scribe:generate"}, Context())["status"] == "passed"
    assert (app / "public" / "docs" / "index.html").is_file()


def _state(pid: int) -> str | None:
    """The process's state letter from /proc (None once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


@needs_php
def test_a_run_past_its_budget_is_killed_reported_and_uploaded(
    runner: Runner, monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands = DEFAULT_COMMANDS | {"slow": {"options": {}}}
    monkeypatch.setenv("TEST_RUNNER_COMMANDS", json.dumps(commands))
    monkeypatch.setenv("UPLOAD_MARGIN_SECONDS", "1")
    summary = test_runner.handler({"command": "slow"}, Context(remaining_ms=3_000))
    assert (summary["status"], summary["exit_code"]) == ("timeout", None)
    prefix = summary["results_prefix"]
    assert runner.objects() == [f"{prefix}output.txt", f"{prefix}summary.json"]
    output = runner.text(f"{prefix}output.txt")
    assert "started" in output and "never printed" not in output
    assert "stopped after 2 s" in output
    assert json.loads(runner.text(f"{prefix}summary.json"))["status"] == "timeout"
    grandchild = int((runner.tmp / "child.pid").read_text())
    assert _state(grandchild) in (None, "Z"), "the command's whole process group is stopped"


def test_too_little_time_left_is_refused_before_running(
    runner: Runner, monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = test_runner.handler({"command": "test"}, Context(remaining_ms=5_500))
    assert summary["status"] == "rejected" and "upload margin" in summary["error"]
    assert runner.runs() == [] and runner.objects() == []


# Refusals: nothing starts.

LONG = "A" * 129
REFUSED: dict[str, Any] = {
    "semicolon-in-command": {"command": "test; rm -rf /"},
    "and-in-command": {"command": "test && whoami"},
    "substitution-in-command": {"command": "$(id)"},
    "backticks-in-command": {"command": "`id`"},
    "newline-in-command": {"command": "test\nid"},
    "tinker": {"command": "tinker"},
    "db-wipe": {"command": "db:wipe"},
    "migrate-fresh": {"command": "migrate:fresh", "force": True},
    "uppercase-command": {"command": "TEST"},
    "command-not-a-string": {"command": ["test"]},
    "command-null": {"command": None},
    "semicolon-in-value": {"command": "test", "filter": "Unit; id"},
    "and-in-value": {"command": "test", "filter": "Unit && id"},
    "substitution-in-value": {"command": "test", "filter": "$(id)"},
    "backticks-in-value": {"command": "test", "filter": "`id`"},
    "newline-in-value": {"command": "test", "filter": "Unit\n--log-junit=/tmp/x"},
    "trailing-newline": {"command": "test", "filter": "Unit\n"},
    "nul-in-value": {"command": "test", "filter": "Unit\x00"},
    "value-starting-with-dashes": {"command": "test", "filter": "--configuration=/tmp/evil"},
    "value-starting-with-dash": {"command": "test", "testsuite": "-c"},
    "space-in-value": {"command": "test", "filter": "Unit Integration"},
    "pipe-in-value": {"command": "test", "filter": "Unit|Feature"},
    "slash-in-value": {"command": "test", "filter": "../../etc/passwd"},
    "quote-in-value": {"command": "test", "filter": "Unit'"},
    "non-ascii-letter": {"command": "test", "filter": "\uff29ntegration"},
    "overlong-value": {"command": "test", "filter": LONG},
    "empty-value": {"command": "test", "filter": ""},
    "unknown-option": {"command": "test", "configuration": "phpunit.xml"},
    "junit-path-option": {"command": "test", "log-junit": "/tmp/x.xml"},
    "option-of-another-command": {"command": "scribe:generate", "filter": "Unit"},
    "raw-argument-list": {"command": "test", "args": ["--filter", "Unit"]},
    "flag-as-string": {"command": "test", "parallel": "true"},
    "flag-as-number": {"command": "test", "parallel": 1},
    "value-as-number": {"command": "test", "filter": 5},
    "value-as-list": {"command": "test", "filter": ["Unit"]},
    "int-as-bool": {"command": "test", "processes": True},
    "int-too-small": {"command": "test", "processes": 0},
    "int-too-large": {"command": "test", "processes": 5000},
    "int-as-string": {"command": "test", "processes": "4"},
    "command-line-string": "test --filter Unit",
    "argument-list": ["test", "--filter", "Unit"],
    "null-event": None,
}


@pytest.mark.parametrize("event", list(REFUSED.values()), ids=list(REFUSED))
def test_refused_events_never_start_a_process(runner: Runner, event: Any) -> None:
    summary = test_runner.handler(event, Context())
    assert summary["status"] == "rejected"
    assert summary["error"] and summary["exit_code"] is None
    assert summary["results_prefix"] is None
    assert runner.runs() == [], "the fixture artisan must never have run"
    assert runner.objects() == []


def test_refusals_say_what_is_allowed() -> None:
    commands = parse_commands(None)
    with pytest.raises(EventError, match=r"command 'tinker' is not allowed; allowed: \["):
        test_runner.plan_run({"command": "tinker"}, commands)
    with pytest.raises(EventError, match="raw argument lists are not accepted"):
        test_runner.plan_run({"args": ["x"]}, commands)
    with pytest.raises(EventError, match="is a flag: pass true or false"):
        test_runner.plan_run({"parallel": "yes"}, commands)
    with pytest.raises(EventError, match="not a command line"):
        test_runner.plan_run("test", commands)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=140))
def test_any_accepted_value_is_one_plain_argument(value: str) -> None:
    commands = parse_commands(None)
    try:
        run = test_runner.plan_run({"command": "test", "filter": value}, commands)
    except EventError:
        return
    assert run.arguments == (f"--filter={value}",)
    assert not value.startswith("-") and len(value) <= 128
    assert set(value) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_\\:.-")


def test_the_command_line_is_php_artisan_then_options_then_junit() -> None:
    commands = parse_commands(None)
    run = test_runner.plan_run({"parallel": False, "filter": "A\\B::c", "processes": 4},
                               commands)
    assert test_runner.command_line(run, "/opt/php", Path("/tmp/j.xml")) == [
        "/opt/php", "artisan", "test", "--filter=A\\B::c", "--processes=4",
        "--log-junit", "/tmp/j.xml"]
    run = test_runner.plan_run({"command": "phpunit", "exclude-group": "slow"}, commands)
    assert test_runner.command_line(run, "php", None) == [
        "php", "vendor/bin/phpunit", "--exclude-group=slow"]


BAD_CONFIGS = {
    "not-json": "{",
    "empty": "{}",
    "bad-name": json.dumps({"Test;rm": {}}),
    "bad-type": json.dumps({"test": {"options": {"filter": "shell"}}}),
    "junit-option": json.dumps({"test": {"options": {"log-junit": "value"}}}),
    "escaping-artifact": json.dumps({"test": {"artifacts": ["../secrets"]}}),
    "absolute-artifact": json.dumps({"test": {"artifacts": ["/etc"]}}),
    "script-up": json.dumps({"test": {"script": "../bin/php"}}),
    "unknown-key": json.dumps({"test": {"shell": True}}),
}


@pytest.mark.parametrize("text", list(BAD_CONFIGS.values()), ids=list(BAD_CONFIGS))
def test_a_bad_allow_list_is_a_configuration_error(text: str) -> None:
    with pytest.raises(test_runner.SetupError, match="TEST_RUNNER_COMMANDS"):
        parse_commands(text)


BAD_SECRETS = {
    "not-an-object": "[]",
    "not-an-arn": json.dumps({"DB_PASSWORD": "/app/db-password"}),
    "other-service": json.dumps({"DB_PASSWORD": "arn:aws:s3:::bucket/key"}),
    "role-variable": json.dumps({
        "AWS_SECRET_ACCESS_KEY": "arn:aws:ssm:us-east-1:123456789012:parameter/x"}),
}


@pytest.mark.parametrize("text", list(BAD_SECRETS.values()), ids=list(BAD_SECRETS))
def test_a_bad_secret_list_is_a_configuration_error(text: str) -> None:
    with pytest.raises(test_runner.SetupError, match="TEST_RUNNER_SECRETS"):
        test_runner.read_secrets(text)


def test_a_missing_json_key_is_a_configuration_error(runner: Runner) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="db", SecretString="{}")["ARN"]
    with pytest.raises(test_runner.SetupError, match="no JSON key 'password'"):
        test_runner.read_secrets(json.dumps({"DB_PASSWORD": f"{arn}:password::"}))


def test_junit_counts_read_phpunit_and_single_suite_files(tmp_path: Path) -> None:
    single = tmp_path / "single.xml"
    single.write_text('<testsuite tests="3" failures="1" errors="0" skipped="1">'
                      '<testcase name="a"/></testsuite>')
    assert test_runner.junit_counts(single) == {"tests": 3, "failures": 1, "errors": 0,
                                                "skipped": 1}
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites><testsuite")
    assert set(test_runner.junit_counts(broken).values()) == {None}
    assert set(test_runner.junit_counts(tmp_path / "absent.xml").values()) == {None}


@needs_php
def test_the_fargate_entry_point_exits_with_the_status(
    runner: Runner, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TEST_RUN_ID", "task-0123")
    monkeypatch.setenv("TEST_RUNNER_TIMEOUT_SECONDS", "120")
    assert test_runner.main(['{"command": "test", "filter": "Broken"}']) == 1
    assert test_runner.main(['{"command": "tinker"}']) == 2
    assert test_runner.main(["test --filter x"]) == 2
    assert test_runner.main(["{}"]) == 0
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["status"] for s in summaries] == ["failed", "rejected", "rejected", "passed"]
    assert summaries[0]["results_prefix"].endswith("/task-0123/")

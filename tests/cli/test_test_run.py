"""``serverless-laravel test-run`` end to end: a fake Lambda endpoint and a fake ECS endpoint on
loopback run the real handler (Debian's PHP and the fixture artisan), results go to S3 on a moto
server, and the command reads them back.

Moto cannot invoke Lambda functions without Docker and cannot start awsvpc Fargate tasks
(``RunTask`` fails on the ENI's DNS name and on task-level sizes), so these two APIs are
answered by small servers speaking their wire protocols; everything behind them is real.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import Result
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.runtime import test_runner

FIXTURE_APP = Path(__file__).resolve().parents[1] / "fixtures" / "runner-app"
BUCKET = "cli-test-results"
CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/testing"
TASK_DEFINITION = "arn:aws:ecs:eu-west-1:123456789012:task-definition/runner:3"
NETWORK = {"subnets": ["subnet-0a1b2c3d4e5f60718"], "security_groups": ["sg-0123456789abcdef0"]}
pytestmark = pytest.mark.skipif(
    shutil.which("php") is None,
    reason="php is not installed: `make php` installs Debian's php8.2-cli (`make test` runs it)")


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Fakes:
    """The fake endpoints' URLs and what they received."""

    lambda_url: str = ""
    ecs_url: str = ""
    invocations: list[tuple[str, Any]] = field(default_factory=list)
    ecs_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)


FAKES = Fakes()
FUNCTIONS = {  # name: (remaining ms given to the handler, environment reported)
    "runner": (60_000, {"RESULTS_BUCKET": BUCKET, "TEST_RUNNER_CLUSTER": CLUSTER,
                        "TEST_RUNNER_TASK_DEFINITION": TASK_DEFINITION,
                        "TEST_RUNNER_CONTAINER": "runner",
                        "TEST_RUNNER_TASK_NETWORK": json.dumps(NETWORK)}),
    "lambda-only": (60_000, {"RESULTS_BUCKET": BUCKET}),
    "short": (3_000, {"RESULTS_BUCKET": BUCKET}),
}


class _Lambda(BaseHTTPRequestHandler):
    """Invoke runs the real handler; GetFunctionConfiguration reports the environment."""

    def do_POST(self) -> None:
        name = self.path.split("/")[3]
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FAKES.invocations.append((name, payload))
        if name == "crashing":
            return self._send({"errorType": "Runtime.ExitError", "errorMessage": "boom"},
                              {"X-Amz-Function-Error": "Unhandled"})
        if name not in FUNCTIONS:
            return self._send({"Type": "User", "Message": f"Function not found: {name}"},
                              {"x-amzn-ErrorType": "ResourceNotFoundException"}, 404)
        with contextlib.redirect_stdout(io.StringIO()):  # its log line goes to CloudWatch
            summary = test_runner.handler(payload, Context(FUNCTIONS[name][0]))
        return self._send(summary)

    def do_GET(self) -> None:
        name = self.path.split("/")[3]
        if name not in FUNCTIONS:
            return self._send({"Type": "User", "Message": f"Function not found: {name}"},
                              {"x-amzn-ErrorType": "ResourceNotFoundException"}, 404)
        return self._send({"FunctionName": name, "PackageType": "Image",
                           "Environment": {"Variables": FUNCTIONS[name][1]}})

    def _send(self, body: Any, headers: dict[str, str] | None = None, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Ecs(_Lambda):
    """RunTask starts the container (the real handler, as ``python -m`` would) in a thread;
    DescribeTasks reports it until it stops with the handler's exit code."""

    def do_POST(self) -> None:
        action = self.headers["X-Amz-Target"].rsplit(".", 1)[1]
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FAKES.ecs_calls.append((action, request))
        if action == "RunTask":
            arn = f"arn:aws:ecs:eu-west-1:123456789012:task/testing/{uuid.uuid4().hex}"
            FAKES.tasks[arn] = {"taskArn": arn, "lastStatus": "PROVISIONING",
                                "containers": [{"name": "runner"}]}
            threading.Thread(target=_container, args=(arn, request), daemon=True).start()
            return self._send({"tasks": [FAKES.tasks[arn]], "failures": []})
        if action == "DescribeTasks":
            return self._send({"tasks": [FAKES.tasks[a] for a in request["tasks"]],
                               "failures": []})
        return self._send({"__type": "InvalidParameterException"}, status=400)


def _container(arn: str, request: dict[str, Any]) -> None:
    override = request["overrides"]["containerOverrides"][0]
    run_id = {e["name"]: e["value"] for e in override["environment"]}["TEST_RUN_ID"]
    FAKES.tasks[arn]["lastStatus"] = "RUNNING"
    context = test_runner.TaskContext(run_id, time.monotonic() + 120)
    with contextlib.redirect_stdout(io.StringIO()):  # its log line goes to CloudWatch
        summary = test_runner.handler(json.loads(override["command"][0]), context)
    FAKES.tasks[arn] |= {"lastStatus": "STOPPED", "stoppedReason": "Essential container in "
                         "task exited", "containers": [{
                             "name": "runner",
                             "exitCode": test_runner.EXIT_CODES[summary["status"]]}]}


@pytest.fixture(scope="module")
def servers() -> Iterator[Fakes]:
    started = []
    for handler in (_Lambda, _Ecs):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
    FAKES.lambda_url, FAKES.ecs_url = (f"http://127.0.0.1:{s.server_address[1]}"
                                       for s in started)
    yield FAKES
    for server in started:
        server.shutdown()


@pytest.fixture
def fakes(servers: Fakes, aws: str, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    """The handler's environment over the fixture app, S3 in moto, ECS on the fake."""
    for name, value in {
        "AWS_ENDPOINT_URL": aws, "AWS_ENDPOINT_URL_ECS": servers.ecs_url,
        "RESULTS_BUCKET": BUCKET, "APP_ROOT": str(FIXTURE_APP), "UPLOAD_MARGIN_SECONDS": "1",
        "RUNNER_FIXTURE_LOG": str(tmp_path / "ran.log"),
        "RUNNER_FIXTURE_CHILD": str(tmp_path / "child.pid"),
        "TEST_RUNNER_COMMANDS": json.dumps(test_runner.DEFAULT_COMMANDS
                                           | {"slow": {"options": {}}}),
        "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TEST_RUNNER_SECRETS", raising=False)
    boto3.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    servers.invocations.clear()
    servers.ecs_calls.clear()
    yield servers


def run(fakes: Fakes, *argv: str) -> Result:
    return CliRunner().invoke(app, ["test-run", "--endpoint-url", fakes.lambda_url, *argv])


def s3_text(key: str) -> str:
    return boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def test_a_passing_run_prints_the_table_and_saves_the_junit_file(
    fakes: Fakes, tmp_path: Path,
) -> None:
    junit = tmp_path / "reports" / "junit.xml"
    result = run(fakes, "--function", "runner", "--filter", "Integration", "--parallel",
                 "--junit", str(junit))
    assert result.exit_code == 0, result.output
    assert fakes.invocations == [("runner", {"command": "test", "filter": "Integration",
                                             "parallel": True})]
    for text in ("Test run on Lambda", "passed", "tests", "6", "skipped",
                 f"s3://{BUCKET}/runs/"):
        assert text in result.stdout
    [key] = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]
             if o["Key"].endswith("/junit.xml")]
    assert junit.read_text() == s3_text(key)


def test_failed_tests_exit_1_with_the_end_of_the_output(fakes: Fakes, tmp_path: Path) -> None:
    result = run(fakes, "--function", "runner", "--filter", "Broken",
                 "--junit", str(tmp_path / "junit.xml"))
    assert result.exit_code == 1
    assert "failed" in result.stdout and "FAILURES!" in result.stderr
    assert 'failures="2"' in (tmp_path / "junit.xml").read_text()


def test_the_summary_as_json(fakes: Fakes, tmp_path: Path) -> None:
    result = run(fakes, "--function", "runner", "--json", "--no-junit",
                 "--option", "processes=4", "--flag", "stop-on-failure",
                 "--exclude-group", "slow")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["tests"], summary["failures"]) == ("passed", 6, 0)
    assert fakes.invocations[0][1] == {"command": "test", "exclude-group": "slow",
                                       "processes": 4, "stop-on-failure": True}
    assert not (tmp_path / "junit.xml").exists()


def test_a_rejected_run_exits_2_and_nothing_runs(fakes: Fakes, tmp_path: Path) -> None:
    result = run(fakes, "--function", "runner", "--command", "db:wipe")
    assert result.exit_code == 2
    assert "Test run on Lambda" in result.stdout and "rejected" in result.stdout
    assert "'db:wipe' is not allowed" in result.stdout
    assert not (tmp_path / "ran.log").exists()


def test_docs_commands_have_no_junit_to_download(fakes: Fakes, tmp_path: Path) -> None:
    result = run(fakes, "--function", "runner", "--command", "scribe:generate",
                 "--junit", str(tmp_path / "junit.xml"))
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "junit.xml").exists()


def test_a_run_past_its_budget_exits_124(fakes: Fakes) -> None:
    result = run(fakes, "--function", "short", "--command", "slow", "--no-junit")
    assert result.exit_code == 124
    assert "timeout" in result.stdout and "stopped after" in result.stderr


def test_a_failing_function_exits_3(fakes: Fakes) -> None:
    result = run(fakes, "--function", "crashing")
    assert result.exit_code == 3
    assert "the runner failed (Unhandled)" in result.stderr


def test_an_unknown_function_exits_3_with_aws_s_reason(fakes: Fakes) -> None:
    result = run(fakes, "--function", "nope")
    assert result.exit_code == 3
    assert "ResourceNotFoundException" in result.stderr


@pytest.mark.parametrize("argv", [
    ["--function", "bad name!"],
    ["--function", "runner", "--option", "processes"],
    ["--function", "runner", "--timeout", "0"],
    ["--function", "runner", "--endpoint-url", "ftp://x"],
])
def test_bad_input_exits_2_before_any_call(fakes: Fakes, argv: list[str]) -> None:
    result = CliRunner().invoke(app, ["test-run", *argv])
    assert result.exit_code == 2, result.output
    assert fakes.invocations == [] and fakes.ecs_calls == []


# The Fargate variant.

def test_fargate_starts_the_task_waits_and_reads_the_summary(
    fakes: Fakes, tmp_path: Path,
) -> None:
    result = run(fakes, "--function", "runner", "--fargate", "--filter", "Broken",
                 "--poll", "0.2", "--junit", str(tmp_path / "junit.xml"))
    assert result.exit_code == 1, result.output
    assert "Test run on Fargate" in result.stdout and "failed" in result.stdout
    actions = [action for action, _ in fakes.ecs_calls]
    assert actions[0] == "RunTask" and set(actions[1:]) == {"DescribeTasks"}
    request = fakes.ecs_calls[0][1]
    assert (request["cluster"], request["taskDefinition"], request["launchType"]) == (
        CLUSTER, TASK_DEFINITION, "FARGATE")
    assert request["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": NETWORK["subnets"], "securityGroups": NETWORK["security_groups"],
        "assignPublicIp": "DISABLED"}}
    [override] = request["overrides"]["containerOverrides"]
    assert override["name"] == "runner"
    assert json.loads(override["command"][0]) == {"command": "test", "filter": "Broken"}
    run_id = override["environment"][0]["value"]
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert {k.split("/")[2] for k in keys} == {run_id}
    assert 'failures="2"' in (tmp_path / "junit.xml").read_text()
    assert fakes.invocations == [], "a Fargate run does not invoke the function"


def test_fargate_needs_a_runner_built_with_a_cluster(fakes: Fakes) -> None:
    result = run(fakes, "--function", "lambda-only", "--fargate")
    assert result.exit_code == 2
    assert "build the TestRunner with cluster=" in result.stderr
    assert fakes.ecs_calls == []

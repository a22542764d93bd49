"""``serverless-laravel artisan`` against a fake Lambda Invoke endpoint on loopback.

Moto cannot run Lambda functions without Docker, so a tiny HTTP server answers Invoke the way
Lambda does, per function name, and records every request it received.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from click.testing import Result
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.errors import ConfigurationError
from serverless_laravel.ops import artisan
from serverless_laravel.ops.artisan import ArtisanResult, invoke_artisan, lambda_client

INVOKE_PATH = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)/invocations")
LOG_TAIL = "START RequestId: 1\nMigrated\nEND RequestId: 1\n"

UNHANDLED = {"X-Amz-Function-Error": "Unhandled"}
FUNCTIONS: dict[str, tuple[int, dict[str, str], dict[str, Any]]] = {
    "ok-fn": (200, {}, {"exitCode": 0, "output": "Migrated"}),
    "exit5-fn": (200, {}, {"exitCode": 5, "output": "Nothing to migrate"}),
    "fail-fn": (
        200,
        UNHANDLED,
        {"errorType": "Exception", "errorMessage": "SQLSTATE[HY000] Connection refused"},
    ),
    "exit3-fn": (
        200,
        UNHANDLED,
        {
            "errorType": "Exception",
            "errorMessage": "The command exited with a non-zero status code: 3",
            "stackTrace": [],
        },
    ),
    "timeout-fn": (
        200,
        UNHANDLED,
        {
            "errorType": "Sandbox.Timedout",
            "errorMessage": "RequestId: 1 Error: Task timed out after 900.00 seconds",
        },
    ),
    "process-timeout-fn": (
        200,
        UNHANDLED,
        {
            "errorType": "Symfony\\Component\\Process\\Exception\\ProcessTimedOutException",
            "errorMessage": 'The process "php artisan" exceeded the timeout of 899 seconds.',
        },
    ),
    "big-fn": (
        200,
        UNHANDLED,
        {
            "errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": "Response payload size exceeded maximum allowed payload size.",
        },
    ),
    "crash-fn": (
        200,
        UNHANDLED,
        {"errorType": "Runtime.ExitError", "errorMessage": "Runtime exited: exit status 255"},
    ),
    "fpm-fn": (200, {}, {"statusCode": 200, "body": "<html>"}),
    "throttled-fn": (
        429,
        {"x-amzn-ErrorType": "TooManyRequestsException"},
        {"Type": "User", "message": "Rate Exceeded."},
    ),
    "broken-fn": (
        500,
        {"x-amzn-ErrorType": "ServiceException"},
        {"Type": "Service", "Message": "Internal failure"},
    ),
}
NOT_FOUND = (
    404,
    {"x-amzn-ErrorType": "ResourceNotFoundException"},
    {"Type": "User", "Message": "Function not found: nope-fn"},
)


@dataclass
class Invocation:
    """One request the fake endpoint received."""

    name: str
    query: str
    body: bytes
    log_type: str | None


@dataclass
class FakeLambda:
    """The running fake endpoint: its URL, what it received, and how to release slow calls."""

    url: str
    invocations: list[Invocation] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def bodies(self, name: str) -> list[str]:
        """The payloads ``name`` received, decoded."""
        return [i.body.decode() for i in self.invocations if i.name == name]


class _Handler(BaseHTTPRequestHandler):
    """Answers Invoke per function name like Lambda: 200 plus headers, or an API error."""

    fake: FakeLambda

    def do_POST(self) -> None:
        """Record the invocation, then answer for the function it names."""
        url = urlsplit(self.path)
        match = INVOKE_PATH.fullmatch(url.path)
        name = unquote(match["name"]) if match else ""
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        log_type = self.headers.get("X-Amz-Log-Type")
        self.fake.invocations.append(Invocation(name, url.query, body, log_type))
        if name == "slow-fn":
            self.fake.release.wait(timeout=5)
        status, headers, payload = FUNCTIONS.get(name, NOT_FOUND)
        if name == "slow-fn":
            status, headers, payload = FUNCTIONS["ok-fn"]
        if status == 200:
            headers = {**headers, "X-Amz-Executed-Version": "$LATEST"}
            if log_type == "Tail":
                headers["X-Amz-Log-Result"] = base64.b64encode(LOG_TAIL.encode()).decode()
        self._answer(status, headers, payload)

    def _answer(self, status: int, headers: dict[str, str], payload: dict[str, Any]) -> None:
        """Send a JSON answer; a client that already gave up is ignored."""
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            for key, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="session")
def fake_lambda_server() -> Iterator[FakeLambda]:
    """The fake endpoint on 127.0.0.1 for the whole session."""
    fake = FakeLambda(url="")
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_lambda(
    fake_lambda_server: FakeLambda, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeLambda]:
    """The endpoint with no recorded requests, dummy credentials and no local AWS config."""
    dummy = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    for name, value in dummy.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        monkeypatch.delenv(name, raising=False)
    fake_lambda_server.invocations.clear()
    fake_lambda_server.release.clear()
    yield fake_lambda_server
    fake_lambda_server.release.set()


def client_for(fake: FakeLambda, read_timeout: int = artisan.DEFAULT_TIMEOUT) -> Any:
    """A Lambda client configured as the CLI configures it, pointed at the fake endpoint."""
    return lambda_client(read_timeout, region="us-east-1", endpoint_url=fake.url)


def invoke(fake: FakeLambda, name: str, args: list[str], **kwargs: Any) -> ArtisanResult:
    """``invoke_artisan`` against the fake endpoint."""
    return invoke_artisan(name, args, client=client_for(fake), **kwargs)


def run_cli(fake: FakeLambda, *argv: str) -> Result:
    """Run ``serverless-laravel artisan --endpoint-url FAKE ...`` in-process."""
    return CliRunner().invoke(app, ["artisan", "--endpoint-url", fake.url, *argv])


def test_success_sends_the_quoted_command_as_a_json_string(fake_lambda: FakeLambda) -> None:
    result = invoke(fake_lambda, "ok-fn", ["migrate", "--force"])
    assert result == ArtisanResult(0, "Migrated", "ok")
    assert fake_lambda.bodies("ok-fn") == ['"migrate --force"']


@pytest.mark.parametrize(
    "args",
    [
        ["db:seed", "--class=Foo Bar"],
        ["app:greet", "O'Brien", 'say "hi"', "$(reboot); rm -rf /", ""],
    ],
)
def test_arguments_survive_the_remote_shell(fake_lambda: FakeLambda, args: list[str]) -> None:
    invoke(fake_lambda, "ok-fn", args)
    (body,) = fake_lambda.bodies("ok-fn")
    assert json.loads(body) == shlex.join(args)
    assert shlex.split(json.loads(body)) == args


def test_space_in_an_argument_is_single_quoted(fake_lambda: FakeLambda) -> None:
    invoke(fake_lambda, "ok-fn", ["db:seed", "--class=Foo Bar"])
    assert fake_lambda.bodies("ok-fn") == ["\"db:seed '--class=Foo Bar'\""]


@pytest.mark.parametrize(
    ("name", "exit_code", "kind", "output"),
    [
        ("exit3-fn", 3, "command_failed", "The command exited with a non-zero status code: 3"),
        ("fail-fn", 1, "command_failed", "SQLSTATE[HY000] Connection refused"),
        ("exit5-fn", 5, "command_failed", "Nothing to migrate"),
        ("timeout-fn", 124, "timeout", "RequestId: 1 Error: Task timed out after 900.00 seconds"),
        ("process-timeout-fn", 124, "timeout", 'The process "php artisan" exceeded the timeout'),
        ("big-fn", 1, "function_error", "Response payload size exceeded"),
        ("crash-fn", 1, "function_error", "Runtime exited: exit status 255"),
        ("fpm-fn", 1, "function_error", '"statusCode": 200'),
    ],
)
def test_each_response_shape_maps_to_an_exit_code(
    fake_lambda: FakeLambda, name: str, exit_code: int, kind: str, output: str
) -> None:
    result = invoke(fake_lambda, name, ["migrate", "--force"])
    assert (result.exit_code, result.kind) == (exit_code, kind)
    assert output in result.output
    assert result.detail


def test_client_read_timeout_is_a_timeout(fake_lambda: FakeLambda) -> None:
    config = Config(read_timeout=0.2, retries={"max_attempts": 0})
    client = boto3.client("lambda", endpoint_url=fake_lambda.url, config=config)
    result = invoke_artisan("slow-fn", ["migrate"], client=client)
    assert (result.exit_code, result.kind) == (124, "timeout")
    assert "may still be running" in result.detail
    assert len(fake_lambda.bodies("slow-fn")) == 1


def test_tail_logs_are_requested_and_decoded(fake_lambda: FakeLambda) -> None:
    result = invoke(fake_lambda, "ok-fn", ["migrate"], tail_logs=True)
    assert result.log_tail == LOG_TAIL
    assert fake_lambda.invocations[-1].log_type == "Tail"


def test_qualifier_is_sent(fake_lambda: FakeLambda) -> None:
    invoke(fake_lambda, "ok-fn", ["migrate"], qualifier="live")
    assert fake_lambda.invocations[-1].query == "Qualifier=live"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("nope-fn", "ResourceNotFoundException"),
        ("throttled-fn", "TooManyRequestsException"),
        ("broken-fn", "ServiceException"),
    ],
)
def test_aws_errors_are_raised_after_exactly_one_request(
    fake_lambda: FakeLambda, monkeypatch: pytest.MonkeyPatch, name: str, code: str
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
    with pytest.raises(ClientError) as caught:
        invoke(fake_lambda, name, ["migrate", "--force"])
    assert caught.value.response["Error"]["Code"] == code
    assert len(fake_lambda.bodies(name)) == 1


@pytest.mark.parametrize(
    ("function", "args", "kwargs", "prop"),
    [
        ("", ["migrate"], {}, "function"),
        ("bad name!", ["migrate"], {}, "function"),
        ("arn:aws:s3:::bucket", ["migrate"], {}, "function"),
        ("ok-fn", [], {}, "args"),
        ("ok-fn", "migrate --force", {}, "args"),
        ("ok-fn", ["migrate", "a\0b"], {}, "args"),
        ("ok-fn", ["migrate"], {"timeout": 0}, "timeout"),
        ("ok-fn", ["migrate"], {"timeout": 906}, "timeout"),
        ("ok-fn", ["migrate"], {"qualifier": "no/slash"}, "qualifier"),
    ],
)
def test_bad_input_never_reaches_aws(
    fake_lambda: FakeLambda, function: str, args: list[str], kwargs: dict[str, Any], prop: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        invoke(fake_lambda, function, args, **kwargs)
    assert caught.value.prop == prop
    assert fake_lambda.invocations == []


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["db:seed", "--class=${:APP_KEY}"], "serverless_laravel_artisan.args.expansion"),
        (["about", "${HOME}"], "serverless_laravel_artisan.args.expansion"),
        (["about", "--only=$" + "{:DB_SECRET}"], "serverless_laravel_artisan.args.expansion"),
        (["about", "caf\ud800"], "serverless_laravel_artisan.args.surrogate"),
        (["about", "x" * (128 * 1024)], "serverless_laravel_artisan.args.size"),
        (["migrate:rollback", "--force"], "serverless_laravel_artisan.args.dangerous"),
        (["queue:clear"], "serverless_laravel_artisan.args.dangerous"),
        (["cache:clear"], "serverless_laravel_artisan.args.dangerous"),
        (["db:wipe", "--force"], "serverless_laravel_artisan.args.dangerous"),
        (["tinker"], "serverless_laravel_artisan.args.dangerous"),
        (["migrate", "a\0b"], "serverless_laravel_artisan.args.nul"),
    ],
    ids=["symfony-placeholder", "shell-variable", "in-option", "lone-surrogate", "over-128k",
         "rollback", "queue-clear", "cache-clear", "db-wipe", "tinker", "nul"],
)
def test_arguments_bref_would_mangle_are_refused(
    fake_lambda: FakeLambda, args: list[str], code: str,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        invoke(fake_lambda, "ok-fn", args)
    assert caught.value.code == code
    assert fake_lambda.invocations == []


def test_a_dollar_without_a_brace_is_plain_text(fake_lambda: FakeLambda) -> None:
    assert invoke(fake_lambda, "ok-fn", ["about", "--only=$5", "a{b}"]).kind == "ok"
    assert fake_lambda.bodies("ok-fn") == [json.dumps("about '--only=$5' 'a{b}'")]


def test_the_largest_command_line_the_shell_takes_is_sent(fake_lambda: FakeLambda) -> None:
    args = ["about", "x" * (128 * 1024 - len("about "))]
    assert invoke(fake_lambda, "ok-fn", args).kind == "ok"


@pytest.mark.parametrize(
    "args",
    [
        ["tinker"],
        ["serve"],
        ["queue:work", "--tries=3"],
        ["queue:listen"],
        ["--env", "production", "schedule:work"],
        ["-v", "q:w"],
        ["TINK"],
        ["migrate:fresh", "--force"],
    ],
)
def test_dangerous_commands_need_force(fake_lambda: FakeLambda, args: list[str]) -> None:
    with pytest.raises(ConfigurationError, match="--force-dangerous"):
        invoke(fake_lambda, "ok-fn", args)
    assert invoke(fake_lambda, "ok-fn", args, allow_dangerous=True).kind == "ok"


@pytest.mark.parametrize(
    "args",
    [["down"], ["migrate", "--force"], ["queue:restart"], ["--version"], ["help", "tinker"]],
)
def test_ordinary_commands_are_allowed(fake_lambda: FakeLambda, args: list[str]) -> None:
    assert invoke(fake_lambda, "ok-fn", args).kind == "ok"


def test_full_arn_is_accepted_and_names_the_region() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:app-console:live"
    artisan.check_function_name(arn)
    assert artisan.arn_region(arn) == "eu-west-1"


def test_cli_success_prints_output_and_exits_zero(fake_lambda: FakeLambda) -> None:
    result = run_cli(fake_lambda, "--function", "ok-fn", "--", "migrate", "--force")
    assert (result.exit_code, result.stdout) == (0, "Migrated\n")
    assert fake_lambda.bodies("ok-fn") == ['"migrate --force"']


def test_cli_keeps_arguments_with_spaces(fake_lambda: FakeLambda) -> None:
    result = run_cli(fake_lambda, "--function", "ok-fn", "--", "db:seed", "--class=Foo Bar")
    assert result.exit_code == 0
    assert fake_lambda.bodies("ok-fn") == [json.dumps("db:seed '--class=Foo Bar'")]


@pytest.mark.parametrize(
    ("name", "exit_code", "stdout", "stderr"),
    [
        ("exit3-fn", 3, "non-zero status code: 3\n", "exit code 3"),
        ("fail-fn", 1, "Connection refused\n", "exit code 1"),
        ("timeout-fn", 124, "Task timed out", "timed out on Lambda"),
        ("crash-fn", 1, "Runtime exited", "the function failed"),
        ("nope-fn", 1, "", "ResourceNotFoundException"),
        ("throttled-fn", 1, "", "did not run"),
        ("broken-fn", 1, "", "may or may not have run"),
    ],
)
def test_cli_exit_codes(
    fake_lambda: FakeLambda, name: str, exit_code: int, stdout: str, stderr: str
) -> None:
    result = run_cli(fake_lambda, "--function", name, "--", "migrate", "--force")
    assert result.exit_code == exit_code
    assert stdout in result.stdout
    assert stderr in result.stderr
    assert len(fake_lambda.bodies(name)) == 1


def test_cli_client_timeout_exits_124(fake_lambda: FakeLambda) -> None:
    result = run_cli(fake_lambda, "--function", "slow-fn", "--timeout", "1", "--", "migrate")
    assert result.exit_code == 124
    assert "no answer within 1 s" in result.stderr


def test_cli_tail_logs_go_to_stderr(fake_lambda: FakeLambda) -> None:
    result = run_cli(fake_lambda, "--function", "ok-fn", "--tail-logs", "--", "migrate")
    assert (result.exit_code, result.stdout) == (0, "Migrated\n")
    assert LOG_TAIL in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["--function", "ok-fn"],
        ["--function", "", "--", "migrate"],
        ["--function", "ok-fn", "--timeout", "0", "--", "migrate"],
        ["--function", "ok-fn", "--", "tinker"],
        ["--function", "ok-fn", "--endpoint-url", "ftp://x", "--", "migrate"],
        ["migrate", "--force", "--function", "ok-fn"],
        ["--function", "ok-fn", "migrate", "--function=other-fn"],
        ["--function", "ok-fn", "--", "about", "${:APP_KEY}"],
    ],
    ids=["no-command", "empty-function", "timeout", "dangerous", "endpoint",
         "function-after-command", "function-after-command-inline", "placeholder"],
)
def test_cli_bad_input_exits_2(fake_lambda: FakeLambda, argv: list[str]) -> None:
    result = run_cli(fake_lambda, *argv)
    assert result.exit_code == 2
    assert "is invalid" in result.stderr
    assert fake_lambda.invocations == []


def test_cli_function_option_for_artisan_goes_after_the_separator(
    fake_lambda: FakeLambda,
) -> None:
    result = run_cli(fake_lambda, "--function", "ok-fn", "--", "make:thing", "--function", "x")
    assert result.exit_code == 0
    assert fake_lambda.bodies("ok-fn") == ['"make:thing --function x"']


def test_cli_force_dangerous_allows_a_denied_command(fake_lambda: FakeLambda) -> None:
    result = run_cli(fake_lambda, "--function", "ok-fn", "--force-dangerous", "--", "tinker")
    assert result.exit_code == 0
    assert fake_lambda.bodies("ok-fn") == ['"tinker"']

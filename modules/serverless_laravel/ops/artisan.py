"""Run an artisan command on the deployed app by invoking its Bref console Lambda function.

Payload: the JSON encoding of one string, the artisan arguments joined with ``shlex.join``
(``["migrate", "--force"]`` is sent as ``"migrate --force"``). Bref's console runtime pastes that
string into ``/opt/bin/php artisan <string> 2>&1`` and runs it through ``/bin/sh`` on Lambda, so
each argument must be shell-quoted: spaces and quotes then reach artisan unchanged and shell
syntax (``;``, ``$()``) in an argument stays literal text. Nothing runs through a local shell.

Exit codes of the command line:

* 0: the command succeeded (``{"exitCode": 0, "output": ...}``).
* 1..255: the command failed with that code. Bref reports a failure as a function error whose
  message is "The command exited with a non-zero status code: N"; N is used when present, 1
  otherwise (a failure message carrying no code).
* 124: the command timed out, on Lambda or waiting for its answer (like coreutils ``timeout``).
* 1: AWS refused or failed the invocation, or the function failed outside the command.
* 2: bad input (function name, arguments, timeout), nothing was invoked.

A command's own code of 1, 2 or 124 cannot be told from these; the printed message can.
The invocation is never retried: a retried ``migrate`` could run twice.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from botocore.exceptions import BotoCoreError, ClientError

from ..checks import DANGEROUS_ARTISAN_COMMANDS, check_int, dangerous_artisan_command
from ..errors import config_error

Kind = Literal["ok", "command_failed", "function_error", "timeout"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_TIMEOUT = 124

MAX_FUNCTION_TIMEOUT = 900
READ_MARGIN = 5
DEFAULT_TIMEOUT = MAX_FUNCTION_TIMEOUT + READ_MARGIN
CONNECT_TIMEOUT = 10
# Linux's limit on one argument string (MAX_ARG_STRLEN), which `sh -c "<command line>"` is.
MAX_COMMAND_BYTES = 128 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")

WHERE = "serverless-laravel artisan"

FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?")
PARTIAL_ARN = re.compile(r"\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?")
FUNCTION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:function:"
    r"[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?"
)
QUALIFIER = re.compile(r"\$LATEST|[A-Za-z0-9_-]{1,128}")
EXIT_CODE_IN_MESSAGE = re.compile(r"non-zero status code: (\d+)")
PLATFORM_ERROR_PREFIXES = ("Runtime.", "Function.", "Sandbox.")

AWS_ERROR_HINTS: dict[str, str] = {
    "ResourceNotFoundException": "no such function or qualifier; check --function, "
    "--qualifier and --region",
    "TooManyRequestsException": "Lambda throttled the invocation, so the command did not run; "
    "retry when the function has free concurrency",
    "AccessDeniedException": "these credentials may not call lambda:InvokeFunction on it",
    "RequestTooLargeException": "the arguments exceed Lambda's 6 MB request limit",
}


@dataclass(frozen=True)
class ArtisanResult:
    """What one invocation produced; ``detail`` explains a non-ok result for a human."""

    exit_code: int
    output: str
    kind: Kind
    detail: str = ""
    log_tail: str | None = None


def check_function_name(name: str) -> None:
    """Reject names Lambda would refuse, before any request is made."""
    if not name:
        raise config_error(
            WHERE, "function", name, "is empty", "pass --function NAME or its ARN", kind="empty",
        )
    if not any(p.fullmatch(name) for p in (FUNCTION_NAME, PARTIAL_ARN, FUNCTION_ARN)):
        raise config_error(
            WHERE, "function",
            name,
            "is not a Lambda function name (letters, digits, - and _, up to 64) or ARN",
            "pass the console function's name or its full ARN", kind="shape",
        )


def check_qualifier(qualifier: str | None) -> None:
    """Reject a version or alias Lambda would refuse."""
    if qualifier is not None and not QUALIFIER.fullmatch(qualifier):
        raise config_error(
            WHERE, "qualifier", qualifier, "is not a version or alias", "pass e.g. $LATEST or live",
        )


def check_timeout(timeout: int) -> None:
    """The read timeout must outlast the function, which Lambda stops after 900 s at most."""
    check_int(WHERE, "timeout", timeout, 1, DEFAULT_TIMEOUT,
              f"use the function's timeout plus a few seconds, at most {DEFAULT_TIMEOUT}",
              unit="seconds")


def command_name(args: Sequence[str]) -> str | None:
    """The artisan command among ``args``: the first one not an option (nor --env's value)."""
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
        elif arg == "--env":
            skip_next = True
        elif not arg.startswith("-"):
            return arg
    return None


def check_args(args: Sequence[str], *, allow_dangerous: bool = False) -> None:
    """Reject an empty command, NUL bytes and deny-listed commands unless allowed."""
    if isinstance(args, str):
        raise config_error(
            WHERE, "args", args, "is one string, not a list", "pass e.g. ['migrate', '--force']",
            kind="type",
        )
    if not args:
        raise config_error(
            WHERE, "args", list(args), "no artisan command given", "append e.g. -- migrate --force",
            kind="empty",
        )
    if any("\0" in arg for arg in args):
        raise config_error(
            WHERE, "args", list(args), "an argument holds a NUL byte", "remove it", kind="nul",
        )
    expanded = [arg for arg in args if "${" in arg]
    if expanded:
        raise config_error(
            WHERE, "args", expanded,
            "Bref's console runtime builds the command with Symfony Process, which replaces "
            "${...} placeholders with the function's environment (its secrets included) before "
            "the shell sees them",
            "drop the ${...} from the arguments; pass values literally", kind="expansion",
        )
    if any(_SURROGATE.search(arg) for arg in args):
        raise config_error(
            WHERE, "args", [a.encode("utf-8", "backslashreplace").decode() for a in args],
            "an argument holds a lone UTF-16 surrogate, which is not valid UTF-8 and reaches "
            "PHP mangled", "pass valid Unicode text", kind="surrogate",
        )
    name = command_name(args)
    if name == "":
        raise config_error(
            WHERE, "args", list(args), "the command name is empty", "name an artisan command",
            kind="empty_name",
        )
    denied = None if name is None or allow_dangerous else dangerous_artisan_command(name)
    if denied is not None:
        raise config_error(
            WHERE, "args",
            list(args),
            f"`{name}` runs `{denied}`: {DANGEROUS_ARTISAN_COMMANDS[denied]}",
            "pass --force-dangerous if you really mean it", kind="dangerous",
        )


CLI_VALUE_OPTIONS = frozenset({"--function", "--timeout", "--qualifier", "--region",
                               "--endpoint-url"})
CLI_FLAGS = frozenset({"--tail-logs", "--force-dangerous"})


def check_option_order(raw_args: Sequence[str]) -> None:
    """Refuse ``--function`` written after the artisan command without ``--`` in between.

    ``artisan migrate --function prod-console`` reads as if ``--function`` were artisan's
    option, yet the command line takes it as its own and invokes that function: the command
    runs where the reader did not expect. Options go first; artisan's own after ``--``.
    """
    index = 0
    while index < len(raw_args):
        arg = raw_args[index]
        if arg == "--":
            return
        if arg in CLI_VALUE_OPTIONS:
            index += 2
            continue
        if arg in CLI_FLAGS or arg.split("=", 1)[0] in CLI_VALUE_OPTIONS or arg.startswith("-"):
            index += 1
            continue
        rest = raw_args[index + 1:]
        tail = rest[:rest.index("--")] if "--" in rest else rest
        misplaced = [a for a in tail if a == "--function" or a.startswith("--function=")]
        if misplaced:
            raise config_error(
                WHERE, "--function", misplaced[0],
                f"comes after the artisan command {arg!r} without `--`, so it is ambiguous: "
                "it would pick the function to invoke, not pass an option to artisan",
                "write serverless-laravel's options first and artisan's after --, e.g. "
                "serverless-laravel artisan --function NAME -- migrate --force",
                kind="after_command",
            )
        return


def build_payload(args: Sequence[str]) -> str:
    """The Invoke payload: the JSON string of the shell-quoted artisan command line."""
    command = shlex.join(args)
    size = len(command.encode())
    if size > MAX_COMMAND_BYTES:
        raise config_error(
            WHERE, "args", f"{size} bytes",
            f"Bref runs the command line through /bin/sh -c as one argument, which Linux limits "
            f"to {MAX_COMMAND_BYTES // 1024} KiB", "shorten the arguments, or pass large input "
            "through S3 or a file the command reads", kind="size",
        )
    return json.dumps(command)


def validate_invocation(
    function_name: str,
    args: Sequence[str],
    *,
    timeout: int = DEFAULT_TIMEOUT,
    qualifier: str | None = None,
    allow_dangerous: bool = False,
) -> str:
    """Check every input and return the payload, so bad input never reaches AWS."""
    check_function_name(function_name)
    check_qualifier(qualifier)
    check_timeout(timeout)
    check_args(args, allow_dangerous=allow_dangerous)
    return build_payload(args)


def check_endpoint_url(endpoint_url: str | None) -> None:
    """An endpoint override must be an http(s) URL; boto3 would fail later with less context."""
    if endpoint_url is not None and not endpoint_url.startswith(("http://", "https://")):
        raise config_error(
            WHERE, "endpoint_url", endpoint_url, "is not an http(s) URL", "pass e.g. http://...",
        )


def arn_region(function_name: str) -> str | None:
    """The region named in a full function ARN, so an ARN works without --region."""
    match = FUNCTION_ARN.fullmatch(function_name)
    return match["region"] if match else None


def lambda_client(
    timeout: int = DEFAULT_TIMEOUT, *, region: str | None = None, endpoint_url: str | None = None
) -> BaseClient:
    """A Lambda client that waits ``timeout`` s for the answer and never retries.

    TCP keepalive keeps a long, silent invocation alive through NAT gateways that drop idle
    connections.
    """
    from botocore.config import Config

    from . import aws

    config = Config(
        read_timeout=timeout,
        connect_timeout=CONNECT_TIMEOUT,
        retries={"max_attempts": 0, "mode": "standard"},
        tcp_keepalive=True,
    )
    return aws.client("lambda", region, endpoint_url=endpoint_url, config=config)


def _decode_logs(log_result: str | None) -> str | None:
    """The base64 ``LogResult`` (last 4 KB of logs) as text; None when absent or malformed."""
    if not log_result:
        return None
    try:
        return base64.b64decode(log_result, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


def _parse_body(raw: bytes) -> Any:
    """The response payload as JSON, or its text when it is not JSON."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _exit_code(value: Any) -> int:
    """A failed command's exit code as a process can report it; 1 when unusable."""
    valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 255
    return value if valid else EXIT_FAILURE


def _is_timeout(error_type: str, message: str) -> bool:
    """Lambda's own timeout, or Bref stopping the command a second before it."""
    return (
        error_type == "Sandbox.Timedout"
        or "Task timed out after" in message
        or error_type.endswith("ProcessTimedOutException")
    )


def _platform_error(error_type: str, message: str) -> ArtisanResult:
    """A failure of the function itself (crash, memory, response size), not of the command."""
    detail = f"the function failed ({error_type}), not the command"
    if error_type == "Function.ResponseSizeTooLarge":
        detail = (
            "the output exceeded Lambda's 6 MB response limit; the command most likely "
            "succeeded (Bref returns output only for exit code 0): read it in CloudWatch Logs"
        )
    return ArtisanResult(EXIT_FAILURE, message, "function_error", detail)


def _from_function_error(body: Any) -> ArtisanResult:
    """Classify a function error: timeout, platform failure or the command's non-zero exit."""
    error = body if isinstance(body, Mapping) else {"errorMessage": str(body)}
    error_type = str(error.get("errorType", ""))
    message = str(error.get("errorMessage", ""))
    if _is_timeout(error_type, message):
        detail = "the command timed out on Lambda and was stopped; it may have partly run"
        return ArtisanResult(EXIT_TIMEOUT, message, "timeout", detail)
    if error_type.startswith(PLATFORM_ERROR_PREFIXES):
        return _platform_error(error_type, message)
    code_match = EXIT_CODE_IN_MESSAGE.search(message)
    code = _exit_code(int(code_match[1])) if code_match else EXIT_FAILURE
    detail = f"the command failed with exit code {code}; its output is in CloudWatch Logs"
    return ArtisanResult(code, message, "command_failed", detail)


def _from_success(body: Any, function_name: str) -> ArtisanResult:
    """Classify a normal response: Bref's ``{"exitCode", "output"}`` or an unexpected shape."""
    code = body.get("exitCode") if isinstance(body, Mapping) else None
    if not isinstance(code, int) or isinstance(code, bool):
        text = body if isinstance(body, str) else json.dumps(body)
        detail = f"unexpected response; is {function_name!r} the Bref console function?"
        return ArtisanResult(EXIT_FAILURE, text, "function_error", detail)
    output = str(body.get("output") or "")
    if code == 0:
        return ArtisanResult(EXIT_OK, output, "ok")
    failed = _exit_code(code)
    detail = f"the command failed with exit code {failed}"
    return ArtisanResult(failed, output, "command_failed", detail)


def classify_response(response: Mapping[str, Any], function_name: str) -> ArtisanResult:
    """Turn boto3's Invoke response into an ArtisanResult, with the log tail if requested."""
    body = _parse_body(response["Payload"].read())
    if response.get("FunctionError"):
        result = _from_function_error(body)
    else:
        result = _from_success(body, function_name)
    logs = _decode_logs(response.get("LogResult"))
    return ArtisanResult(result.exit_code, result.output, result.kind, result.detail, logs)


def invoke_artisan(
    function_name: str,
    args: Sequence[str],
    *,
    client: BaseClient | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    qualifier: str | None = None,
    tail_logs: bool = False,
    allow_dangerous: bool = False,
) -> ArtisanResult:
    """Run ``php artisan <args>`` on the console function once and report how it ended.

    ``timeout`` configures the client built here; a given ``client`` keeps its own read
    timeout. Raises ConfigurationError for bad input and botocore errors when AWS refuses.
    """
    from botocore.exceptions import ReadTimeoutError

    payload = validate_invocation(
        function_name, args, timeout=timeout, qualifier=qualifier, allow_dangerous=allow_dangerous
    )
    client = client or lambda_client(timeout)
    request: dict[str, Any] = {
        "FunctionName": function_name,
        "InvocationType": "RequestResponse",
        "Payload": payload.encode(),
        "LogType": "Tail" if tail_logs else "None",
    }
    if qualifier is not None:
        request["Qualifier"] = qualifier
    try:
        response = client.invoke(**request)
    except ReadTimeoutError:
        return _client_timeout(client)
    return classify_response(response, function_name)


def _client_timeout(client: BaseClient) -> ArtisanResult:
    """No answer within the read timeout: the command may still be running on Lambda."""
    waited = client.meta.config.read_timeout
    detail = (
        f"no answer within {waited} s; the command may still be running on Lambda, "
        "so check its logs before running it again"
    )
    return ArtisanResult(EXIT_TIMEOUT, "", "timeout", detail)


def describe_aws_error(error: ClientError | BotoCoreError) -> str:
    """One line on why AWS refused the invocation and what to do about it."""
    from botocore.exceptions import ClientError, NoRegionError

    if isinstance(error, NoRegionError):
        return ("no AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION) or give "
                "the function's ARN")
    if not isinstance(error, ClientError):
        return f"AWS call failed: {error}"
    code = error.response.get("Error", {}).get("Code", "Unknown")
    message = error.response.get("Error", {}).get("Message", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    hint = AWS_ERROR_HINTS.get(code, "")
    if not hint and status >= 500:
        hint = "the command may or may not have run; check the function's logs before retrying"
    return f"AWS refused the invocation ({code}: {message})" + (f": {hint}" if hint else "")

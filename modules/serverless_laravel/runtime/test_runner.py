"""The test runner: runs one allow-listed artisan command (the test suite, a doc generator) next
to the private database and stores what it produced in S3. Standard library and boto3 only.

An event names a command and its options, never a command line::

    {"command": "test", "filter": "Integration", "testsuite": "Feature", "parallel": true}

The allow-list maps each command to the options it accepts and their types (``flag``: a JSON
boolean; ``value``: a string of letters, digits and ``_ \\ : . -``, not starting with ``-``, at
most 128 characters; ``int``: 1..1000). Anything else is rejected before any process starts.
The command runs as an argument list (no shell) in a fresh copy of the app, with the secrets
named by the construct in the child's environment only and the role's AWS credentials taken
out of it, for the invocation's remaining time minus a margin for the upload. Its output,
JUnit file and docs folders go to ``s3://$RESULTS_BUCKET/runs/<YYYY-MM-DD>/<request id>/``,
with ``summary.json``, the summary the invocation returns.

Configuration, from the environment (set by the ``TestRunner`` construct):

* ``RESULTS_BUCKET``: the bucket results go to (required).
* ``APP_ROOT``: the Laravel app (default ``/var/task``); ``PHP_BINARY``: PHP (default ``php``).
* ``TEST_RUNNER_COMMANDS``: the allow-list as JSON (default ``DEFAULT_COMMANDS``); each entry
  ``{"options": {name: type}, "junit": bool, "artifacts": [relative dirs], "script": path}``.
  ``script`` runs a PHP script instead of ``artisan <command>``: ``vendor/bin/phpunit`` runs
  the suite without ``nunomaduro/collision`` (which provides ``artisan test``).
* ``TEST_RUNNER_SECRETS``: ``{"VAR": <valueFrom>}``, read at every run; ``valueFrom`` as in
  ECS: an SSM parameter ARN, a Secrets Manager secret ARN, or a secret ARN followed by
  ``:json-key:version-stage:version-id`` (one key of a JSON secret).
* ``UPLOAD_MARGIN_SECONDS``: time kept for the upload (default 30).
* ``TEST_RUNNER_COPY_APP``: ``1`` (default) runs in a fresh copy of the app under ``/tmp``;
  ``0`` runs in place (a writable app used once, as in a Fargate task).
* ``TEST_RUNNER_SHARE_CREDENTIALS``: ``1`` leaves the role's credentials in PHP's environment
  (default ``0``: the code under test cannot act as the runner's role).
* ``TEST_RUNNER_TIMEOUT_SECONDS``: the budget outside Lambda (``python -m``; default 3600).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import mimetypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

DEFAULT_COMMAND = "test"
TEST_OPTIONS: dict[str, str] = {
    "filter": "value", "testsuite": "value", "group": "value", "exclude-group": "value",
    "parallel": "flag", "processes": "int", "stop-on-failure": "flag",
}
DEFAULT_COMMANDS: dict[str, dict[str, Any]] = {
    "test": {"options": TEST_OPTIONS, "junit": True},
    "phpunit": {"script": "vendor/bin/phpunit",
                "options": {k: v for k, v in TEST_OPTIONS.items()
                            if k not in ("parallel", "processes")},
                "junit": True},
    "scribe:generate": {"options": {"force": "flag", "no-extraction": "flag"},
                        "artifacts": ["public/docs", "storage/app/scribe"]},
    "api:export-markdown": {"options": {}, "artifacts": ["storage/app/docs"]},
}
OPTION_TYPES = ("flag", "value", "int")
INT_RANGE = (1, 1000)
MAX_VALUE_LENGTH = 128
VALUE = re.compile(rf"[A-Za-z0-9_\\:.][A-Za-z0-9_\\:.-]{{0,{MAX_VALUE_LENGTH - 1}}}")
COMMAND_NAME = re.compile(r"[a-z][a-z0-9-]*(:[a-z0-9-]+)*")
OPTION_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
RELATIVE_DIR = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
SCRIPT = re.compile(r"/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
RESULTS_ROOT = "runs"
DEFAULT_MARGIN_SECONDS = 30.0
DEFAULT_TIMEOUT_SECONDS = 3600.0
MIN_BUDGET_SECONDS = 1.0
KILL_GRACE_SECONDS = 3.0
TAIL_BYTES = 2048
# What would let PHP act as the runner's role (write results, read every secret), or answer
# the invocation in the runner's place through the Lambda runtime API.
ROLE_ENVIRONMENT = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_LAMBDA_RUNTIME_API",
})
EXIT_CODES = {"passed": 0, "failed": 1, "rejected": 2, "timeout": 124}


class EventError(ValueError):
    """An event the runner refuses: nothing runs, and the message says why."""


class SetupError(RuntimeError):
    """The function's own configuration is wrong: a deployment error, not the caller's."""


@dataclass(frozen=True)
class CommandSpec:
    """One allow-listed command: its options and types, what it writes, how it is started."""

    name: str
    options: dict[str, str]
    junit: bool = False
    artifacts: tuple[str, ...] = ()
    script: str | None = None


@dataclass(frozen=True)
class Run:
    """A validated event: the command and the arguments that follow the script."""

    spec: CommandSpec
    arguments: tuple[str, ...]


@dataclass
class Outcome:
    """How the process ended."""

    exit_code: int | None
    timed_out: bool
    duration_s: float
    files: dict[str, Path] = field(default_factory=dict)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


# The allow-list.

def parse_commands(text: str | None) -> dict[str, CommandSpec]:
    """The allow-list from its JSON (``DEFAULT_COMMANDS`` when unset); a bad one is an error."""
    try:
        raw = DEFAULT_COMMANDS if not text else json.loads(text)
    except ValueError as error:
        raise SetupError(f"TEST_RUNNER_COMMANDS is not JSON: {error}") from None
    if not isinstance(raw, dict) or not raw:
        raise SetupError("TEST_RUNNER_COMMANDS must be a non-empty JSON object")
    return {name: _command_spec(name, entry) for name, entry in raw.items()}


def _command_spec(name: object, entry: object) -> CommandSpec:
    where = f"TEST_RUNNER_COMMANDS[{_short(name)}]"
    if not isinstance(name, str) or not COMMAND_NAME.fullmatch(name):
        raise SetupError(f"{where}: a command name is lowercase words joined by ':'")
    if not isinstance(entry, dict) or set(entry) - {"options", "junit", "artifacts", "script"}:
        raise SetupError(f"{where} must be an object of options, junit, artifacts, "
                         "script")
    options = entry.get("options", {})
    if not isinstance(options, dict) or any(
            not isinstance(k, str) or not OPTION_NAME.fullmatch(k) or v not in OPTION_TYPES
            for k, v in options.items()):
        raise SetupError(f"{where}.options maps lowercase option names to one of "
                         f"{list(OPTION_TYPES)}")
    if "log-junit" in options:
        raise SetupError(f"{where}.options: log-junit is set by the runner (junit: true)")
    artifacts = entry.get("artifacts", [])
    if not isinstance(artifacts, list) or any(
            not isinstance(a, str) or not RELATIVE_DIR.fullmatch(a) or ".." in a.split("/")
            for a in artifacts):
        raise SetupError(f"{where}.artifacts lists folders relative to the app root")
    script = entry.get("script")
    if script is not None and (not isinstance(script, str) or not SCRIPT.fullmatch(script)
                               or ".." in script.split("/")):
        raise SetupError(f"{where}.script is a path to a PHP script (in the app, or "
                         "absolute)")
    if not isinstance(entry.get("junit", False), bool):
        raise SetupError(f"{where}.junit is true or false")
    return CommandSpec(name, dict(options), entry.get("junit", False), tuple(artifacts), script)


# The event.

def plan_run(event: object, commands: Mapping[str, CommandSpec]) -> Run:
    """Check an event against the allow-list and build the arguments; ``EventError`` otherwise."""
    if not isinstance(event, dict):
        kind = "a command line" if isinstance(event, str) else type(event).__name__
        raise EventError(f"the event must be a JSON object such as {{\"command\": \"test\"}}, "
                         f"not {kind}")
    command = event.get("command", DEFAULT_COMMAND)
    if not isinstance(command, str) or command not in commands:
        raise EventError(f"command {_short(command)} is not allowed; allowed: "
                         f"{sorted(commands)}")
    spec = commands[command]
    unknown = [key for key in event if key != "command" and key not in spec.options]
    if unknown:
        raw = [k for k in unknown if k in ("args", "arguments", "argv", "command_line")]
        hint = "raw argument lists are not accepted; " if raw else ""
        raise EventError(f"{hint}option(s) {[_short(k) for k in unknown]} are not allowed for "
                         f"{command}; allowed: {sorted(spec.options)}")
    arguments = []
    for name, kind in spec.options.items():
        value = _checked(command, name, kind, event[name]) if name in event else False
        if value is True:
            arguments.append(f"--{name}")
        elif value is not False:
            arguments.append(f"--{name}={value}")
    return Run(spec, tuple(arguments))


def _checked(command: str, name: str, kind: str, value: object) -> str | bool:
    """The option's value as text (``True``/``False`` for flags), or ``EventError``."""
    where = f"{command} option {name}"
    if kind == "flag":
        if not isinstance(value, bool):
            raise EventError(f"{where} is a flag: pass true or false, not {_short(value)}")
        return value
    if kind == "int":
        low, high = INT_RANGE
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise EventError(f"{where} must be a whole number {low}..{high}, not {_short(value)}")
        return str(value)
    if not isinstance(value, str):
        raise EventError(f"{where} must be a string, not {type(value).__name__}")
    if not VALUE.fullmatch(value):
        raise EventError(f"{where} must be 1..{MAX_VALUE_LENGTH} letters, digits or _ \\ : . - "
                         f"(not starting with -), not {_short(value)}")
    return value


def command_line(run: Run, php: str, junit_path: Path | None) -> list[str]:
    """The process's argument list: PHP, the script (``artisan <command>``), the options."""
    script = [run.spec.script] if run.spec.script else ["artisan", run.spec.name]
    junit = ["--log-junit", str(junit_path)] if junit_path is not None else []
    return [php, *script, *run.arguments, *junit]


# Secrets and the child's environment.

def read_secrets(text: str | None) -> dict[str, str]:
    """Each configured variable's value, read now from SSM or Secrets Manager."""
    if not text:
        return {}
    try:
        config = json.loads(text)
    except ValueError as error:
        raise SetupError(f"TEST_RUNNER_SECRETS is not JSON: {error}") from None
    if not isinstance(config, dict):
        raise SetupError("TEST_RUNNER_SECRETS must be a JSON object")
    clients: dict[str, Any] = {}
    values = {}
    for name, source in config.items():
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name) \
                or name in ROLE_ENVIRONMENT:
            raise SetupError(f"TEST_RUNNER_SECRETS: {_short(name)} is not a variable name PHP "
                             "may receive")
        values[name] = _secret_value(clients, name, source)
    return values


def _secret_value(clients: dict[str, Any], name: str, source: object) -> str:
    """One value from its ``valueFrom``: a parameter ARN, a secret ARN, or (as in ECS) a
    secret ARN followed by ``:json-key:version-stage:version-id``."""
    import boto3

    parts = source.split(":") if isinstance(source, str) else []
    if len(parts) == 6 and parts[2] == "ssm" and parts[5].startswith("parameter/"):
        ssm = clients.setdefault("ssm", boto3.client("ssm"))
        return ssm.get_parameter(Name=source, WithDecryption=True)["Parameter"]["Value"]
    if len(parts) in (7, 10) and parts[2] == "secretsmanager" and parts[5] == "secret":
        key, stage, version = parts[7:] or ("", "", "")
        request = {"SecretId": ":".join(parts[:7]), **({"VersionStage": stage} if stage else {}),
                   **({"VersionId": version} if version else {})}
        manager = clients.setdefault("secretsmanager", boto3.client("secretsmanager"))
        value = manager.get_secret_value(**request)["SecretString"]
        if not key:
            return value
        try:
            return str(json.loads(value)[key])
        except (ValueError, KeyError, TypeError):
            raise SetupError(f"TEST_RUNNER_SECRETS[{name!r}]: the secret holds no JSON key "
                             f"{key!r}") from None
    raise SetupError(f"TEST_RUNNER_SECRETS[{name!r}] must be an SSM parameter ARN or a Secrets "
                     "Manager secret ARN (optionally :json-key:version-stage:version-id)")


def child_environment(secrets: Mapping[str, str], share_credentials: bool) -> dict[str, str]:
    """The runner's environment without the role's credentials, plus the secrets."""
    base = {k: v for k, v in os.environ.items()
            if share_credentials or k not in ROLE_ENVIRONMENT}
    return {**base, **secrets}


# Running.

def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's process group, SIGKILL to whatever is left after a grace."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=KILL_GRACE_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def execute(argv: list[str], cwd: Path, env: Mapping[str, str], output: Path,
            budget: float) -> tuple[int | None, bool, float]:
    """Run ``argv`` (no shell) with stdout and stderr into ``output``, for ``budget`` seconds.

    A run past its budget is stopped with its whole process group; so are processes a finished
    command left behind. Returns the exit code (None when stopped), whether it timed out, and
    the seconds it took.
    """
    started = time.monotonic()
    with output.open("wb") as sink:
        process = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                   stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code: int | None = process.wait(timeout=budget)
            timed_out = False
        except subprocess.TimeoutExpired:
            code, timed_out = None, True
        _kill_group(process)
    duration = time.monotonic() - started
    if timed_out:
        with output.open("ab") as sink:
            sink.write(f"\n[test runner] stopped after {budget:.0f} s: the run outlived its "
                       "budget (the invocation's time left minus the upload margin)\n".encode())
    return code, timed_out, duration


def junit_counts(path: Path) -> dict[str, int | None]:
    """tests, failures, errors and skipped of a JUnit file (PHPUnit's or Paratest's)."""
    counts: dict[str, int | None] = dict.fromkeys(("tests", "failures", "errors", "skipped"))
    if not path.is_file():
        return counts
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError:
        return counts
    suites = [root] if root.tag == "testsuite" or "tests" in root.attrib \
        else root.findall("testsuite")
    for key in counts:
        values = [s.attrib.get(key) for s in suites]
        if key == "skipped" and not any(values):
            counts[key] = len(root.findall(".//testcase/skipped"))
        else:
            counts[key] = sum(int(float(v)) for v in values if v)
    return counts


def _tail(path: Path) -> str:
    with path.open("rb") as source:
        source.seek(max(path.stat().st_size - TAIL_BYTES, 0))
        return source.read().decode("utf-8", "replace")


# Uploading.

def _keys(prefix: str, outcome: Outcome, work: Path,
          artifacts: tuple[str, ...]) -> list[tuple[Path, str]]:
    files = [(path, f"{prefix}{name}") for name, path in outcome.files.items() if path.is_file()]
    for folder in artifacts:
        root = work / folder
        if not root.is_dir() or root.is_symlink():
            continue
        for directory, _, names in sorted(os.walk(root, followlinks=False)):
            for name in sorted(names):
                path = Path(directory) / name
                if path.is_file() and not path.is_symlink():
                    files.append((path, f"{prefix}{folder}/{path.relative_to(root).as_posix()}"))
    return files


def upload(bucket: str, files: list[tuple[Path, str]], summary: Mapping[str, Any]) -> None:
    """Every file, then ``summary.json`` (last: its presence means the run is complete)."""
    import boto3

    s3 = boto3.client("s3")
    for path, key in files:
        content_type = mimetypes.guess_type(path.name)[0] or "text/plain"
        s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type})
    s3.put_object(Bucket=bucket, Key=f"{summary['results_prefix']}summary.json",
                  Body=json.dumps(summary, indent=2).encode(),
                  ContentType="application/json")


# The handler.

def _summary(command: object, status: str, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "command": command if isinstance(command, str) else None, "status": status,
        "exit_code": None, "duration_s": None, "tests": None, "failures": None,
        "errors": None, "skipped": None, "results_prefix": None,
    }
    return base | values


def _remaining_seconds(context: Any) -> float:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is not None:
        return getter() / 1000
    return float(os.environ.get("TEST_RUNNER_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def _request_id(context: Any) -> str:
    request_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    if not REQUEST_ID.fullmatch(request_id):
        raise SetupError(f"request id {_short(request_id)} is not [A-Za-z0-9-]{{1,64}}")
    return request_id


def _prepare(work_root: Path, app_root: Path, copy: bool) -> Path:
    """A fresh copy of the app (so a warm container starts clean), or the app itself."""
    if not copy:
        return app_root
    work = work_root / "app"
    shutil.copytree(app_root, work, symlinks=True)
    return work


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Run one allow-listed command; return (and store) its summary. See the module docstring."""
    deadline = time.monotonic() + _remaining_seconds(context) - float(
        os.environ.get("UPLOAD_MARGIN_SECONDS", DEFAULT_MARGIN_SECONDS))
    command = event.get("command", DEFAULT_COMMAND) if isinstance(event, dict) else None
    commands = parse_commands(os.environ.get("TEST_RUNNER_COMMANDS"))
    try:
        run = plan_run(event, commands)
    except EventError as error:
        return _log(_summary(command, "rejected", error=str(error)))
    bucket = os.environ.get("RESULTS_BUCKET")
    if not bucket:
        raise SetupError("RESULTS_BUCKET is not set")
    started = datetime.datetime.now(datetime.timezone.utc)
    prefix = f"{RESULTS_ROOT}/{started:%Y-%m-%d}/{_request_id(context)}/"
    secrets = read_secrets(os.environ.get("TEST_RUNNER_SECRETS"))
    env = child_environment(secrets, os.environ.get("TEST_RUNNER_SHARE_CREDENTIALS") == "1")
    with tempfile.TemporaryDirectory(prefix="test-run-") as scratch:
        work_root = Path(scratch)
        work = _prepare(work_root, Path(os.environ.get("APP_ROOT", "/var/task")),
                        os.environ.get("TEST_RUNNER_COPY_APP", "1") != "0")
        budget = deadline - time.monotonic()
        if budget < MIN_BUDGET_SECONDS:
            return _log(_summary(command, "rejected", error=(
                f"only {budget:.1f} s left for the command after the upload margin")))
        junit = work_root / "junit.xml" if run.spec.junit else None
        argv = command_line(run, os.environ.get("PHP_BINARY", "php"), junit)
        output = work_root / "output.txt"
        code, timed_out, duration = execute(argv, work, env, output, budget)
        files = {"output.txt": output, **({"junit.xml": junit} if junit else {})}
        outcome = Outcome(code, timed_out, duration, files)
        status = "timeout" if timed_out else "passed" if code == 0 else "failed"
        summary = _summary(
            run.spec.name, status, exit_code=code, duration_s=round(duration, 3),
            **(junit_counts(junit) if junit else {}), results_prefix=prefix,
            results_bucket=bucket, started_at=started.isoformat(timespec="seconds"),
            output_tail=_tail(output))
        upload(bucket, _keys(prefix, outcome, work, run.spec.artifacts), summary)
    return _log(summary)


def _log(summary: dict[str, Any]) -> dict[str, Any]:
    """One JSON line in the function's log (CloudWatch), without the output tail."""
    print(json.dumps({k: v for k, v in summary.items() if k != "output_tail"}), flush=True)
    return summary


@dataclass(frozen=True)
class TaskContext:
    """What a Fargate task has instead of a Lambda context: a run id and a fixed budget."""

    aws_request_id: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return int(max(self.deadline - time.monotonic(), 0) * 1000)


def main(argv: list[str] | None = None) -> int:
    """``python -m serverless_laravel.runtime.test_runner '<event JSON>'`` (the Fargate task).

    The event comes as the one argument (else ``TEST_RUN_EVENT``), the run id from
    ``TEST_RUN_ID`` (else a new UUID); exits 0 passed, 1 failed, 2 rejected, 124 timeout.
    """
    args = sys.argv[1:] if argv is None else argv
    text = args[0] if args else os.environ.get("TEST_RUN_EVENT", "{}")
    try:
        event = json.loads(text)
    except ValueError:
        event = text
    budget = float(os.environ.get("TEST_RUNNER_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    context = TaskContext(os.environ.get("TEST_RUN_ID") or str(uuid.uuid4()),
                          time.monotonic() + budget)
    summary = handler(event, context)
    return EXIT_CODES[summary["status"]]


if __name__ == "__main__":
    sys.exit(main())

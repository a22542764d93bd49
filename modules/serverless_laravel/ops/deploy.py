"""``serverless-laravel deploy``: synth, ``terraform apply`` per stack, asset sync, migrations,
and a smoke request, in that order, stopping at the first failure.

Each step is a small function taking its runners (a subprocess runner, AWS clients, an HTTP
getter), so tests drive them one by one. Terraform runs directly in
``<outdir>/stacks/<stack>`` (``init``, ``plan -out``, then ``apply`` of that saved plan, so what
was approved is what is applied). The app's URL, assets bucket and console function come from
``terraform output`` of the ``LaravelApp`` (``<app>_url``, ``<app>_assets_bucket``,
``<app>_console_function``).

Exit codes (``cli/deploy.py``): 0 deployed; 1 a step failed (the message and ``--json`` name
it; the steps before it stay done); 2 bad input, nothing done; 3 a plan was not approved,
nothing of that stack applied.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigurationError, config_error
from .outputs import app_output, app_prefix, parse_terraform_outputs, stack_directory

WHERE = "serverless-laravel deploy"
STEPS = ("synth", "apply", "assets", "migrate", "smoke")
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_APPROVED = 3
MIGRATE_ARGS = ("migrate", "--force")
LIVE = "live"
SMOKE_TIMEOUT = 30.0
OUTPUT_TAIL = 3000
TERRAFORM_ENV = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
PYTHON_NAMES = frozenset({"python", "python3"})
CONTEXT_ENDPOINT = "serverless-laravel:endpoint"
CONTEXT_EPHEMERAL = "serverless-laravel:ephemeral"


@dataclass(frozen=True)
class Completed:
    """How a command ended: its exit code, its stdout and its stderr."""

    returncode: int
    stdout: str
    stderr: str = ""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


Runner = Callable[[Sequence[str], Path, Mapping[str, str], Callable[[str], None] | None],
                  Completed]


def run_command(argv: Sequence[str], cwd: Path, env: Mapping[str, str],
                on_line: Callable[[str], None] | None = None) -> Completed:
    """Run ``argv`` (no shell), handing each stdout line to ``on_line`` as it comes."""
    import tempfile

    with tempfile.TemporaryFile("w+") as errors:
        try:
            process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env),
                                       stdout=subprocess.PIPE, stderr=errors, text=True,
                                       bufsize=1)
        except OSError as error:
            return Completed(127, "", f"cannot run {argv[0]}: {error}")
        lines: list[str] = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(line.rstrip("\n"))
        code = process.wait()
        errors.seek(0)
        return Completed(code, "".join(lines), errors.read())


class StepError(Exception):
    """A step of the deploy failed; ``step`` names it, the message says why and what to do."""

    def __init__(self, step: str, message: str, code: int = EXIT_FAILURE,
                 stack: str | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.code = code
        self.stack = stack


class NotApprovedError(StepError):
    """The plan of a stack was shown and not approved: nothing of it was applied."""

    def __init__(self, stack: str) -> None:
        super().__init__("apply", f"the plan of stack {stack!r} was not approved; nothing of it "
                         "was applied", EXIT_NOT_APPROVED, stack)


@dataclass(frozen=True)
class PlanSummary:
    """What ``terraform plan`` of one stack would do."""

    stack: str
    add: int = 0
    change: int = 0
    remove: int = 0
    changes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.add + self.change + self.remove

    def describe(self) -> str:
        return f"{self.add} to add, {self.change} to change, {self.remove} to destroy"


class StackProgress(Protocol):
    """Receives the progress of each stack's Terraform run (the CLI draws it)."""

    def phase(self, stack: str, phase: str, total: int | None = None) -> None: ...

    def advance(self, stack: str, address: str) -> None: ...


class NoProgress:
    """The progress receiver used when nobody is watching."""

    def phase(self, stack: str, phase: str, total: int | None = None) -> None:
        """Ignore the phase."""

    def advance(self, stack: str, address: str) -> None:
        """Ignore the resource."""


@dataclass(frozen=True)
class DeploySettings:
    """What to deploy and which steps to run (validated by :func:`check_settings`)."""

    project: Path = Path()
    outdir: Path | None = None
    stacks: tuple[str, ...] = ()
    app: str | None = None
    public_dir: Path | None = None
    skip: frozenset[str] = frozenset()
    auto_approve: bool = False
    plugin_dir: Path | None = None
    synth_command: str | None = None
    endpoint: str | None = None
    ephemeral: bool = False
    smoke_path: str = "/"
    migrate_timeout: int = 905
    region: str | None = None
    var_files: tuple[Path, ...] = ()

    @property
    def out(self) -> Path:
        return self.outdir if self.outdir is not None else self.project / "cdktf.out"


@dataclass
class StepResult:
    """One step as the summary shows it."""

    step: str
    status: str
    detail: str = ""
    stack: str | None = None


@dataclass
class DeployReport:
    """Every step run (or skipped), and the failure that stopped the deploy, if any."""

    steps: list[StepResult] = field(default_factory=list)
    failed_step: str | None = None
    error: str | None = None
    exit_code: int = EXIT_OK
    outputs: dict[str, Any] = field(default_factory=dict)

    def add(self, step: str, status: str, detail: str = "", stack: str | None = None) -> None:
        self.steps.append(StepResult(step, status, detail, stack))

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.exit_code == EXIT_OK, "exit_code": self.exit_code,
                "failed_step": self.failed_step, "error": self.error,
                "steps": [asdict(s) for s in self.steps]}


def check_settings(settings: DeploySettings) -> None:
    """Refuse unknown steps, a missing public dir, a bad smoke path or endpoint before any work."""
    unknown = sorted(settings.skip - set(STEPS))
    if unknown:
        raise config_error(WHERE, "skip", unknown, f"steps are {list(STEPS)}",
                           "pass e.g. --skip migrate", kind="unknown")
    if "assets" not in settings.skip:
        public = settings.public_dir
        if public is None or not Path(public).is_dir():
            raise config_error(
                WHERE, "public_dir", None if public is None else str(public),
                "the asset sync needs the Laravel app's public/ directory",
                "pass --public-dir path/to/app/public, or --skip assets", kind="missing")
    if not settings.smoke_path.startswith("/"):
        raise config_error(WHERE, "smoke_path", settings.smoke_path, "must start with /",
                           f"pass /{settings.smoke_path}", kind="shape")
    if settings.endpoint is not None and not settings.endpoint.startswith(("http://", "https://")):
        raise config_error(WHERE, "endpoint", settings.endpoint, "must be an http(s) URL",
                           "pass e.g. http://127.0.0.1:5000", kind="shape")
    missing = [str(f) for f in settings.var_files if not Path(f).is_file()]
    if missing:
        raise config_error(WHERE, "var_file", missing, "every --var-file must be a readable file",
                           "pass the stack's tfvars, e.g. --var-file prod.tfvars "
                           "(examples/*/example.tfvars shows the variables)", kind="missing")
    if "synth" not in settings.skip and settings.synth_command is None \
            and not (settings.project / "cdktf.json").is_file():
        raise config_error(
            WHERE, "project", str(settings.project), "has no cdktf.json naming the app command",
            "run from the project directory, pass --project DIR or --synth-command 'python "
            "main.py'", kind="missing")


def synth_argv(settings: DeploySettings) -> list[str]:
    """The app command (``--synth-command``, else cdktf.json's ``app``); a leading ``python`` or
    ``python3`` runs with this interpreter, which has the library installed."""
    command = settings.synth_command
    if command is None:
        command = json.loads((settings.project / "cdktf.json").read_text()).get("app", "")
    argv = shlex.split(command)
    if not argv:
        raise config_error(WHERE, "synth_command", command, "is empty",
                           "set cdktf.json's app, e.g. \"python3 main.py\"", kind="empty")
    if argv[0] in PYTHON_NAMES:
        argv[0] = sys.executable
    return argv


def synth_env(settings: DeploySettings) -> dict[str, str]:
    """The environment the CDK CLIs give an app: ``CDKTF_OUTDIR`` and ``CDKTF_CONTEXT_JSON``
    (cdktf.json's context, then any already in the environment, then the flags)."""
    context: dict[str, Any] = {}
    config = settings.project / "cdktf.json"
    if config.is_file():
        context |= json.loads(config.read_text()).get("context", {}) or {}
    context |= json.loads(os.environ.get("CDKTF_CONTEXT_JSON") or "{}")
    if settings.endpoint is not None:
        context[CONTEXT_ENDPOINT] = settings.endpoint
    if settings.ephemeral:
        context[CONTEXT_EPHEMERAL] = "true"
    return {**os.environ, "CDKTF_OUTDIR": str(settings.out.resolve()),
            "CDKTF_CONTEXT_JSON": json.dumps(context)}


def tail(text: str, size: int = OUTPUT_TAIL) -> str:
    """The last ``size`` characters of a command's output, for an error message."""
    text = text.strip()
    return text if len(text) <= size else "..." + text[-size:]


def synth(settings: DeploySettings, run: Runner) -> list[str]:
    """Run the app into the outdir; the stacks it wrote, in dependency order."""
    argv = synth_argv(settings)
    done = run(argv, settings.project, synth_env(settings), None)
    if done.returncode != 0:
        raise StepError("synth", f"`{shlex.join(argv)}` exited {done.returncode}:\n"
                         f"{tail(done.output)}")
    return read_manifest(settings.out)


def read_manifest(outdir: Path) -> list[str]:
    """The stacks of a synthesized outdir, each after the stacks it depends on."""
    path = outdir / "manifest.json"
    if not path.is_file():
        raise StepError("synth", f"no {path}: the app did not synthesize into {outdir} (does "
                         "it hard-code App(outdir=...)? it must read CDKTF_OUTDIR)")
    stacks = json.loads(path.read_text()).get("stacks", {})
    ordered: list[str] = []

    def visit(name: str, seen: tuple[str, ...] = ()) -> None:
        if name in ordered or name in seen:
            return
        for dependency in stacks.get(name, {}).get("dependencies", []):
            visit(dependency, (*seen, name))
        ordered.append(name)

    for name in sorted(stacks):
        visit(name)
    return ordered


def select_stacks(available: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The stacks to apply, in ``available``'s order; all of them only when there is one."""
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise config_error(WHERE, "stack", unknown, f"not synthesized (stacks: {list(available)})",
                           "pass one of those with --stack", kind="unknown")
    if not wanted and len(available) != 1:
        raise config_error(WHERE, "stack", None,
                           f"the app has {len(available)} stacks ({list(available)})",
                           "pass --stack NAME (repeatable) to choose", kind="ambiguous")
    return [s for s in available if s in wanted] if wanted else list(available)


def terraform_env() -> dict[str, str]:
    """Terraform without prompts, upgrade checks or colour codes in its output."""
    return {**os.environ, **TERRAFORM_ENV}


def _messages(lines: Iterable[str]) -> Iterable[dict[str, Any]]:
    """The JSON messages of Terraform's machine-readable output, other lines left out."""
    for line in lines:
        if line.startswith("{"):
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                yield message


def terraform_error(stack: str, command: str, done: Completed) -> str:
    """The error diagnostics of a failed Terraform command, else the tail of its output."""
    errors = [f"{m['diagnostic'].get('summary', '')}: {m['diagnostic'].get('detail', '')}".strip()
              for m in _messages(done.output.splitlines())
              if m.get("type") == "diagnostic" and m.get("@level") == "error"
              and isinstance(m.get("diagnostic"), dict)]
    body = "\n".join(errors) if errors else tail(done.output)
    return f"terraform {command} of stack {stack!r} exited {done.returncode}:\n{body}"


def terraform_init(stack: str, directory: Path, settings: DeploySettings, run: Runner) -> None:
    """``terraform init`` (from ``--plugin-dir`` when given, for machines without a registry)."""
    argv = ["terraform", "init", "-input=false", "-no-color"]
    if settings.plugin_dir is not None:
        argv.append(f"-plugin-dir={settings.plugin_dir}")
    done = run(argv, directory, terraform_env(), None)
    if done.returncode != 0:
        raise StepError("apply", terraform_error(stack, "init", done))


def terraform_plan(stack: str, directory: Path, run: Runner,
                   var_files: Sequence[Path] = ()) -> PlanSummary:
    """``terraform plan -out=tfplan`` with the variable files given; what it would do."""
    argv = ["terraform", "plan", "-input=false", "-json", "-out=tfplan",
            *(f"-var-file={Path(f).resolve()}" for f in var_files)]
    done = run(argv, directory, terraform_env(), None)
    if done.returncode != 0:
        raise StepError("apply", terraform_error(stack, "plan", done))
    counts: dict[str, int] = {}
    changes: list[str] = []
    for message in _messages(done.output.splitlines()):
        if message.get("type") == "change_summary":
            counts = message.get("changes", {})
        elif message.get("type") == "planned_change":
            change = message.get("change", {})
            changes.append(f"{change.get('action', '?')} {change.get('resource', {}).get('addr')}")
    return PlanSummary(stack, int(counts.get("add", 0)), int(counts.get("change", 0)),
                       int(counts.get("remove", 0)), tuple(changes))


def terraform_apply(stack: str, directory: Path, plan: PlanSummary, run: Runner,
                    progress: StackProgress) -> None:
    """``terraform apply tfplan``, reporting each resource completed."""
    progress.phase(stack, "apply", plan.total)

    def on_line(line: str) -> None:
        for message in _messages((line,)):
            if message.get("type") == "apply_complete":
                progress.advance(stack, message.get("hook", {}).get("resource", {}).get("addr", ""))

    done = run(["terraform", "apply", "-input=false", "-json", "tfplan"], directory,
               terraform_env(), on_line)
    if done.returncode != 0:
        raise StepError("apply", terraform_error(stack, "apply", done))


def terraform_outputs(stack: str, directory: Path, run: Runner) -> dict[str, Any]:
    """``terraform output -json`` of an applied stack."""
    done = run(["terraform", "output", "-json"], directory, terraform_env(), None)
    if done.returncode != 0:
        raise StepError("apply", terraform_error(stack, "output", done))
    try:
        return parse_terraform_outputs(done.stdout)
    except ValueError as error:
        raise StepError("apply", f"terraform output of stack {stack!r} is not JSON: "
                         f"{error}") from error


Confirm = Callable[[PlanSummary], bool]


def apply_stack(stack: str, settings: DeploySettings, run: Runner, confirm: Confirm,
                progress: StackProgress) -> tuple[PlanSummary, dict[str, Any]]:
    """Init, plan, approval (unless ``auto_approve`` or nothing changes), apply; the outputs."""
    directory = stack_directory(settings.out, stack)
    if not (directory / "cdk.tf.json").is_file():
        raise StepError("apply", f"stack {stack!r} has no {directory / 'cdk.tf.json'}; "
                         "run the synth step (drop --skip synth)")
    progress.phase(stack, "init")
    terraform_init(stack, directory, settings, run)
    progress.phase(stack, "plan")
    try:
        plan = terraform_plan(stack, directory, run, settings.var_files)
        if plan.total:
            if not settings.auto_approve and not confirm(plan):
                raise NotApprovedError(stack)
            terraform_apply(stack, directory, plan, run, progress)
    finally:
        # A saved plan holds the values of generated secrets: it never outlives the deploy.
        (directory / "tfplan").unlink(missing_ok=True)
    progress.phase(stack, "outputs")
    outputs = terraform_outputs(stack, directory, run)
    progress.phase(stack, "done", plan.total)
    return plan, outputs


def sync_assets_step(public_dir: Path, bucket: str, s3: Any) -> str:
    """Upload what changed in public/ (and the default maintenance page when the app has none)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from .assets_sync import describe_aws_error, sync_assets
    from .maintenance import ensure_maintenance_page

    try:
        report = sync_assets(public_dir, bucket, client=s3)
        added = ensure_maintenance_page(s3, bucket, public_dir)
    except (ClientError, BotoCoreError) as error:
        raise StepError("assets", describe_aws_error(error, bucket)) from error
    return (f"{len(report.uploads)} uploaded, {len(report.unchanged)} unchanged"
            + (", default maintenance page added" if added else ""))


def migrate_step(function: str, lambda_client: Any, timeout: int) -> str:
    """``php artisan migrate --force`` on the console function's ``live`` alias."""
    from .artisan import invoke_artisan

    result = invoke_artisan(function, list(MIGRATE_ARGS), client=lambda_client, timeout=timeout,
                            qualifier=LIVE)
    if result.exit_code != 0:
        raise StepError("migrate", f"`migrate --force` on {function}:{LIVE} exited "
                         f"{result.exit_code}: {result.detail}\n{tail(result.output)}")
    return tail(result.output, 300)


HttpGet = Callable[[str, float], int]


def http_status(url: str, timeout: float = SMOKE_TIMEOUT) -> int:
    """The status of a GET of ``url`` (redirects followed); 0 when no answer came."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "serverless-laravel-deploy"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0


def smoke_step(url: str, get: HttpGet) -> str:
    """A GET of the app's URL must answer below 400."""
    status = get(url, SMOKE_TIMEOUT)
    if status == 0:
        raise StepError("smoke", f"GET {url} got no answer within {SMOKE_TIMEOUT:.0f} s "
                         "(DNS, TLS or CloudFront not deployed yet?)")
    if status >= 400:
        raise StepError("smoke", f"GET {url} answered {status}; read the web function's logs: "
                         "serverless-laravel logs --function web --stack ...")
    return f"GET {url}: {status}"


@dataclass
class Tools:
    """Everything a deploy talks to, replaceable in tests."""

    run: Runner = run_command
    confirm: Confirm = lambda plan: False
    progress: StackProgress = field(default_factory=NoProgress)
    s3: Callable[[], Any] | None = None
    lambda_client: Callable[[int], Any] | None = None
    http_get: HttpGet = http_status


def _s3(settings: DeploySettings, tools: Tools) -> Any:
    """The asset sync's S3 client: ``--endpoint``, else boto3's own (``AWS_ENDPOINT_URL_S3``)."""
    if tools.s3 is not None:
        return tools.s3()
    from .assets_sync import make_client

    return make_client(settings.endpoint)


def _lambda(settings: DeploySettings, tools: Tools) -> Any:
    """A Lambda client waiting as long as the migration may run, never retrying."""
    if tools.lambda_client is not None:
        return tools.lambda_client(settings.migrate_timeout)
    from .artisan import lambda_client

    return lambda_client(settings.migrate_timeout, region=settings.region,
                         endpoint_url=settings.endpoint)


def _app_value(outputs: Mapping[str, Any], settings: DeploySettings, what: str,
               step: str) -> str:
    """An output of the app that a step needs; a clear failure when the stack has none."""
    try:
        prefix = app_prefix(WHERE, outputs, settings.app)
    except ConfigurationError as error:
        raise StepError(step, f"{error}; or pass --skip {step}") from error
    value = app_output(outputs, prefix, what)
    if value is None:
        raise StepError(step, f"the stack has no output {prefix}_{what}; pass --skip {step}")
    return value


def deploy(settings: DeploySettings, tools: Tools) -> DeployReport:
    """Run the steps in order; the report says what ran and where it stopped."""
    report = DeployReport()
    try:
        _run_steps(settings, tools, report)
    except StepError as failure:
        report.failed_step, report.error, report.exit_code = failure.step, str(failure), \
            failure.code
        report.add(failure.step, "failed", str(failure), failure.stack)
    return report


def _run_steps(settings: DeploySettings, tools: Tools, report: DeployReport) -> None:
    """The steps, each recorded in ``report`` as done or skipped."""
    if "synth" in settings.skip:
        available = read_manifest(settings.out)
        report.add("synth", "skipped")
    else:
        available = synth(settings, tools.run)
        report.add("synth", "ok", f"{len(available)} stack(s) in {settings.out}")
    try:
        stacks = select_stacks(available, settings.stacks)
    except ConfigurationError as error:
        raise StepError("apply", str(error), EXIT_BAD_INPUT) from error
    outputs: dict[str, Any] = {}
    for stack in stacks:
        if "apply" in settings.skip:
            done = run_outputs(stack, settings, tools)
            report.add("apply", "skipped", stack=stack)
        else:
            plan, done = apply_stack(stack, settings, tools.run, tools.confirm, tools.progress)
            report.add("apply", "ok", plan.describe(), stack=stack)
        outputs |= done
    report.outputs = outputs
    _after_apply(settings, tools, report, outputs)


def run_outputs(stack: str, settings: DeploySettings, tools: Tools) -> dict[str, Any]:
    """The outputs of an already applied stack (``--skip apply``)."""
    return terraform_outputs(stack, stack_directory(settings.out, stack), tools.run)


def _after_apply(settings: DeploySettings, tools: Tools, report: DeployReport,
                 outputs: Mapping[str, Any]) -> None:
    """Assets, migrations and the smoke request, each unless skipped."""
    from botocore.exceptions import BotoCoreError, ClientError

    for step in STEPS[2:]:
        if step in settings.skip:
            report.add(step, "skipped")
            continue
        try:
            if step == "assets":
                bucket = _app_value(outputs, settings, "assets_bucket", step)
                assert settings.public_dir is not None
                detail = sync_assets_step(settings.public_dir, bucket, _s3(settings, tools))
            elif step == "migrate":
                function = _app_value(outputs, settings, "console_function", step)
                detail = migrate_step(function, _lambda(settings, tools),
                                      settings.migrate_timeout)
            else:
                url = _app_value(outputs, settings, "url", step)
                detail = smoke_step(url.rstrip("/") + settings.smoke_path, tools.http_get)
        except (ClientError, BotoCoreError, ConfigurationError) as error:
            raise StepError(step, f"{type(error).__name__}: {error}") from error
        report.add(step, "ok", detail)

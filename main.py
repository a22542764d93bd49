"""The CDK app: synthesizes every example stack into ``$CDKTF_OUTDIR``, else ``cdktf.out``.

Run it directly (``python main.py``) or through a CLI (``cdktn synth``, ``make synth``,
``serverless-laravel synth``), which sets ``CDKTF_OUTDIR`` and passes context in
``CDKTF_CONTEXT_JSON``. A configuration error ends it with one message on stderr and exit code 2.

Per environment (docs/environments.md): ``serverless-laravel:environment`` (dev, staging, prod or
preview-<name>) tags every stack, and with ``serverless-laravel:state-bucket`` and
``serverless-laravel:state-region`` each stack keeps its state in that S3 bucket (encrypted,
S3 lock file) under ``<state-key-prefix>/<environment>/<stack>/terraform.tfstate``. Each key can
also come from its environment variable (``SETTINGS``); context wins.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "modules"))

from examples.fargate_baseline.stack import build as fargate_baseline
from examples.inputs import StackOptions
from examples.serverless_laravel.stack import build as serverless_laravel
from examples.test_runner.stack import build as test_runner
from examples.web_function.stack import build as web_function
from serverless_laravel.cdk import ENGINE, App, TerraformStack, synth
from serverless_laravel.constructs.stack import (
    CONTEXT_ENDPOINT,
    CONTEXT_EPHEMERAL,
    S3State,
    check_region,
)
from serverless_laravel.errors import ConfigurationError, config_error

EXAMPLES: dict[str, Callable[..., list]] = {
    "web_function": web_function,
    "serverless_laravel": serverless_laravel,
    "fargate_baseline": fargate_baseline,
    "test_runner": test_runner,
}

DEFAULT_OUTDIR = "cdktf.out"
EXIT_CONFIGURATION_ERROR = 2
CONTEXT_ENV = "CDKTF_CONTEXT_JSON"

# Setting: (context key, environment variable). Context (cdktf.json, --context,
# CDKTF_CONTEXT_JSON) wins over the environment variable.
SETTINGS: dict[str, tuple[str, str]] = {
    "environment": ("serverless-laravel:environment", "SERVERLESS_LARAVEL_ENVIRONMENT"),
    "state_bucket": ("serverless-laravel:state-bucket", "SERVERLESS_LARAVEL_STATE_BUCKET"),
    "state_region": ("serverless-laravel:state-region", "SERVERLESS_LARAVEL_STATE_REGION"),
    "state_key_prefix": ("serverless-laravel:state-key-prefix",
                         "SERVERLESS_LARAVEL_STATE_KEY_PREFIX"),
}
ENVIRONMENT = re.compile(r"^(dev|staging|prod|preview-[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)$")
KEY_PREFIX = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
DEFAULT_KEY_PREFIX = "serverless-laravel"

# How both engines word a failed ``node.add_validation`` check when ``app.synth()`` raises it.
_VALIDATION_HEADER = "Validation failed with the following errors:"
_VALIDATION_FOOTER = "If you wish to ignore these validations"


def default_outdir() -> Path:
    """``$CDKTF_OUTDIR`` (set by ``cdktn synth --output``), else ``cdktf.out``.

    Read here, not left to ``App()``: the jsii runtime keeps the environment it started with.
    """
    return Path(os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUTDIR)


def context_from_environment() -> dict[str, Any]:
    """The context a CLI passes in ``CDKTF_CONTEXT_JSON`` (a JSON object), else none."""
    text = os.environ.get(CONTEXT_ENV) or "{}"
    try:
        context = json.loads(text)
    except json.JSONDecodeError:
        context = None
    if not isinstance(context, dict):
        raise config_error("main.py", CONTEXT_ENV, text, "must be a JSON object",
                           "pass e.g. '{\"serverless-laravel:environment\": \"dev\"}' or "
                           "unset it", kind="shape")
    return context


@dataclass(frozen=True)
class Deployment:
    """The environment the examples are synthesized for and where their state lives."""

    environment: str | None = None
    state_bucket: str | None = None
    state_region: str | None = None
    state_key_prefix: str = DEFAULT_KEY_PREFIX

    def state(self, stack_id: str) -> S3State | None:
        """The S3 backend of ``stack_id``: one key per environment and stack."""
        if self.state_bucket is None or self.environment is None:
            return None
        key = f"{self.state_key_prefix}/{self.environment}/{stack_id}/terraform.tfstate"
        return S3State(bucket=self.state_bucket, key=key, region=self.state_region)

    def options(self) -> StackOptions:
        return StackOptions(environment=self.environment,
                            state=self.state if self.state_bucket else None)


def _setting(context: Mapping[str, Any], name: str) -> tuple[str, str | None]:
    """(where it came from, value) of one setting: its context key, else its variable."""
    key, variable = SETTINGS[name]
    if context.get(key) not in (None, ""):
        return key, str(context[key])
    return variable, os.environ.get(variable) or None


def deployment(context: Mapping[str, Any]) -> Deployment:
    """The settings of ``context`` and the environment, each checked against its rule."""
    (env_from, environment), (bucket_from, bucket) = (
        _setting(context, "environment"), _setting(context, "state_bucket"))
    (region_from, region), (prefix_from, prefix) = (
        _setting(context, "state_region"), _setting(context, "state_key_prefix"))
    if environment is not None and not ENVIRONMENT.match(environment):
        raise config_error("main.py", env_from, environment,
                           "must be dev, staging, prod or preview-<name> (lowercase letters, "
                           "digits and '-', up to 40 characters)",
                           f"pass e.g. {env_from}=staging", kind="shape")
    _check_ephemeral(context, environment, env_from)
    if bucket is None:
        for where, value in ((region_from, region), (prefix_from, prefix)):
            if value is not None:
                raise config_error("main.py", where, value,
                                   "only applies with a state bucket",
                                   f"also set {SETTINGS['state_bucket'][0]} (or "
                                   f"{SETTINGS['state_bucket'][1]}), or drop {where}",
                                   kind="unused")
        return Deployment(environment=environment)
    return _remote_state(environment, env_from, bucket, bucket_from, region, region_from,
                         prefix, prefix_from)


def _check_ephemeral(context: Mapping[str, Any], environment: str | None,
                     env_from: str) -> None:
    """Refuse the preview switch for prod, wherever it came from (cdktf.json, an inherited
    ``CDKTF_CONTEXT_JSON``, a flag): it drops deletion protection, final snapshots and secret
    recovery windows, and empties buckets on destroy. An emulator run (an endpoint) reaches no
    real account, so it may rehearse prod as a preview."""
    value = context.get(CONTEXT_EPHEMERAL)
    on = value is True or (isinstance(value, str) and value.strip().lower() == "true")
    if on and environment == "prod" and context.get(CONTEXT_ENDPOINT) in (None, ""):
        raise config_error("main.py", CONTEXT_EPHEMERAL, value,
                           "cannot be true for the prod environment (an ephemeral stack has "
                           "no deletion protection, final snapshot or secret recovery window)",
                           f"drop --ephemeral and the key from cdktf.json and {CONTEXT_ENV}, "
                           f"or set {env_from} to a preview-<name> environment",
                           kind="conflict")


def _remote_state(environment: str | None, env_from: str, bucket: str, bucket_from: str,
                  region: str | None, region_from: str, prefix: str | None,
                  prefix_from: str) -> Deployment:
    """The S3 backend settings: every one present and well formed."""
    if environment is None:
        raise config_error("main.py", env_from, None,
                           "is required with a state bucket (each environment has its own "
                           "state key)", f"set {env_from} to dev, staging or prod",
                           kind="missing")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise config_error("main.py", bucket_from, bucket,
                           "must be an S3 bucket name (3..63 lowercase letters, digits, dots "
                           "and hyphens)", "pass the name of the existing state bucket",
                           kind="shape")
    if region is None:
        raise config_error("main.py", region_from, None,
                           "is required with a state bucket (the stacks run in several "
                           "regions; the bucket is in one)",
                           f"set {region_from} to the bucket's region, e.g. eu-west-1",
                           kind="missing")
    try:
        check_region(region, "main.py")
    except ConfigurationError as error:
        raise config_error("main.py", region_from, region, error.rule,
                           f"set {region_from} to the bucket's region, e.g. eu-west-1",
                           kind="shape") from None
    if prefix is not None and not KEY_PREFIX.match(prefix):
        raise config_error("main.py", prefix_from, prefix,
                           "must be path segments of letters, digits, '_', '.' and '-' "
                           "without a leading or trailing '/'",
                           f"pass e.g. {prefix_from}=laravel/state", kind="shape")
    return Deployment(environment, bucket, region, prefix or DEFAULT_KEY_PREFIX)


def build_app(outdir: str | Path | None = None,
              context: Mapping[str, Any] | None = None) -> App:
    """An App holding every example stack, ready to ``synth()`` into ``outdir``.

    ``context`` adds to what ``CDKTF_CONTEXT_JSON`` carries (the ephemeral and endpoint
    switches reach every LaravelStack through it); the settings are checked first. An example
    whose ``build`` takes a second argument gets the ``StackOptions`` (environment, state).
    """
    merged = {**context_from_environment(), **(context or {})}
    options = deployment(merged).options()
    app = App(outdir=str(default_outdir() if outdir is None else outdir), context=merged)
    for build in EXAMPLES.values():
        takes_options = len(inspect.signature(build).parameters) > 1
        build(app, options) if takes_options else build(app)
    return app


def summarize(outdir: Path, stacks: list[str]) -> list[tuple[str, int, Path]]:
    """(stack, resource count, JSON path) of each of ``stacks`` as synthesized in ``outdir``."""
    rows = []
    for name in sorted(stacks):
        stack_json = outdir / "stacks" / name / "cdk.tf.json"
        doc = json.loads(stack_json.read_text())
        count = sum(len(v) for v in doc.get("resource", {}).values())
        rows.append((stack_json.parent.name, count, stack_json))
    return rows


def configuration_message(error: BaseException) -> str | None:
    """The configuration error carried by ``error``, as its own text; None for anything else.

    A ``ConfigurationError`` arrives as itself (raised while building), as the context of the
    ``RuntimeError`` jsii raises when a validation callback throws, or only as text inside
    the engine's "Validation failed" ``RuntimeError`` when a validation returns it.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if isinstance(current, ConfigurationError):
            return str(current)
        seen.add(id(current))
        pending += [e for e in (current.__cause__, current.__context__)
                    if e is not None and id(e) not in seen]
    text = str(error)
    if not isinstance(error, RuntimeError) or _VALIDATION_HEADER not in text:
        return None
    errors = text.split(_VALIDATION_HEADER, 1)[1].split(_VALIDATION_FOOTER, 1)[0].strip("\n")
    # Each error comes as "  [construct path] message": drop the indentation, and the path
    # too where the message's first line names it already.
    errors = re.sub(r"^ *\[([^\]\n]+)\] (?=[^\n]*\1)", "", errors, flags=re.MULTILINE)
    return re.sub(r"^ +\[", "[", errors, flags=re.MULTILINE).rstrip()


def synthesize(outdir: Path | None = None) -> tuple[App, Path]:
    """Build and synthesize every example; the App and the directory it wrote to."""
    app = build_app(outdir)
    synth(app)  # the library's checks first, so their errors arrive as ConfigurationError
    return app, Path(app.outdir)


def main() -> int:
    """Synthesize every example and print a table of them; 2 on a configuration error."""
    try:
        app, outdir = synthesize()
    except (ConfigurationError, RuntimeError) as error:
        message = configuration_message(error)
        if message is None:
            raise
        print(f"main.py: cannot synthesize the examples:\n{message}", file=sys.stderr)
        return EXIT_CONFIGURATION_ERROR
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Synthesized with {ENGINE.name} into {outdir}/")
    for column in ("stack", "resources", "Terraform JSON"):
        table.add_column(column, overflow="fold")
    stacks = [child.node.id for child in app.node.children if isinstance(child, TerraformStack)]
    for name, count, path in summarize(outdir, stacks):
        table.add_row(name, str(count), str(path))
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

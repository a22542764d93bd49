"""``serverless-laravel synth``: run the project's CDK app (``cdktf.json``'s ``app``) for an
emulator, a preview environment or a named environment, without the npm CLI.

The switches reach the app as context in ``CDKTF_CONTEXT_JSON`` (on top of ``cdktf.json``'s
``context`` and any ``CDKTF_CONTEXT_JSON`` already set), the output folder as ``CDKTF_OUTDIR``;
``App()`` reads both. Exit codes: 0 synthesized; 1 the app failed or could not start; 2 bad
input (a malformed ``--endpoint``, no ``cdktf.json`` or no ``app`` in it, or the app refused its
configuration with exit code 2).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .output import EXIT_BAD_INPUT, EXIT_FAILURE, fail_with

CONTEXT_ENV = "CDKTF_CONTEXT_JSON"
CONTEXT_EPHEMERAL = "serverless-laravel:ephemeral"
CONTEXT_ENDPOINT = "serverless-laravel:endpoint"
CONTEXT_ENVIRONMENT = "serverless-laravel:environment"
PYTHON_NAMES = frozenset({"python", "python3"})


class SynthError(Exception):
    """The project cannot be synthesized as asked (bad input, exit code 2)."""


def read_project(project: Path) -> tuple[list[str], dict[str, Any]]:
    """The app command and the context of ``project/cdktf.json``."""
    config_file = project / "cdktf.json"
    try:
        config = json.loads(config_file.read_text())
    except FileNotFoundError:
        raise SynthError(f"{config_file} not found: run synth in the project folder or pass "
                         "--project DIR") from None
    except json.JSONDecodeError as error:
        raise SynthError(f"{config_file} is not JSON: {error}") from None
    app = config.get("app") if isinstance(config, dict) else None
    if not isinstance(app, str) or not app.strip():
        raise SynthError(f"{config_file} has no 'app' command: add e.g. "
                         '"app": "python3 main.py"')
    context = config.get("context") or {}
    if not isinstance(context, dict):
        raise SynthError(f"{config_file}: 'context' must be an object")
    command = shlex.split(app)
    if command[0] in PYTHON_NAMES:
        command[0] = sys.executable  # the interpreter that has this library (and the engine)
    return command, context


def context_for(base: dict[str, Any], *, endpoint: str | None, ephemeral: bool,
                environment: str | None) -> dict[str, Any]:
    """``base`` plus what is already in ``CDKTF_CONTEXT_JSON`` plus the switches given."""
    from ..checks import check_endpoint
    from ..errors import ConfigurationError

    try:
        endpoint = check_endpoint("synth", "--endpoint", endpoint)
        inherited = json.loads(os.environ.get(CONTEXT_ENV) or "{}")
    except ConfigurationError as error:
        raise SynthError(str(error)) from None
    except json.JSONDecodeError as error:
        raise SynthError(f"{CONTEXT_ENV} is not JSON: {error}") from None
    context = {**base, **(inherited if isinstance(inherited, dict) else {})}
    if endpoint is not None:
        context[CONTEXT_ENDPOINT] = endpoint
    if ephemeral:
        context[CONTEXT_EPHEMERAL] = "true"
    if environment is not None:
        context[CONTEXT_ENVIRONMENT] = environment
    return context


def synth_command(
    endpoint: Annotated[
        str | None,
        typer.Option("--endpoint", metavar="URL", help="Point every stack's AWS provider at "
                     "this emulator (e.g. a moto server), with dummy credentials and a local "
                     "state file."),
    ] = None,
    ephemeral: Annotated[
        bool, typer.Option("--ephemeral", help="A preview environment: no deletion "
                           "protection, no final snapshot, secrets and buckets go on destroy."),
    ] = False,
    environment: Annotated[
        str | None,
        typer.Option("--environment", metavar="NAME", help="dev, staging, prod or "
                     "preview-<name>: the Environment tag and the state key."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", metavar="DIR", help="Where the stacks are written.")
    ] = Path("cdktf.out"),
    project: Annotated[
        Path, typer.Option("--project", metavar="DIR", help="The folder holding cdktf.json.")
    ] = Path(),
) -> None:
    """Synthesize the project's stacks (cdktf.json's app) for an emulator or an environment."""
    try:
        command, base = read_project(project)
        context = context_for(base, endpoint=endpoint, ephemeral=ephemeral,
                              environment=environment)
    except SynthError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    out = output if output.is_absolute() else Path.cwd() / output
    env = {**os.environ, "CDKTF_OUTDIR": str(out), CONTEXT_ENV: json.dumps(context)}
    try:
        done = subprocess.run(command, cwd=project, env=env, check=False)
    except OSError as error:
        raise fail_with(f"cannot run {shlex.join(command)}: {error}", EXIT_FAILURE) from error
    if done.returncode == EXIT_BAD_INPUT:
        raise typer.Exit(EXIT_BAD_INPUT)
    if done.returncode != 0:
        raise fail_with(f"{shlex.join(command)} exited with {done.returncode}", EXIT_FAILURE)
    typer.echo(f"synthesized into {out}")

"""``serverless-laravel deploy``: synth, terraform apply per stack, assets, migrate, smoke request.

Exit codes: 0 deployed; 1 a step failed (the message and ``--json`` name the step; the steps
before it stay done); 2 bad input, nothing done; 3 a plan was not approved, nothing of that
stack applied.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .output import EXIT_BAD_INPUT, OptionalBar, fail_with

if TYPE_CHECKING:
    from ..ops.deploy import DeployReport, PlanSummary

MAX_CHANGES_SHOWN = 40


class RichStackProgress(OptionalBar):
    """One line per stack: a spinner, the Terraform phase, and resources applied of planned."""

    def __init__(self, *, enabled: bool) -> None:
        self._tasks: dict[str, Any] = {}
        self._bar: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                SpinnerColumn(), TextColumn("[bold]{task.fields[stack]}"),
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(stderr=True),
            )

    def phase(self, stack: str, phase: str, total: int | None = None) -> None:
        """Show ``stack`` in ``phase`` (init, plan, apply, outputs, done)."""
        if self._bar is None:
            typer.echo(f"{stack}: {phase}", err=True)
            return
        if stack not in self._tasks:
            self._tasks[stack] = self._bar.add_task(phase, stack=stack, total=None)
        task = self._tasks[stack]
        self._bar.update(task, description=phase)
        if total is not None:
            self._bar.update(task, total=total, completed=total if phase == "done" else 0)

    def pause(self) -> Any:
        """A context in which the bar is hidden, for the approval prompt."""
        from contextlib import nullcontext

        if self._bar is None:
            return nullcontext()
        return _Paused(self._bar)

    def advance(self, stack: str, address: str) -> None:
        """One more resource of ``stack`` applied."""
        if self._bar is not None and stack in self._tasks:
            self._bar.advance(self._tasks[stack])


class _Paused:
    """Stops the live display while a prompt reads the terminal, then restarts it."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def __enter__(self) -> None:
        self._bar.stop()

    def __exit__(self, *exc_info: object) -> None:
        self._bar.start()


def _confirm(progress: RichStackProgress) -> Any:
    """Show the plan of a stack on stderr and ask whether to apply it (EOF means no)."""
    def confirm(plan: PlanSummary) -> bool:
        with progress.pause():
            typer.echo(f"\nstack {plan.stack}: {plan.describe()}", err=True)
            for change in plan.changes[:MAX_CHANGES_SHOWN]:
                typer.echo(f"  {change}", err=True)
            if len(plan.changes) > MAX_CHANGES_SHOWN:
                typer.echo(f"  ... and {len(plan.changes) - MAX_CHANGES_SHOWN} more", err=True)
            try:
                return typer.confirm(f"Apply stack {plan.stack}?", default=False, err=True)
            except typer.Abort:
                return False

    return confirm


def _print_report(report: DeployReport) -> None:
    """The steps as a table on stdout."""
    from rich.console import Console
    from rich.table import Table

    colours = {"ok": "green", "skipped": "dim", "failed": "bold red"}
    table = Table(title="Deploy")
    for column in ("step", "stack", "status", "detail"):
        table.add_column(column, overflow="fold")
    for step in report.steps:
        colour = colours.get(step.status, "")
        table.add_row(step.step, step.stack or "", f"[{colour}]{step.status}[/]",
                      step.detail.splitlines()[0] if step.detail else "")
    Console().print(table)


def deploy_command(
    stack: Annotated[list[str] | None, typer.Option(
        "--stack", "-s", help="Stack to apply (repeatable); needed when the app has several.")
    ] = None,
    public_dir: Annotated[Path | None, typer.Option(
        help="The Laravel app's public/ directory, synced to the assets bucket.")] = None,
    auto_approve: Annotated[bool, typer.Option(
        "--auto-approve", help="Apply without showing the plan and asking.")] = False,
    skip: Annotated[list[str] | None, typer.Option(
        help="Step to skip (repeatable): synth, apply, assets, migrate, smoke.")] = None,
    app: Annotated[str | None, typer.Option(
        help="Which LaravelApp (the prefix of its outputs) when a stack has several.")] = None,
    project: Annotated[Path, typer.Option(help="Directory holding cdktf.json.")] = Path(),
    outdir: Annotated[Path | None, typer.Option(
        help="Where to synthesize (default PROJECT/cdktf.out).")] = None,
    synth_command: Annotated[str | None, typer.Option(
        help="App command instead of cdktf.json's app, e.g. 'python main.py'.")] = None,
    plugin_dir: Annotated[Path | None, typer.Option(
        help="terraform init -plugin-dir (a local provider mirror).")] = None,
    endpoint: Annotated[str | None, typer.Option(
        help="Point every AWS service at this URL (an emulator); passed as context.")] = None,
    ephemeral: Annotated[bool, typer.Option(
        "--ephemeral", help="Context for throwaway stacks: no deletion protection.")] = False,
    smoke_path: Annotated[str, typer.Option(help="Path of the smoke request.")] = "/",
    migrate_timeout: Annotated[int, typer.Option(
        help="Seconds to wait for migrate --force.", min=1, max=905)] = 905,
    region: Annotated[str | None, typer.Option(help="AWS region for the steps after apply.")
                      ] = None,
    var_file: Annotated[list[Path] | None, typer.Option(
        "--var-file", help="Terraform variables for the plan (repeatable), e.g. prod.tfvars.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary on stdout.")
                       ] = False,
) -> None:
    """Deploy: synth, terraform apply per stack, asset sync, migrate --force, smoke request."""
    from ..errors import ConfigurationError
    from ..ops.deploy import DeploySettings, Tools, check_settings, deploy

    settings = DeploySettings(
        project=project, outdir=outdir, stacks=tuple(stack or ()), app=app,
        public_dir=public_dir, skip=frozenset(skip or ()), auto_approve=auto_approve,
        plugin_dir=plugin_dir, synth_command=synth_command, endpoint=endpoint,
        ephemeral=ephemeral, smoke_path=smoke_path, migrate_timeout=migrate_timeout,
        region=region, var_files=tuple(var_file or ()))
    try:
        check_settings(settings)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    with RichStackProgress(enabled=sys.stderr.isatty() and not as_json) as progress:
        report = deploy(settings, Tools(confirm=_confirm(progress), progress=progress))
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_report(report)
    if report.failed_step is not None:
        raise fail_with(f"deploy stopped at step {report.failed_step}: {report.error}",
                        report.exit_code)

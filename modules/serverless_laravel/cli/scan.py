"""``serverless-laravel scan``: checkov on every synthesized stack, with the reviewed skip list.

Exit codes: 0 no failure outside the skip list, 1 failures, 2 bad input or configuration
(a skip without a reason, no stacks, checkov missing, a synth that fails).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .output import fail_with

if TYPE_CHECKING:
    from rich.console import Console

    from ..analysis.scan import ScanReport


def scan_command(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Scan this synthesized folder (cdktf.out) instead of "
                     "synthesizing the app."),
    ] = None,
    app_file: Annotated[
        Path, typer.Option("--app", help="The CDK app to synthesize (run as python FILE).")
    ] = Path("main.py"),
    stacks: Annotated[
        list[str] | None,
        typer.Option("--stack", metavar="NAME", help="Scan only this stack; repeatable."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="The reviewed skip list (default: ./.checkov.yaml when "
                     "present); every skipped id needs a reason commented beside it."),
    ] = None,
    policies: Annotated[
        Path | None,
        typer.Option("--policies", help="Custom checkov policies (default: the repository's "
                     "policies/ in a checkout, else the copy in the wheel)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON (docs/scan.md).")
    ] = False,
    sarif_file: Annotated[
        Path | None, typer.Option("--sarif", help="Write SARIF 2.1.0 (GitHub code scanning).")
    ] = None,
    junit_file: Annotated[
        Path | None, typer.Option("--junit", help="Write JUnit XML (one suite per stack).")
    ] = None,
) -> None:
    """Run checkov's built-in checks and the project's policies on every stack."""
    from ..analysis import scan

    config_path = config if config is not None else _default_config()
    try:
        skips = scan.load_skips(config_path)
        scan.require_checkov()
        policies_dir = policies if policies is not None else scan.default_policies_dir()
        with tempfile.TemporaryDirectory(prefix="serverless-laravel-synth-") as tmp:
            if directory is None:
                outdir, label = scan.synthesize_app(app_file, Path(tmp) / "cdktf.out"), "cdktf.out"
            else:
                outdir, label = directory, directory.as_posix().rstrip("/")
            report = scan.scan_stacks(
                scan.find_stacks(outdir, stacks or ()), policies=policies_dir, skips=skips,
                display_dir=label, config=str(config_path) if config_path else "")
    except scan.ScanError as error:
        raise fail_with(error, code=scan.EXIT_BAD_INPUT) from error
    emit(report, as_json=as_json, sarif_file=sarif_file, junit_file=junit_file)
    raise typer.Exit(report.exit_code)


def _default_config() -> Path | None:
    from ..analysis.scan import CONFIG_NAME

    path = Path(CONFIG_NAME)
    return path if path.is_file() else None


def emit(report: ScanReport, *, as_json: bool = False, sarif_file: Path | None = None,
         junit_file: Path | None = None, console: Console | None = None) -> None:
    """Write the requested files, then print JSON or the tables on stdout."""
    from rich.console import Console

    from ..analysis.scan import write_junit, write_sarif

    if sarif_file is not None:
        write_sarif(report, sarif_file)
    if junit_file is not None:
        write_junit(report, junit_file)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
        return
    render(report, console or Console())


def render(report: ScanReport, console: Console) -> None:
    """Per stack passed / failed / skipped, each failure, the skip list with its reasons."""
    from rich.table import Table

    summary = Table(title=f"checkov {report.checkov_version}: built-in checks + "
                    f"{report.policies}", title_justify="left")
    for column in ("stack", "passed", "failed", "skipped"):
        summary.add_column(column, justify="left" if column == "stack" else "right")
    for stack in sorted(report.stacks, key=lambda s: s.name):
        summary.add_row(stack.name, str(len(stack.passed)),
                        f"[red]{len(stack.failed)}[/]" if stack.failed else "0",
                        str(len(stack.skipped)))
    console.print(summary)
    if report.failures:
        failures = Table(title="Failures", title_justify="left")
        failures.add_column("check", no_wrap=True)
        for column in ("name", "resource", "construct", "file"):
            failures.add_column(column, overflow="fold")
        for f in report.failures:
            failures.add_row(f.check_id, f.check_name, f.resource, f.construct_path,
                             f"{f.file}:{f.lines[0]}")
        console.print(failures)
    if report.skips:
        hits = report.to_json()["skips"]
        skipped = Table(title=f"Skipped by {report.config}", title_justify="left")
        skipped.add_column("check", no_wrap=True)
        skipped.add_column("hits", justify="right")
        skipped.add_column("reason", overflow="fold")
        for skip in hits:
            skipped.add_row(skip["check_id"], str(skip["hits"]), skip["reason"])
        console.print(skipped)
    if report.stale_skips:
        console.print(f"[yellow]stale skips[/] (hide no failure on these stacks): "
                      f"{', '.join(report.stale_skips)}")
    count = len(report.failures)
    console.print(f"[bold red]{count} failure(s) outside the skip list[/]" if count
                  else "[bold green]no failure outside the skip list[/]")

"""``serverless-laravel decide``: both designs synthesized, scanned, compared, priced and sized,
as one summary table, a report, a chart, and the decision record's generated blocks.

Exit codes: 0 done; 1 ``--check-adr`` found stale blocks (or a file cannot be written); 2 bad
input (missing stack, unreadable scan report, checkov missing, a synth that fails, an ADR whose
blocks do not match the tool's).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .output import EXIT_FAILURE, fail_with

if TYPE_CHECKING:
    from ..analysis.decision import Decision

CHART_NAME = "cost-vs-traffic.png"


def decide_command(
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="Use this synthesized folder (cdktf.out) instead of synthesizing.")] = None,
    app_file: Annotated[Path, typer.Option(
        "--app", help="The CDK app to synthesize (run as python FILE).")] = Path("main.py"),
    serverless: Annotated[str, typer.Option(
        "--serverless", metavar="STACK", help="The serverless stack.")] = "serverless-laravel",
    baseline: Annotated[str, typer.Option(
        "--baseline", metavar="STACK", help="The Fargate baseline stack.")] = "fargate-baseline",
    scan_file: Annotated[Path | None, typer.Option(
        "--scan", help="Reuse this `serverless-laravel scan --json` output of the same synth.")]
    = None,
    config: Annotated[Path | None, typer.Option(
        "--config", help="The reviewed skip list (default: ./.checkov.yaml when present).")]
    = None,
    policies: Annotated[Path | None, typer.Option(
        "--policies", help="Custom checkov policies (default as scan).")] = None,
    prices: Annotated[Path | None, typer.Option(
        "--prices", help="A price override file (see `serverless-laravel cost --help`).")]
    = None,
    report_dir: Annotated[Path | None, typer.Option(
        "--report", help="Write decision.md, decision.json and the chart into DIR.")] = None,
    write_adr: Annotated[Path | None, typer.Option(
        "--write-adr", help="Fill the generated blocks of this decision record (and write "
        "the chart beside it).")] = None,
    check_adr: Annotated[Path | None, typer.Option(
        "--check-adr", help="Exit 1 when this decision record's generated blocks are stale.")]
    = None,
    write_doc: Annotated[list[Path] | None, typer.Option(
        "--write-doc", help="Fill the generated blocks a document quotes (e.g. README.md's "
        "summary); repeatable.")] = None,
    check_doc: Annotated[list[Path] | None, typer.Option(
        "--check-doc", help="Exit 1 when a document's quoted blocks are stale; repeatable.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of the table.")]
    = False,
) -> None:
    """The decision, with numbers: security, cost at three traffic profiles, break-even,
    scaling and database connections for the serverless stack and the Fargate baseline."""
    from ..analysis.adr import AdrError
    from ..analysis.scan import ScanError
    from ..errors import ConfigurationError

    try:
        decision = _gather(directory, app_file, serverless, baseline, scan_file, config,
                           policies, prices)
        stale = [f"{check_adr}: {name}" for name in _check(check_adr, decision)] \
            if check_adr is not None else []
        stale += [f"{path}: {name}" for path in check_doc or ()
                  for name in _check(path, decision, every_block=False)]
        if write_adr is not None:
            _write_adr(write_adr, decision)
        for path in write_doc or ():
            _write_doc(path, decision)
    except (ScanError, ConfigurationError, AdrError) as error:
        raise fail_with(error) from error
    except OSError as error:
        raise fail_with(error, code=EXIT_FAILURE) from error
    if report_dir is not None:
        _write_report(report_dir, decision)
    if as_json:
        typer.echo(json.dumps(decision.to_json(), indent=2, sort_keys=True))
    else:
        _print_summary(decision)
    if stale:
        raise fail_with(f"stale generated blocks {stale}: run `serverless-laravel decide "
                        "--write-adr FILE` (or --write-doc FILE) for each", code=EXIT_FAILURE)


def _gather(directory: Path | None, app_file: Path, serverless: str, baseline: str,
            scan_file: Path | None, config: Path | None, policies: Path | None,
            prices: Path | None) -> Decision:
    from ..analysis import scan
    from ..analysis.compare import compare
    from ..analysis.cost import load_prices
    from ..analysis.decision import decide
    from .compare import _default_config, _load_scan

    table = load_prices(prices)
    report = _load_scan(scan_file)
    skips = () if report is not None else scan.load_skips(
        config if config is not None else _default_config())
    if report is None:
        scan.require_checkov()
    policies_dir = policies if policies is not None else scan.default_policies_dir()
    with tempfile.TemporaryDirectory(prefix="serverless-laravel-synth-") as tmp:
        outdir = directory if directory is not None else scan.synthesize_app(
            app_file, Path(tmp) / "cdktf.out")
        found = scan.find_stacks(outdir, (serverless, baseline))
        if report is None:
            report = scan.scan_stacks(found, policies=policies_dir, skips=skips).to_json()
        # The decision sums checkov's results per design; it needs no check categories.
        comparison = compare(outdir, report, {}, (serverless, baseline))
        stacks = {name: json.loads(path.read_text()) for name, path in found.items()}
    return decide(stacks, comparison, serverless=serverless, baseline=baseline, prices=table)


def _check(path: Path, decision: Decision, every_block: bool = True) -> list[str]:
    from ..analysis.adr import stale_blocks
    from ..analysis.decision import blocks

    return stale_blocks(path.read_text(), blocks(decision), every_block=every_block)


def _write_doc(path: Path, decision: Decision) -> None:
    from ..analysis.adr import fill
    from ..analysis.decision import blocks

    path.write_text(fill(path.read_text(), blocks(decision), every_block=False))
    typer.echo(f"wrote {path}", err=True)


def _chart(decision: Decision, path: Path) -> None:
    from ..analysis.cost import write_chart
    from ..analysis.decision import CHART_PROFILE

    estimate = decision.estimates[CHART_PROFILE]
    write_chart(estimate, path, title=f"Monthly cost against traffic, {CHART_PROFILE!r} profile "
                f"(prices {estimate.prices.version})")


def _write_adr(path: Path, decision: Decision) -> None:
    from ..analysis.adr import fill
    from ..analysis.decision import blocks

    path.write_text(fill(path.read_text(), blocks(decision)))
    _chart(decision, path.parent / CHART_NAME)
    typer.echo(f"wrote {path} and {path.parent / CHART_NAME}", err=True)


def _write_report(directory: Path, decision: Decision) -> None:
    from ..analysis.decision import report

    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "decision.md").write_text(report(decision))
        (directory / "decision.json").write_text(
            json.dumps(decision.to_json(), indent=2, sort_keys=True) + "\n")
        _chart(decision, directory / CHART_NAME)
    except OSError as error:
        raise fail_with(error, code=EXIT_FAILURE) from error
    typer.echo(f"wrote {directory}/decision.md, decision.json and {CHART_NAME}", err=True)


def _print_summary(decision: Decision) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..analysis.decision import summary_rows

    table = Table(title="The decision, with numbers")
    for column in ("measure", f"serverless ({decision.serverless})",
                   f"Fargate ({decision.baseline})"):
        table.add_column(column, overflow="fold")
    for row in summary_rows(decision):
        table.add_row(*row)
    Console().print(table)

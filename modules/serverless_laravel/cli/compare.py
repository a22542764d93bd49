"""``serverless-laravel compare``: the serverless stack beside the Fargate baseline, measured.

Prints Markdown (or ``--json``), or writes it with ``--write FILE``. Exit codes: 0 done, 2 bad
input (missing stack, invalid skip list, checkov missing, a synth that fails).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from .output import fail_with


def compare_command(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Use this synthesized folder (cdktf.out) instead of "
                     "synthesizing the app."),
    ] = None,
    app_file: Annotated[
        Path, typer.Option("--app", help="The CDK app to synthesize (run as python FILE).")
    ] = Path("main.py"),
    serverless: Annotated[
        str, typer.Option("--serverless", metavar="STACK", help="The serverless stack.")
    ] = "serverless-laravel",
    baseline: Annotated[
        str, typer.Option("--baseline", metavar="STACK", help="The Fargate baseline stack.")
    ] = "fargate-baseline",
    scan_file: Annotated[
        Path | None,
        typer.Option("--scan", help="Reuse this `serverless-laravel scan --json` output of the "
                     "same synth instead of running checkov again."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="The reviewed skip list (default: ./.checkov.yaml when "
                     "present)."),
    ] = None,
    policies: Annotated[
        Path | None, typer.Option("--policies", help="Custom checkov policies (default as scan).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of Markdown.")]
    = False,
    write: Annotated[
        Path | None, typer.Option("--write", help="Write the Markdown to FILE.")
    ] = None,
) -> None:
    """Compare the serverless stack and the Fargate baseline: checkov, IAM, network,
    encryption, secrets."""
    from ..analysis import scan
    from ..analysis.checkov_catalog import catalog
    from ..analysis.compare import compare

    stacks = (serverless, baseline)
    try:
        report = _load_scan(scan_file)
        skips = () if report is not None else scan.load_skips(
            config if config is not None else _default_config())
        scan.require_checkov()
        policies_dir = policies if policies is not None else scan.default_policies_dir()
        with tempfile.TemporaryDirectory(prefix="serverless-laravel-synth-") as tmp:
            outdir = directory if directory is not None else scan.synthesize_app(
                app_file, Path(tmp) / "cdktf.out")
            found = scan.find_stacks(outdir, stacks)
            if report is None:
                report = scan.scan_stacks(found, policies=policies_dir, skips=skips).to_json()
            comparison = compare(outdir, report, catalog(policies_dir), stacks)
    except scan.ScanError as error:
        raise fail_with(error, code=scan.EXIT_BAD_INPUT) from error
    if as_json:
        typer.echo(json.dumps(comparison.to_json(), indent=2, sort_keys=True))
    elif write is not None:
        write.write_text(comparison.to_markdown())
        typer.echo(f"wrote {write}")
    else:
        typer.echo(comparison.to_markdown(), nl=False)


def _default_config() -> Path | None:
    from ..analysis.scan import CONFIG_NAME

    path = Path(CONFIG_NAME)
    return path if path.is_file() else None


def _load_scan(path: Path | None) -> dict[str, Any] | None:
    from ..analysis.scan import SCHEMA, ScanError

    if path is None:
        return None
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ScanError(f"cannot read the scan report {path}: {error}") from error
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise ScanError(f"{path} is not a `serverless-laravel scan --json` report ({SCHEMA})")
    return report

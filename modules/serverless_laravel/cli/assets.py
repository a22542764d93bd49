"""``serverless-laravel assets sync``: upload public/ to the assets bucket, only what changed.

Exit codes: 0 done (or planned, with --dry-run), 1 an AWS error, 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..ops.assets_sync import DEFAULT_CACHE_CONTROL, DEFAULT_WORKERS, IMMUTABLE_CACHE_CONTROL

if TYPE_CHECKING:
    from rich.console import Console

    from ..ops.assets_sync import SyncReport

cli = typer.Typer(
    help="Static assets: upload the app's public/ directory to the assets bucket.",
    no_args_is_help=True,
)


@cli.command("sync")
def sync_command(
    public_dir: Annotated[Path, typer.Argument(help="The Laravel app's public/ directory.")],
    bucket: Annotated[str, typer.Option("--bucket", "-b", help="Assets bucket name.")],
    prefix: Annotated[str, typer.Option(help="Key prefix in the bucket, e.g. 'assets/'.")] = "",
    dry_run: Annotated[bool, typer.Option(help="Print what would change; change nothing.")] = False,
    delete: Annotated[
        bool, typer.Option(help="Delete objects under the prefix that have no local file.")
    ] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", help="Glob of relative paths or names to leave out."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Parallel uploads (1-64).")] = DEFAULT_WORKERS,
    endpoint_url: Annotated[
        str | None, typer.Option(help="S3 endpoint (default: AWS_ENDPOINT_URL_S3 or AWS).")
    ] = None,
    check_headers: Annotated[
        bool, typer.Option(help="Also re-upload objects whose Content-Type/Cache-Control differ.")
    ] = False,
    immutable_cache_control: Annotated[
        str, typer.Option(help="Cache-Control of hashed build files.")
    ] = IMMUTABLE_CACHE_CONTROL,
    default_cache_control: Annotated[
        str, typer.Option(help="Cache-Control of every other file.")
    ] = DEFAULT_CACHE_CONTROL,
) -> None:
    """Upload new and changed files of PUBLIC_DIR (never PHP files or dotfiles) to the bucket."""
    from botocore.exceptions import BotoCoreError, ClientError
    from rich.console import Console

    from ..errors import ConfigurationError
    from ..ops.assets_sync import describe_aws_error, sync_assets
    from .output import EXIT_BAD_INPUT, EXIT_FAILURE, RichBytesProgress, fail_with

    show = sys.stderr.isatty() and not dry_run
    try:
        client = _cli_client(endpoint_url, workers)
        with RichBytesProgress(enabled=show, transient=False) as bar:
            report = sync_assets(
                public_dir,
                bucket,
                prefix=prefix,
                client=client,
                dry_run=dry_run,
                delete=delete,
                exclude=exclude or (),
                workers=workers,
                check_headers=check_headers,
                immutable_cache_control=immutable_cache_control,
                default_cache_control=default_cache_control,
                progress=bar,
            )
    except ConfigurationError as exc:
        raise fail_with(exc, EXIT_BAD_INPUT) from exc
    except (ClientError, BotoCoreError) as exc:
        raise fail_with(f"AWS error: {describe_aws_error(exc, bucket)}", EXIT_FAILURE) from exc
    out = Console()
    if dry_run:
        _print_plan(out, report)
    _print_summary(out, report)


def _cli_client(endpoint_url: str | None, workers: int) -> Any:
    """The CLI's S3 client; a malformed ``--endpoint-url`` becomes a ConfigurationError."""
    from ..errors import config_error
    from ..ops.assets_sync import WHERE, make_client

    try:
        return make_client(endpoint_url, workers)
    except ValueError as exc:
        raise config_error(
            WHERE, "endpoint_url", endpoint_url, str(exc), "use e.g. http://localhost:9000"
        ) from exc


def _print_plan(out: Console, report: SyncReport) -> None:
    """The dry run's list: each key that would be uploaded (with headers) or deleted."""
    from rich.markup import escape

    for upload in report.uploads:
        out.print(
            f"[green]would upload[/] {escape(upload.key)} ({upload.reason}, {upload.size} B, "
            f"{escape(upload.content_type)}, {escape(upload.cache_control)})"
        )
    for key in report.deleted:
        out.print(f"[red]would delete[/] {escape(key)}")


def _print_summary(out: Console, report: SyncReport) -> None:
    """A table of uploaded, unchanged, deleted and skipped counts with their sizes in MB."""
    from rich.table import Table

    title = "Assets sync (dry run: nothing changed)" if report.dry_run else "Assets sync"
    table = Table(title=title)
    table.add_column("Files")
    table.add_column("Count", justify="right")
    table.add_column("MB", justify="right")
    rows = (
        ("uploaded", len(report.uploads), report.uploaded_bytes),
        ("unchanged", len(report.unchanged), report.unchanged_bytes),
        ("deleted", len(report.deleted), report.deleted_bytes),
    )
    for label, count, size in rows:
        table.add_row(label, str(count), f"{size / 1_000_000:.2f}")
    table.add_row("skipped", str(len(report.skipped)), "")
    out.print(table)

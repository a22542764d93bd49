"""``serverless-laravel package``: zip an app as PhpFunction would and describe the result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .output import fail_with

if TYPE_CHECKING:
    from rich.table import Table

    from ..build.packaging import Package

PROGRESS_MIN_FILES = 2000
"""Trees with more files than this get a progress bar by default (when stderr is a terminal)."""


def _summary(package: Package) -> Table:
    """A two-column table describing ``package``."""
    from rich.table import Table

    from ..build.packaging import MB

    table = Table(title="Lambda package", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = {
        "path": str(package.path),
        "sha256": package.sha256,
        "source_code_hash": package.source_code_hash,
        "zipped MB": f"{package.zipped_bytes / MB:.2f}",
        "unzipped MB": f"{package.unzipped_bytes / MB:.2f}",
        "files": str(package.file_count),
        "reused": "yes" if package.reused else "no",
    }
    for field, value in rows.items():
        table.add_row(field, value)
    return table


def package_command(
    app_dir: Annotated[Path, typer.Argument(help="The Laravel app root (holds artisan).")],
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude", "-x", metavar="PATTERN", help="Extra gitignore-style pattern; repeatable."
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir",
            help="Where zips are kept (default: $SERVERLESS_LARAVEL_CACHE, else "
            "./.serverless-laravel/packages).",
        ),
    ] = None,
    max_unzipped_mb: Annotated[
        float | None,
        typer.Option(
            "--max-unzipped-mb", help="Fail above this unzipped size (Lambda: 250 incl. layers)."
        ),
    ] = None,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Force the progress bar.")
    ] = None,
    allow_credential: Annotated[
        list[str] | None,
        typer.Option("--allow-credential", metavar="PATTERN",
                     help="A key file that must ship (refused by default); repeatable."),
    ] = None,
) -> None:
    """Zip a Laravel app for Lambda: reproducible, size-checked, reused when nothing changed."""
    from rich.console import Console

    from ..build.bref import check_vendor
    from ..build.packaging import MB, package_app
    from ..errors import ConfigurationError
    from .output import RichBytesProgress

    limit = None if max_unzipped_mb is None else int(max_unzipped_mb * MB)
    show = _wants_progress(progress, app_dir)
    try:
        if app_dir.is_dir():
            check_vendor(app_dir.absolute(), where="serverless-laravel package")
        with RichBytesProgress(enabled=show) as bar:
            package = package_app(
                app_dir,
                exclude=exclude or (),
                cache_dir=cache_dir,
                max_unzipped_bytes=limit,
                progress=bar,
                allow_credentials=allow_credential or (),
            )
    except ConfigurationError as error:
        raise fail_with(error, code=2) from error
    Console().print(_summary(package))


def _wants_progress(progress: bool | None, app_dir: Path) -> bool:
    """``progress`` when given, else whether stderr is a terminal and the tree is large."""
    if progress is not None:
        return progress
    if not sys.stderr.isatty():
        return False
    return any(
        count > PROGRESS_MIN_FILES for count, _ in enumerate(Path(app_dir).rglob("*"), 1)
    )

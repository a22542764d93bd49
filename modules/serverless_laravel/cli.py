"""The ``serverless-laravel`` command line: operations on a deployed app and its package."""

from __future__ import annotations

import typer

from . import artisan, assets_sync, packaging

app = typer.Typer(
    name="serverless-laravel",
    help="Operate Laravel on AWS Lambda: package, assets, artisan.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("package")(packaging.package_command)
app.add_typer(assets_sync.cli, name="assets")
app.command(
    "artisan", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)(artisan.artisan_command)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()

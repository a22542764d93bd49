"""The ``serverless-laravel`` command line: one thin module per command group.

Commands import their heavy dependencies (boto3, rich tables, the CDK engine) when they run, so
``serverless-laravel --help`` and ``--version`` stay fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import artisan, assets, deployments, package
from . import capacity as capacity_cli
from . import compare as compare_cli
from . import cost as cost_cli
from . import db as db_cli
from . import decide as decide_cli
from . import deploy as deploy_cli
from . import logs as logs_cli
from . import maintenance as maintenance_cli
from . import scan as scan_cli
from . import secret as secret_cli
from . import synth as synth_cli
from . import test_run as test_run_cli

app = typer.Typer(
    name="serverless-laravel",
    help="Operate Laravel on AWS Lambda: package, assets, artisan.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    """Print the installed version and stop."""
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"serverless-laravel {version('serverless-laravel')}")
        except PackageNotFoundError:
            typer.echo("serverless-laravel (not installed as a package)")
        raise typer.Exit()


@app.callback()
def _root(
    _version_flag: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True,
                     help="Print the version and exit."),
    ] = False,
) -> None:
    """Operate Laravel on AWS Lambda: package, assets, artisan."""


app.command("package")(package.package_command)
app.command("deployments")(deployments.deployments_command)
app.command("rollback")(deployments.rollback_command)
app.add_typer(assets.cli, name="assets")
app.add_typer(db_cli.cli, name="db")
app.add_typer(secret_cli.cli, name="secret")
app.command(
    "artisan", cls=artisan.RawArgsCommand,
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(artisan.artisan_command)
app.command("scan")(scan_cli.scan_command)
app.command("compare")(compare_cli.compare_command)
app.command("test-run")(test_run_cli.run_tests_command)
app.command("logs")(logs_cli.logs_command)
app.command("deploy")(deploy_cli.deploy_command)
app.command("down")(maintenance_cli.down_command)
app.command("up")(maintenance_cli.up_command)
app.command("cost")(cost_cli.cost_command)
app.command("capacity")(capacity_cli.capacity_command)
app.command("decide")(decide_cli.decide_command)
app.command("synth")(synth_cli.synth_command)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()

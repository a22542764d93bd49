"""``serverless-laravel deployments`` and ``rollback``: the versions behind ``live``, and moving it.

Exit codes: 0 done, 1 an AWS error, 2 bad input (nothing was changed).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .output import EXIT_BAD_INPUT, EXIT_FAILURE, fail_with

FunctionOption = Annotated[
    list[str], typer.Option("--function", "-f", help="Function name or ARN; repeatable.")
]
RegionOption = Annotated[str | None, typer.Option(help="AWS region of the functions.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def deployments_command(function: FunctionOption, region: RegionOption = None,
                        as_json: JsonOption = False) -> None:
    """List the published versions of each function, newest first, live marked."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..ops.deployments import lambda_client, list_deployments

    try:
        client = lambda_client(region)
        found = {name: list_deployments(client, name) for name in function}
    except (ClientError, BotoCoreError) as error:
        raise fail_with(f"AWS error: {error}", EXIT_FAILURE) from error
    if as_json:
        typer.echo(json.dumps({n: [d.to_json() for d in ds] for n, ds in found.items()},
                              indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Deployments (published versions)")
    for column in ("function", "version", "live", "last modified", "code sha256"):
        table.add_column(column)
    for name, deployments in found.items():
        for d in deployments:
            table.add_row(name, d.version, "live" if d.live else "", d.last_modified,
                          d.code_sha256[:16])
    Console().print(table)


def rollback_command(
    function: FunctionOption,
    to: Annotated[str | None, typer.Option(help="Version to go back to (one function only).")
                  ] = None,
    region: RegionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move each function's live alias back to its previous version (or --to VERSION)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..errors import ConfigurationError
    from ..ops.deployments import NOT_ROLLED_BACK, lambda_client, rollback_all

    if to is not None and len(function) != 1:
        raise fail_with("--to names a version of one function: pass a single --function",
                        EXIT_BAD_INPUT)
    try:
        client = lambda_client(region)
        done = rollback_all(client, list(function), to)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    except (ClientError, BotoCoreError) as error:
        raise fail_with(f"AWS error: {error}", EXIT_FAILURE) from error
    if as_json:
        typer.echo(json.dumps({"rolled_back": [r.to_json() for r in done],
                               "not_rolled_back": list(NOT_ROLLED_BACK)}, indent=2))
        return
    for r in done:
        typer.echo(f"{r.function}: live moved from version {r.from_version} to {r.to_version}")
    typer.echo("Not rolled back:", err=True)
    for item in NOT_ROLLED_BACK:
        typer.echo(f"  - {item}", err=True)

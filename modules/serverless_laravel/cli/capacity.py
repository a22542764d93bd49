"""``serverless-laravel capacity``: concurrency, scale-up time, database connections, queue drain.

Every flag is optional; each figure is computed only from the flags it needs
(``docs/capacity.md``). Prints a table, or ``--json``. Exit codes: 0 done (also when nothing
could be computed: the table says which flags to give), 2 bad input.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from .output import fail_with


def capacity_command(
    requests_per_second: Annotated[float | None, typer.Option(
        help="Requests per second reaching the web function.")] = None,
    avg_duration_ms: Annotated[float | None, typer.Option(help="Average request, ms.")] = None,
    target_concurrency: Annotated[int | None, typer.Option(
        help="Environments to scale to (default: the computed concurrency).")] = None,
    account_concurrency: Annotated[int, typer.Option(
        help="The account's concurrency quota in the Region.")] = 1000,
    reserved_concurrency: Annotated[int | None, typer.Option(
        help="The web function's reserved concurrency (its cap).")] = None,
    max_connections: Annotated[int | None, typer.Option(
        help="The database's max_connections (SHOW max_connections).")] = None,
    database_class: Annotated[str | None, typer.Option(
        help="RDS class, for RDS's default max_connections when --max-connections is not "
             "given.")] = None,
    engine: Annotated[str, typer.Option(help="postgres or mysql.")] = "postgres",
    connections_per_environment: Annotated[int, typer.Option(
        help="Database connections each environment opens.")] = 1,
    max_connections_percent: Annotated[int, typer.Option(
        help="RDS Proxy's max_connections_percent.")] = 100,
    backlog_jobs: Annotated[int | None, typer.Option(help="Jobs waiting in the queue.")]
    = None,
    job_duration_ms: Annotated[float | None, typer.Option(help="Average job, ms.")] = None,
    max_concurrency: Annotated[int | None, typer.Option(
        help="The queue worker's maximum_concurrency (2..1,000).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
    = False,
) -> None:
    """Lambda's concurrency and scale-up time for a load, database connections with and
    without RDS Proxy, and the time to drain a queue backlog."""
    arguments = {k: v for k, v in locals().items() if k != "as_json"}
    from ..analysis.capacity import CapacityInputs, capacity
    from ..errors import ConfigurationError

    try:
        result = capacity(CapacityInputs(**arguments))
    except ConfigurationError as error:
        raise fail_with(error) from error
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        _print_table(result)


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not result.figures:
        console.print("nothing to compute: give --requests-per-second and --avg-duration-ms "
                      "(concurrency), --target-concurrency (scale-up), --max-connections or "
                      "--database-class with either (connections), --backlog-jobs, "
                      "--job-duration-ms and --max-concurrency (queue drain)")
        return
    table = Table(title="Capacity")
    for column in ("figure", "value", "how"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for figure in result.figures:
        value = figure.value
        shown = ("yes" if value else "no") if isinstance(value, bool) else (
            f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}")
        table.add_row(figure.name, shown, figure.basis)
    console.print(table)

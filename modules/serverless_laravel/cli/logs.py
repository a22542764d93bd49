"""``serverless-laravel logs``: read, follow or query the CloudWatch Logs of the app's functions.

``--function web|console|worker|all`` (with ``--stack``) reads the names from the stack's
synthesized outputs; ``all`` interleaves every function's events by timestamp.

Exit codes: 0 done (Ctrl-C while following included), 1 an AWS error or a failed Insights
query, 2 bad input (a bad --since, function name, a role without --stack, or a query Logs
Insights calls malformed).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from .output import EXIT_BAD_INPUT, EXIT_FAILURE, fail_with

MALFORMED = {"MalformedQueryException", "InvalidParameterException"}


def logs_command(
    function: Annotated[list[str], typer.Option(
        "--function", "-f",
        help="web, console, worker or all (with --stack), or a function name, ARN or log "
             "group; repeatable.")],
    stack: Annotated[str | None, typer.Option(
        "--stack", "-s", help="Stack whose outputs name the web/console/worker functions.")
    ] = None,
    outdir: Annotated[Path, typer.Option(help="Synthesis outdir holding stacks/<stack>.")
                      ] = Path("cdktf.out"),
    since: Annotated[str, typer.Option(help="How far back: 15m, 2h, 1d.")] = "15m",
    filter_pattern: Annotated[str | None, typer.Option(
        "--filter", help="CloudWatch Logs filter pattern, e.g. '\"ERROR\"' or '{ $.level >= 400 }'."
    )] = None,
    follow: Annotated[bool, typer.Option("--follow", help="Keep polling every 2 s (Ctrl-C).")
                      ] = False,
    insights: Annotated[str | None, typer.Option(
        "--insights", help="Logs Insights query: errors, slowest, cold-starts or a raw query.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    region: Annotated[str | None, typer.Option(help="AWS region of the functions.")] = None,
    max_polls: Annotated[int | None, typer.Option(hidden=True, min=1)] = None,
    poll_interval: Annotated[float, typer.Option(hidden=True, min=0)] = 2.0,
) -> None:
    """Print the functions' logs (Laravel JSON lines pretty-printed), follow them, or query them."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..errors import ConfigurationError
    from ..ops import logs
    from ..ops.outputs import read_synthesized

    try:
        outputs = None if stack is None else read_synthesized(logs.WHERE, outdir, stack)
        groups = [logs.log_group_name(f) for f in logs.expand_functions(function, outputs)]
        span = logs.parse_since(since)
        query = logs.resolve_query(insights) if insights is not None else None
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    if query is not None and (follow or filter_pattern):
        raise fail_with("--insights runs a query once: drop --follow and --filter "
                        "(filter inside the query)", EXIT_BAD_INPUT)
    try:
        client = logs.logs_client(region)
        if query is not None:
            _insights(logs, client, groups, query, span, as_json)
        else:
            _read(logs, client, groups, span, filter_pattern, follow, as_json, max_polls,
                  poll_interval)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise fail_with(f"AWS error: {error}",
                        EXIT_BAD_INPUT if code in MALFORMED else EXIT_FAILURE) from error
    except (BotoCoreError, logs.InsightsQueryError) as error:
        raise fail_with(f"AWS error: {error}", EXIT_FAILURE) from error


def _read(logs: Any, client: Any, groups: list[str], span: timedelta,
          filter_pattern: str | None, follow: bool, as_json: bool, max_polls: int | None,
          interval: float) -> None:
    """Print the events once, or keep polling until Ctrl-C (or ``max_polls``)."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    start, _ = logs.window(span)
    follower = logs.Follower(client, groups, int(start.timestamp() * 1000), filter_pattern)

    def emit(event: Any) -> None:
        if as_json:
            typer.echo(json.dumps(logs.event_json(event), ensure_ascii=False))
        else:
            console.print(logs.format_event(event, show_function=len(groups) > 1))

    try:
        logs.follow(follower, emit, follow=follow, interval=interval, max_polls=max_polls)
    except KeyboardInterrupt:
        return


def _insights(logs: Any, client: Any, groups: list[str], query: str, span: timedelta,
              as_json: bool) -> None:
    """Run the query over the window and print its rows as a table or JSON lines."""
    start, end = logs.window(span)
    rows = logs.run_insights(client, groups, query, start, end, poll=logs.INSIGHTS_POLL_SECONDS)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    columns = list(dict.fromkeys(k for row in rows for k in row))
    table = Table(title=f"Logs Insights ({len(rows)} rows)")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(row.get(c, "") for c in columns))
    Console().print(table)

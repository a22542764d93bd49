"""``serverless-laravel cost``: the serverless stack's monthly bill beside the Fargate baseline's.

Every flag has a default (``docs/cost.md``), so any subset describes a profile; ``--profile``
starts from a named one instead. Prints a table, or ``--json``; ``--chart FILE.png`` draws cost
against traffic with the break-even. Exit codes: 0 done, 2 bad input (a flag out of range, a
bad ``--prices`` file, matplotlib missing for ``--chart``), 1 the chart cannot be written.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from .output import EXIT_FAILURE, fail_with

Arch = Annotated[str, typer.Option("--architecture", help="x86_64 or arm64 (Lambda and tasks).")]


def cost_command(
    ctx: typer.Context,
    requests_per_month: Annotated[int, typer.Option(help="Requests reaching CloudFront/the ALB.")]
    = 10_000_000,
    avg_duration_ms: Annotated[float, typer.Option(help="Average dynamic request, ms.")] = 120,
    memory_mb: Annotated[int, typer.Option(help="Lambda memory, MB (128..10,240).")] = 1024,
    architecture: Arch = "x86_64",
    static_share: Annotated[float, typer.Option(
        help="Fraction answered from CloudFront's cache, never reaching Lambda (0..1).")] = 0.0,
    peak_rps: Annotated[float | None, typer.Option(
        help="Peak requests per second (default: 3x the month's average).")] = None,
    payload_kb: Annotated[float, typer.Option(help="Average response size, KB.")] = 30,
    queue_jobs_per_month: Annotated[int, typer.Option(help="Queued jobs per month.")]
    = 1_000_000,
    job_duration_ms: Annotated[float, typer.Option(help="Average job, ms.")] = 500,
    schedule_runs_per_month: Annotated[int, typer.Option(
        help="schedule:run invocations (43,800 = every minute).")] = 43_800,
    schedule_duration_ms: Annotated[float, typer.Option(help="Average schedule:run, ms.")]
    = 1000,
    nat_gb: Annotated[float, typer.Option(help="GB through NAT per month (both designs).")]
    = 10,
    nat_gateways: Annotated[int, typer.Option(help="NAT gateways (both designs).")] = 1,
    log_gb: Annotated[float, typer.Option(help="GB of logs per month (both designs).")] = 5,
    task_vcpu: Annotated[float, typer.Option(help="Fargate web/worker task vCPU.")] = 0.5,
    task_memory_gb: Annotated[float, typer.Option(help="Fargate web/worker task GB.")] = 1,
    min_tasks: Annotated[int, typer.Option(help="Fargate web tasks, at least.")] = 2,
    max_tasks: Annotated[int, typer.Option(help="Fargate web tasks, at most (checked "
                                                "against the peak).")] = 10,
    worker_min_tasks: Annotated[int, typer.Option(help="Fargate worker tasks, at least.")] = 1,
    task_rps: Annotated[float, typer.Option(
        help="Dynamic requests per second one web task serves at its CPU target.")] = 50,
    database_class: Annotated[str, typer.Option(help="RDS class (both designs).")]
    = "db.t4g.medium",
    database_storage_gb: Annotated[int, typer.Option(help="RDS gp3 storage, GB.")] = 20,
    multi_az: Annotated[bool, typer.Option("--multi-az/--single-az",
                                           help="RDS Multi-AZ (doubles it).")] = False,
    proxy: Annotated[bool, typer.Option("--proxy/--no-proxy",
                                        help="RDS Proxy (both designs).")] = True,
    cache_gb: Annotated[float, typer.Option(help="Valkey Serverless data stored, GB.")] = 1,
    cache_ops_per_request: Annotated[float, typer.Option(
        help="Cache commands per dynamic request or job (1 ECPU each).")] = 2,
    free_tier: Annotated[bool, typer.Option("--free-tier/--no-free-tier",
                                            help="Subtract AWS's monthly free tier.")] = False,
    profile: Annotated[str | None, typer.Option(
        help="Start from a named profile ('low-traffic internal', 'mid-traffic public', "
             "'high-traffic public'); flags given override it.")] = None,
    prices: Annotated[Path | None, typer.Option(
        "--prices", help="JSON file overriding lines of the price table.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
    = False,
    chart: Annotated[Path | None, typer.Option(
        "--chart", help="Write a PNG of monthly cost against traffic (needs the 'decide' "
                        "extra).")] = None,
) -> None:
    """Monthly cost (USD) of the serverless stack and the Fargate baseline, and the break-even."""
    given = _given_flags(ctx, locals())
    from ..analysis import cost
    from ..errors import ConfigurationError

    try:
        table = cost.load_prices(prices)
        base = cost.profile_inputs(profile) if profile else cost.CostInputs()
        result = cost.estimate(replace(base, **given), table)
    except ConfigurationError as error:
        raise fail_with(error) from error
    if chart is not None:
        _write_chart(cost, result, chart)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        for note in result.notes:
            typer.echo(f"note: {note}", err=True)
    else:
        _print_table(result)


def _given_flags(ctx: typer.Context, arguments: dict[str, Any]) -> dict[str, Any]:
    """The model inputs set on the command line (a default does not override a profile)."""
    skip = {"ctx", "profile", "prices", "as_json", "chart"}
    return {name: value for name, value in arguments.items() if name not in skip
            and getattr(ctx.get_parameter_source(name), "name", "DEFAULT") != "DEFAULT"}


def _write_chart(cost: Any, result: Any, path: Path) -> None:
    try:
        cost.write_chart(result, path)
    except ImportError as error:
        raise fail_with(f"--chart needs matplotlib: pip install 'serverless-laravel[decide]' "
                        f"({error})") from error
    except OSError as error:
        raise fail_with(f"cannot write the chart {path}: {error}", code=EXIT_FAILURE) from error
    typer.echo(f"wrote {path}", err=True)


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Monthly cost, USD (prices {result.prices.version}, "
                        f"{result.prices.region})")
    for column in ("design", "item", "USD/month", "how"):
        table.add_column(column, justify="right" if column == "USD/month" else "left")
    for design, items, total in (("serverless", result.serverless, result.serverless_total),
                                 ("fargate", result.fargate, result.fargate_total)):
        for item in items:
            table.add_row(design, item.name, f"{item.usd:,.2f}", item.basis)
        table.add_row(design, "[bold]total[/]", f"[bold]{total:,.2f}[/]", "", end_section=True)
    console = Console()
    console.print(table)
    even = result.break_even_requests_per_month
    console.print("break-even: " + (f"{even:,} requests per month" if even is not None else
                                    "none (one design is cheaper at every traffic level)"))
    for note in result.notes:
        console.print(f"note: {note}", style="yellow")

"""``serverless-laravel down`` and ``up``: Laravel's maintenance mode, no redeploy.

Exit codes: 0 done; 1 AWS refused the invocation, the stack's outputs could not be read, or
``artisan down``/``up`` failed on Lambda; 2 bad input (nothing invoked); 124 no answer in time
(the command may still have run: check with the logs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .output import EXIT_BAD_INPUT, EXIT_FAILURE, fail_with

WHERE = "serverless-laravel down"
SECRET_SOURCES = ("generate", "stdin", "prompt")

FunctionOption = Annotated[str | None, typer.Option(
    "--function", help="Console function name (default: the stack's <app>_console_function).")]
StackOption = Annotated[str | None, typer.Option(
    "--stack", "-s", help="Applied stack to read the console function and URL from.")]
OutdirOption = Annotated[Path, typer.Option(help="Synthesis outdir holding stacks/<stack>.")]
AppOption = Annotated[str | None, typer.Option(
    help="Which LaravelApp (the prefix of its outputs) when a stack has several.")]
RegionOption = Annotated[str | None, typer.Option(help="AWS region of the function.")]
TimeoutOption = Annotated[int, typer.Option(help="Seconds to wait for the answer.", min=1,
                                            max=905)]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _targets(function: str | None, stack: str | None, outdir: Path, app: str | None,
             url: str | None) -> tuple[str, str | None]:
    """The console function and the app URL: given, else from the stack's outputs."""
    from ..errors import config_error
    from ..ops.deploy import StepError, run_command, terraform_outputs
    from ..ops.outputs import app_output, app_prefix, stack_directory

    if function is not None and (stack is None or url is not None):
        return function, url
    if stack is None:
        raise config_error(WHERE, "function", None, "no console function to invoke",
                           "pass --stack NAME (an applied stack) or --function NAME",
                           kind="missing")
    try:
        outputs = terraform_outputs(stack, stack_directory(outdir, stack), run_command)
    except StepError as error:
        raise fail_with(str(error), EXIT_FAILURE) from error
    prefix = app_prefix(WHERE, outputs, app)
    console = function or app_output(outputs, prefix, "console_function")
    if console is None:
        raise config_error(WHERE, "stack", stack, f"has no output {prefix}_console_function",
                           "pass --function NAME", kind="missing")
    return console, url or app_output(outputs, prefix, "url")


def _read_secret(source: str) -> str:
    """The bypass secret: generated, one line of stdin, or a hidden prompt; never echoed."""
    from ..errors import config_error
    from ..ops.maintenance import check_secret, generate_secret

    if source not in SECRET_SOURCES:
        raise config_error(WHERE, "secret_from", source, f"must be one of {list(SECRET_SOURCES)}",
                           "pass --secret-from generate", kind="choice")
    if source == "generate":
        return generate_secret()
    if source == "stdin":
        return check_secret(sys.stdin.readline())
    return check_secret(typer.prompt("Bypass secret", hide_input=True, err=True))


def _invoke(function: str, args: list[str], region: str | None, timeout: int) -> Any:
    """Run artisan ``args`` on the console function's live alias; exit on an AWS error."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..ops.artisan import arn_region, describe_aws_error, lambda_client
    from ..ops.maintenance import run_artisan

    try:
        client = lambda_client(timeout, region=region or arn_region(function))
        result = run_artisan(function, args, client, timeout)
    except (ClientError, BotoCoreError) as error:
        raise fail_with(f"{WHERE}: {describe_aws_error(error)}", EXIT_FAILURE) from error
    if result.exit_code != 0:
        code = result.exit_code if result.kind == "timeout" else EXIT_FAILURE
        raise fail_with(f"artisan {args[0]} on {function}: {result.detail}\n{result.output}",
                        code)
    return result


def down_command(
    function: FunctionOption = None,
    stack: StackOption = None,
    outdir: OutdirOption = Path("cdktf.out"),
    app: AppOption = None,
    url: Annotated[str | None, typer.Option(
        help="The app's URL for the bypass link (default: the stack's <app>_url).")] = None,
    secret_from: Annotated[str, typer.Option(
        help="Bypass secret: generate (default), stdin (one line) or prompt (hidden).")
    ] = "generate",
    retry: Annotated[int, typer.Option(help="Retry-After seconds on the 503.")] = 60,
    refresh: Annotated[int | None, typer.Option(help="Refresh header seconds on the 503.")
                       ] = None,
    render: Annotated[str | None, typer.Option(
        help="View Laravel pre-renders for the 503, e.g. errors::503.")] = None,
    region: RegionOption = None,
    timeout: TimeoutOption = 60,
    as_json: JsonOption = False,
) -> None:
    """Put the app in maintenance mode (artisan down on the console function) with a bypass."""
    from ..errors import ConfigurationError
    from ..ops.artisan import check_function_name
    from ..ops.maintenance import bypass_url, down_args

    try:
        secret = _read_secret(secret_from)
        args = down_args(secret, retry=retry, render=render, refresh=refresh)
        console, app_url = _targets(function, stack, outdir, app, url)
        check_function_name(console)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    _invoke(console, args, region, timeout)
    link = bypass_url(app_url, secret) if app_url else None
    if as_json:
        typer.echo(json.dumps({"maintenance": True, "function": console, "bypass_url": link,
                               "bypass_path": f"/{secret}"}))
        return
    typer.echo("Maintenance mode is on: every web request gets the 503 page.", err=True)
    typer.echo("Bypass (sets a cookie in your browser; shown once, keep it private):", err=True)
    typer.echo(link or f"<app url>/{secret}")


def up_command(
    function: FunctionOption = None,
    stack: StackOption = None,
    outdir: OutdirOption = Path("cdktf.out"),
    app: AppOption = None,
    region: RegionOption = None,
    timeout: TimeoutOption = 60,
    as_json: JsonOption = False,
) -> None:
    """Bring the app out of maintenance mode (artisan up on the console function)."""
    from ..errors import ConfigurationError
    from ..ops.artisan import check_function_name

    try:
        console, _ = _targets(function, stack, outdir, app, "")
        check_function_name(console)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    _invoke(console, ["up"], region, timeout)
    if as_json:
        typer.echo(json.dumps({"maintenance": False, "function": console}))
        return
    typer.echo("Maintenance mode is off.", err=True)

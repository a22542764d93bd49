"""``serverless-laravel artisan``: run an artisan command on the console function.

Exit codes: the command's own (0 on success), 124 on a timeout, 1 when AWS refused or failed
the invocation, 2 on bad input (nothing was invoked). ``ops.artisan`` documents each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperCommand

from ..ops.artisan import DEFAULT_TIMEOUT, EXIT_BAD_INPUT, EXIT_FAILURE, WHERE

if TYPE_CHECKING:
    from ..ops.artisan import ArtisanResult


class RawArgsCommand(TyperCommand):
    """Keeps the arguments as typed, so option order can be checked after parsing."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        ctx.meta["raw_args"] = list(args)
        return super().parse_args(ctx, args)


def _echo_output(text: str) -> None:
    """Print the command's output to stdout, ending with exactly one newline."""
    if text:
        typer.echo(text, nl=not text.endswith("\n"))


def _report(result: ArtisanResult) -> None:
    """Output to stdout; the log tail and the explanation of a failure to stderr."""
    _echo_output(result.output)
    if result.log_tail:
        typer.echo("--- last 4 KB of the function's logs ---", err=True)
        typer.echo(result.log_tail, err=True, nl=not result.log_tail.endswith("\n"))
    if result.kind != "ok":
        typer.echo(f"{WHERE}: {result.detail} (exit {result.exit_code})", err=True)


def _fail(message: str, code: int) -> typer.Exit:
    """Print ``message`` to stderr and return the Exit to raise with ``code``."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def artisan_command(
    ctx: typer.Context,
    function: Annotated[
        str, typer.Option("--function", help="Name or ARN of the Bref console function.")
    ],
    timeout: Annotated[
        int, typer.Option(help="Seconds to wait for the answer; above the function's timeout.")
    ] = DEFAULT_TIMEOUT,
    qualifier: Annotated[
        str | None, typer.Option(help="Version or alias of the function to invoke.")
    ] = None,
    region: Annotated[str | None, typer.Option(help="AWS region of the function.")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="Lambda endpoint to use instead of AWS's.")
    ] = None,
    tail_logs: Annotated[
        bool,
        typer.Option("--tail-logs", help="Print the last 4 KB of the function's logs to stderr."),
    ] = False,
    force_dangerous: Annotated[
        bool,
        typer.Option(
            "--force-dangerous", help="Allow interactive, long-running or destructive commands."
        ),
    ] = False,
) -> None:
    """Run an artisan command on Lambda: serverless-laravel artisan --function NAME -- migrate."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..errors import ConfigurationError
    from ..ops.artisan import (
        arn_region,
        check_endpoint_url,
        check_option_order,
        describe_aws_error,
        invoke_artisan,
        lambda_client,
        validate_invocation,
    )

    args = list(ctx.args)
    try:
        check_option_order(ctx.meta.get("raw_args", args))
        check_endpoint_url(endpoint_url)
        validate_invocation(
            function, args, timeout=timeout, qualifier=qualifier, allow_dangerous=force_dangerous
        )
        client = lambda_client(
            timeout, region=region or arn_region(function), endpoint_url=endpoint_url
        )
        result = invoke_artisan(
            function,
            args,
            client=client,
            timeout=timeout,
            qualifier=qualifier,
            tail_logs=tail_logs,
            allow_dangerous=force_dangerous,
        )
    except ConfigurationError as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from error
    except (ClientError, BotoCoreError) as error:
        raise _fail(f"{WHERE}: {describe_aws_error(error)}", EXIT_FAILURE) from error
    _report(result)
    raise typer.Exit(result.exit_code)

"""``serverless-laravel secret set|list|rm``: the app's SSM SecureString parameters.

``set NAME --prefix /myapp/prod`` writes ``/myapp/prod/NAME`` and prints its ARN and the
``SecretRef.ssm(...)`` line for ``LaravelApp(secrets={...})``. The value comes from ``--stdin``
or a hidden prompt asked twice: never from the command line (it would sit in shell history and
the process list), never echoed, never written to disk. ``list`` shows names, versions and
dates, never values; ``rm`` asks first unless ``--yes``.

Exit codes: 0 done, 1 an AWS error, 2 bad input, an existing parameter without
``--overwrite``, a missing one, or a declined ``rm`` (nothing was changed).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .output import EXIT_BAD_INPUT, EXIT_FAILURE, fail_with

cli = typer.Typer(help="The app's secrets as SSM SecureString parameters (values never shown).",
                  no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="Variable name, e.g. APP_KEY.")]
PrefixOption = Annotated[
    str, typer.Option("--prefix", help="The app's parameter path, e.g. /myapp/prod.")
]
RegionOption = Annotated[str | None, typer.Option(help="AWS region (the functions' region).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _read_value(from_stdin: bool, name: str) -> str:
    """The value from stdin, or typed twice at a prompt that does not echo it."""
    if from_stdin:
        from ..ops.secrets import value_from_stdin

        return value_from_stdin(typer.get_text_stream("stdin").read())
    return str(typer.prompt(f"Value of {name}", hide_input=True, confirmation_prompt=True,
                            err=True))


def _confirmed(question: str) -> bool:
    """The answer to a yes/no question on stderr; no answer (end of input) is no."""
    try:
        return bool(typer.confirm(question, err=True))
    except typer.Abort:
        return False


@cli.command("set")
def set_command(
    name: NameArgument,
    prefix: PrefixOption,
    from_stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the value from stdin (one trailing newline "
                                           "dropped) instead of a hidden prompt.")
    ] = False,
    kms_key_id: Annotated[
        str | None, typer.Option("--kms-key-id", help="Customer managed KMS key (ID, ARN or "
                                                      "alias); default the AWS managed key.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing value (a new version).")
    ] = False,
    region: RegionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store a secret as a SecureString parameter PREFIX/NAME and print how to reference it."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..errors import ConfigurationError
    from ..ops.secrets import (
        check_kms_key_id,
        kms_client,
        parameter_name,
        set_secret,
        ssm_client,
    )

    try:
        parameter_name(prefix, name)
        check_kms_key_id(kms_key_id)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    value = _read_value(from_stdin, name)
    try:
        stored = set_secret(ssm_client(region), prefix, name, value, overwrite=overwrite,
                            kms=kms_client(region) if kms_key_id else None,
                            kms_key_id=kms_key_id)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    except (ClientError, BotoCoreError) as error:
        message = str(error).replace(value, "<hidden>") if value else str(error)
        raise fail_with(f"AWS error: {message}", EXIT_FAILURE) from None
    if as_json:
        typer.echo(json.dumps(stored.to_json(), indent=2))
        return
    typer.echo(stored.arn)
    typer.echo(stored.secret_ref)
    typer.echo(f"{stored.parameter} version {stored.version}: pass "
               f"secrets={{{json.dumps(name)}: <the line above>}} to LaravelApp", err=True)


@cli.command("list")
def list_command(prefix: PrefixOption, region: RegionOption = None,
                 as_json: JsonOption = False) -> None:
    """List the parameters under PREFIX: names, versions, last modified (never values)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..errors import ConfigurationError
    from ..ops.secrets import list_secrets, ssm_client

    try:
        found = list_secrets(ssm_client(region), prefix)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    except (ClientError, BotoCoreError) as error:
        raise fail_with(f"AWS error: {error}", EXIT_FAILURE) from error
    if as_json:
        typer.echo(json.dumps([s.to_json() for s in found], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Secrets under {prefix}")
    for column in ("name", "type", "version", "last modified", "key"):
        table.add_column(column)
    for s in found:
        table.add_row(s.name, s.type, str(s.version), s.last_modified, s.key_id)
    Console().print(table)


@cli.command("rm")
def rm_command(
    name: NameArgument,
    prefix: PrefixOption,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
                   ] = False,
    region: RegionOption = None,
) -> None:
    """Delete the parameter PREFIX/NAME (every version of it)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..errors import ConfigurationError
    from ..ops.secrets import parameter_name, remove_secret, ssm_client

    try:
        parameter = parameter_name(prefix, name)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    if not yes and not _confirmed(f"Delete {parameter}?"):
        raise fail_with(f"{parameter} was not deleted (pass --yes to skip the question)",
                        EXIT_BAD_INPUT)
    try:
        remove_secret(ssm_client(region), prefix, name)
    except ConfigurationError as error:
        raise fail_with(error, EXIT_BAD_INPUT) from error
    except (ClientError, BotoCoreError) as error:
        raise fail_with(f"AWS error: {error}", EXIT_FAILURE) from error
    typer.echo(f"deleted {parameter}")

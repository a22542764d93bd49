"""``serverless-laravel db``: the database's one-off bootstrap.

``db bootstrap-sql`` prints the idempotent SQL creating the app and migration users (see
``ops/db_bootstrap.py``), for the deploy pipeline to run as the master user through the
proxy. It holds no password and connects to nothing. Exit codes: 0 printed, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..checks import DEFAULT_APP_USER, DEFAULT_MIGRATION_USER
from .output import fail_with

cli = typer.Typer(help="The database's one-off bootstrap (its app and migration users).",
                  no_args_is_help=True)


@cli.command("bootstrap-sql")
def bootstrap_sql_command(
    engine: Annotated[
        str, typer.Option("--engine", help="postgres or mysql (the Database's engine).")
    ] = "postgres",
    database: Annotated[
        str, typer.Option("--database", help="The Database's database_name.")
    ] = "laravel",
    app_user: Annotated[
        str, typer.Option("--app-user", help="The Database's app_username (DML only).")
    ] = DEFAULT_APP_USER,
    migration_user: Annotated[
        str, typer.Option("--migration-user",
                          help="The Database's migration_username (owns the schema).")
    ] = DEFAULT_MIGRATION_USER,
    schema: Annotated[
        str, typer.Option("--schema", help="PostgreSQL only: the app's schema.")
    ] = "public",
    require_ssl: Annotated[
        bool, typer.Option("--require-ssl/--no-require-ssl",
                           help="MySQL only: the users connect only over TLS (REQUIRE SSL).")
    ] = True,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the SQL to FILE.")
    ] = None,
) -> None:
    """Print the SQL creating the app's database users; run it once as the master user
    (psql -v app_password=... -v migration_password=... -f FILE, or mysql after SET
    @app_password, @migration_password)."""
    from ..errors import ConfigurationError
    from ..ops.db_bootstrap import BootstrapUsers, bootstrap_sql

    try:
        users = BootstrapUsers(engine=engine, database=database, app_user=app_user,
                               migration_user=migration_user, schema=schema,
                               require_ssl=require_ssl)
    except ConfigurationError as error:
        raise fail_with(error) from error
    sql = bootstrap_sql(users)
    if output is None:
        typer.echo(sql, nl=False)
    else:
        output.write_text(sql)
        typer.echo(f"wrote {output}", err=True)

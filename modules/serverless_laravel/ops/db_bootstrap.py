"""The SQL that creates the app's two database users, run once as the RDS master user.

``Database`` creates two logins besides the master, each with its own Secrets Manager secret:
the *app* user (DML only: web, worker) and the *migration* user (owns the schema's objects,
runs ``php artisan migrate`` on the console). Creating the roles and their grants needs SQL run
as the master user: the deploy pipeline runs what :func:`bootstrap_sql` prints
(``serverless-laravel db bootstrap-sql``), connected through the proxy, which admits the master
user for this. The SQL is idempotent (run it again after a password change) and never holds a
password: PostgreSQL reads them from psql variables (``-v app_password=...``), MySQL from user
variables set in the same session (``SET @app_password = ...``).

PostgreSQL: the migration user owns the schema (``public`` by default) and every table,
sequence, view, type and routine the master user owned in it (an app that migrated as the
master keeps working); the app user gets ``USAGE`` on the schema, ``SELECT, INSERT, UPDATE,
DELETE`` on its tables and ``USAGE, SELECT, UPDATE`` on its sequences, now and (default
privileges) for what the migration user creates later; ``PUBLIC`` loses ``CREATE`` on the
schema and every right on the database (``CONNECT``, ``TEMPORARY``), which only the two users
get back (``CONNECT``). MySQL: both users ``REQUIRE SSL``; the migration user gets DDL and DML
on the database, the app user ``SELECT, INSERT, UPDATE, DELETE`` (no ``EXECUTE``: Laravel
calls no stored routines; grant it yourself if your app does).

Pure text: no boto3, no database driver, nothing is run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..checks import (
    DEFAULT_APP_USER,
    DEFAULT_MIGRATION_USER,
    check_choice,
    check_database_user,
)
from ..errors import config_error

WHERE = "db bootstrap-sql"
ENGINES = ("postgres", "mysql")
DEFAULT_DATABASE = "laravel"
DEFAULT_SCHEMA = "public"
# Shorter passwords are refused by the SQL itself: an empty or truncated value (a failed
# secret read in the pipeline) must not become a password. The generated ones have 64.
MIN_PASSWORD_LENGTH = 16
APP_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
APP_SEQUENCE_PRIVILEGES = ("USAGE", "SELECT", "UPDATE")
MYSQL_APP_PRIVILEGES = APP_TABLE_PRIVILEGES
# What `php artisan migrate` needs on MySQL (foreign keys need REFERENCES since 8.0.22), plus
# views, triggers and routines that migrations create with raw SQL.
MYSQL_MIGRATION_PRIVILEGES = (
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX", "REFERENCES",
    "CREATE VIEW", "SHOW VIEW", "TRIGGER", "CREATE ROUTINE", "ALTER ROUTINE", "EXECUTE",
)
_DATABASE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_SCHEMA = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class BootstrapUsers:
    """Who the bootstrap creates, in which database (and PostgreSQL schema)."""

    engine: str = "postgres"
    database: str = DEFAULT_DATABASE
    app_user: str = DEFAULT_APP_USER
    migration_user: str = DEFAULT_MIGRATION_USER
    schema: str = DEFAULT_SCHEMA
    require_ssl: bool = True

    def __post_init__(self) -> None:
        check_choice(WHERE, "--engine", self.engine, ENGINES)
        if not isinstance(self.database, str) or not _DATABASE.match(self.database):
            raise config_error(WHERE, "--database", self.database,
                               "must be 1..63 letters, digits or '_', starting with a letter",
                               "pass the Database's database_name, e.g. 'laravel'")
        check_database_user(WHERE, "--app-user", self.app_user, self.engine)
        check_database_user(WHERE, "--migration-user", self.migration_user, self.engine)
        if self.app_user == self.migration_user:
            raise config_error(WHERE, "--migration-user", self.migration_user,
                               "must differ from --app-user: the app must not own the schema",
                               "pass the Database's migration_username, e.g. "
                               f"'{DEFAULT_MIGRATION_USER}'", kind="duplicate")
        if not isinstance(self.schema, str) or not _SCHEMA.match(self.schema) \
                or self.schema.startswith("pg_") or self.schema == "information_schema":
            raise config_error(WHERE, "--schema", self.schema,
                               "must be 1..63 lowercase letters, digits or '_', starting with a "
                               "letter, not 'pg_*' or 'information_schema'",
                               f"pass '{DEFAULT_SCHEMA}' or your app's schema, e.g. 'laravel'")
        if self.engine == "mysql" and self.schema != DEFAULT_SCHEMA:
            raise config_error(WHERE, "--schema", self.schema,
                               "is PostgreSQL only: a MySQL database is its own schema",
                               "omit --schema for MySQL", kind="engine")


def bootstrap_sql(users: BootstrapUsers) -> str:
    """The idempotent SQL creating ``users`` (PostgreSQL for psql, or MySQL)."""
    return _postgres(users) if users.engine == "postgres" else _mysql(users)


def _ident(name: str) -> str:
    """A PostgreSQL identifier (names are checked: no quote can occur in them)."""
    return f'"{name}"'


def _literal(name: str) -> str:
    return f"'{name}'"


def _postgres(users: BootstrapUsers) -> str:
    app, migrator = _ident(users.app_user), _ident(users.migration_user)
    database, schema = _ident(users.database), _ident(users.schema)
    owner_is_me = "(SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)"
    not_extension = ("NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = "
                     "'pg_catalog.{catalog}'::regclass AND d.objid = {oid} AND d.deptype = 'e')")
    in_schema = f"n.nspname = {_literal(users.schema)}"
    tables = ", ".join(APP_TABLE_PRIVILEGES)
    sequences = ", ".join(APP_SEQUENCE_PRIVILEGES)
    lines = [
        f"-- serverless-laravel db bootstrap-sql: the Laravel app's PostgreSQL users in "
        f"database {database}.",
        "-- Run as the RDS master user, through the proxy; idempotent (run it again after a "
        "password change):",
        f'--   psql "host=<proxy endpoint> dbname={users.database} user=<master user> '
        'sslmode=verify-full sslrootcert=<OS CA bundle: the proxy has an ACM certificate>" \\',
        '--        -v app_password="$APP_PASSWORD" -v migration_password="$MIGRATION_PASSWORD" '
        "-f bootstrap.sql",
        f"-- {users.migration_user} owns schema {schema} and runs `php artisan migrate`; "
        f"{users.app_user} may only read and write rows.",
        r"\set ON_ERROR_STOP on",
        *_psql_require_variable("app_password"),
        *_psql_require_variable("migration_password"),
        f"SELECT length(:'app_password') >= {MIN_PASSWORD_LENGTH} "
        f"AND length(:'migration_password') >= {MIN_PASSWORD_LENGTH} AS passwords_long_enough",
        r"\gset",
        r"\if :passwords_long_enough",
        r"\else",
        f"DO $$ BEGIN RAISE EXCEPTION 'app_password and migration_password must have at least "
        f"{MIN_PASSWORD_LENGTH} characters'; END $$;",
        r"\endif",
        "BEGIN;",
        "",
        "-- The two login roles; the master user becomes a member of the migration role, so that",
        "-- it may hand objects over to it and set its default privileges.",
    ]
    for name, variable in ((users.migration_user, "migration_password"),
                           (users.app_user, "app_password")):
        role = _ident(name)
        lines += [
            f"SELECT 'CREATE ROLE {role}' WHERE NOT EXISTS "
            f"(SELECT FROM pg_catalog.pg_roles WHERE rolname = {_literal(name)})",
            r"\gexec",
            f"ALTER ROLE {role} WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT "
            f"PASSWORD :'{variable}';",
        ]
    lines += [
        f"GRANT {migrator} TO CURRENT_USER;",
        "",
        "-- Only the two users (and the master, its owner) may connect; no one may create "
        "temporary tables.",
        f"REVOKE ALL ON DATABASE {database} FROM PUBLIC;",
        f"GRANT CONNECT ON DATABASE {database} TO {app}, {migrator};",
        "",
        f"-- The schema belongs to {users.migration_user}; no one else may create in it.",
        *_postgres_schema(users, migrator),
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC;",
        f"GRANT USAGE ON SCHEMA {schema} TO {app};",
        "",
        "-- What the master user owns in the schema (an app that migrated as the master) now",
        f"-- belongs to {users.migration_user}: relations, types, routines.",
        "SELECT format('ALTER %s %I.%I OWNER TO %I', CASE c.relkind WHEN 'v' THEN 'VIEW' "
        "WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN "
        "'FOREIGN TABLE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END, n.nspname, c.relname, "
        f"{_literal(users.migration_user)})",
        "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
        f" WHERE {in_schema} AND c.relowner = {owner_is_me}",
        "   AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')",
        "   AND " + not_extension.format(catalog="pg_class", oid="c.oid"),
        # Sequences of serial and identity columns follow their table.
        "   AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE "
        "d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid "
        "AND d.deptype IN ('a', 'i')))",
        " ORDER BY c.relkind = 'S', c.oid",
        r"\gexec",
        "SELECT format('ALTER %s %s OWNER TO %I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' "
        f"ELSE 'TYPE' END, t.oid::regtype, {_literal(users.migration_user)})",
        "  FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace",
        f" WHERE {in_schema} AND t.typowner = {owner_is_me} AND t.typtype IN ('e', 'd', 'r')",
        "   AND " + not_extension.format(catalog="pg_type", oid="t.oid"),
        r"\gexec",
        "SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, "
        f"{_literal(users.migration_user)})",
        "  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace",
        f" WHERE {in_schema} AND p.proowner = {owner_is_me} AND p.prokind IN ('f', 'p', 'w')",
        "   AND " + not_extension.format(catalog="pg_proc", oid="p.oid"),
        r"\gexec",
        "",
        f"-- {users.app_user}: exactly these rights on what exists and on what "
        f"{users.migration_user} creates later.",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {app};",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {app};",
        f"GRANT {tables} ON ALL TABLES IN SCHEMA {schema} TO {app};",
        f"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {schema} TO {app};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {migrator} IN SCHEMA {schema} "
        f"GRANT {tables} ON TABLES TO {app};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {migrator} IN SCHEMA {schema} "
        f"GRANT {sequences} ON SEQUENCES TO {app};",
        "COMMIT;",
    ]
    return "\n".join(lines) + "\n"


def _psql_require_variable(name: str) -> list[str]:
    """Stop with a clear error when psql was not given ``-v <name>=...``."""
    return [
        rf"\if :{{?{name}}}",
        r"\else",
        f"DO $$ BEGIN RAISE EXCEPTION 'psql variable {name} is not set: "
        f"pass -v {name}=...'; END $$;",
        r"\endif",
    ]


def _postgres_schema(users: BootstrapUsers, migrator: str) -> list[str]:
    """Give the schema to the migration user, refusing clearly when the master cannot."""
    schema = _ident(users.schema)
    lines = []
    if users.schema != DEFAULT_SCHEMA:
        lines.append(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {migrator};")
    lines += [
        "DO $$ BEGIN",
        "  IF NOT EXISTS (SELECT FROM pg_catalog.pg_namespace n WHERE n.nspname = "
        f"{_literal(users.schema)} AND pg_catalog.pg_has_role(current_user, n.nspowner, "
        "'USAGE')) THEN",
        f"    RAISE EXCEPTION 'schema {users.schema} belongs to a role the current user is not "
        "a member of: run this as the master user, or choose a schema of your own with "
        "--schema';",
        "  END IF;",
        "END $$;",
        f"ALTER SCHEMA {schema} OWNER TO {migrator};",
    ]
    if users.schema != DEFAULT_SCHEMA:
        lines += [
            f"ALTER ROLE {_ident(users.app_user)} IN DATABASE {_ident(users.database)} "
            f"SET search_path = {schema};",
            f"ALTER ROLE {migrator} IN DATABASE {_ident(users.database)} "
            f"SET search_path = {schema};",
        ]
    return lines


def _mysql(users: BootstrapUsers) -> str:
    app, migrator = _literal(users.app_user) + "@'%'", _literal(users.migration_user) + "@'%'"
    database = f"`{users.database}`"
    lines = [
        f"-- serverless-laravel db bootstrap-sql: the Laravel app's MySQL users on database "
        f"{database}.",
        "-- Run as the RDS master user, through the proxy, with both passwords set first in the "
        "same session;",
        "-- idempotent (run it again after a password change). The generated passwords are hex; "
        "escape ' and \\",
        "-- in passwords of your own:",
        "--   { printf \"SET @app_password = '%s', @migration_password = '%s';\\n\" "
        '"$APP_PASSWORD" "$MIGRATION_PASSWORD"; cat bootstrap.sql; } |',
        "--     mysql --host=<proxy endpoint> --user=<master user> --ssl-mode=VERIFY_IDENTITY "
        f"--ssl-ca=<OS CA bundle: the proxy has an ACM certificate> {users.database}",
        f"-- A password unset or shorter than {MIN_PASSWORD_LENGTH} characters stops the script "
        "at its PREPARE (a syntax error near NULL).",
        f"SET @app_literal = IF(CHAR_LENGTH(@app_password) >= {MIN_PASSWORD_LENGTH}, "
        "QUOTE(@app_password), NULL);",
        f"SET @migration_literal = IF(CHAR_LENGTH(@migration_password) >= "
        f"{MIN_PASSWORD_LENGTH}, QUOTE(@migration_password), NULL);",
    ]
    for account, literal in ((migrator, "@migration_literal"), (app, "@app_literal")):
        quoted = account.replace("'", "''")
        for verb in ("CREATE USER IF NOT EXISTS", "ALTER USER"):
            lines += [
                f"SET @statement = CONCAT('{verb} {quoted} IDENTIFIED BY ', {literal});",
                "PREPARE statement FROM @statement;",
                "EXECUTE statement;",
                "DEALLOCATE PREPARE statement;",
            ]
        lines.append(f"ALTER USER {account} REQUIRE {'SSL' if users.require_ssl else 'NONE'};")
    lines += [
        f"GRANT {', '.join(MYSQL_MIGRATION_PRIVILEGES)} ON {database}.* TO {migrator};",
        f"GRANT {', '.join(MYSQL_APP_PRIVILEGES)} ON {database}.* TO {app};",
        "SET @app_password = NULL, @migration_password = NULL, @app_literal = NULL, "
        "@migration_literal = NULL, @statement = NULL;",
    ]
    return "\n".join(lines) + "\n"

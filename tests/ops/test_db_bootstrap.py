"""The bootstrap SQL: run for real on a local PostgreSQL server (as a non-superuser master, like
RDS's), the MySQL text checked as rendered, and the ``db bootstrap-sql`` command.

One PostgreSQL server per module, on a Unix socket only, in a temporary folder: initdb, start,
a ``master`` role with CREATEROLE and CREATEDB owning database ``laravel`` (what RDS creates),
tables the master created before the bootstrap (an app that migrated as the master), then the
bootstrap, run twice. PostgreSQL refuses to run as root, so under root the server runs as
``nobody``. Skipped, with the reason, when no server binaries are installed (``make postgres``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.errors import ConfigurationError
from serverless_laravel.ops.db_bootstrap import (
    MYSQL_MIGRATION_PRIVILEGES,
    BootstrapUsers,
    bootstrap_sql,
)

SUPERUSER, MASTER = "postgres", "master"
PASSWORDS = {"postgres": "superuser-password", "master": "master-password-0123"}
APP_PASSWORD, MIGRATION_PASSWORD = "a" * 32 + "0" * 32, "b" * 32 + "1" * 32


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: $PG_BIN, PATH, else Debian's newest version."""
    candidates = [os.environ.get("PG_BIN", "")]
    found = shutil.which("initdb")
    candidates.append(str(Path(found).resolve().parent) if found else "")
    candidates += sorted((str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")),
                         key=lambda p: int(re.sub(r"\D", "", p) or 0), reverse=True)
    for folder in filter(None, candidates):
        if all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def unprivileged() -> list[str]:
    """The prefix running a command as ``nobody`` when we are root (postgres refuses root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
    pytest.skip("running as root without runuser or setpriv: cannot start PostgreSQL")


@dataclass
class Server:
    """A running PostgreSQL server and the passwords of its roles."""

    socket_dir: Path
    psql: str
    passwords: dict[str, str] = field(default_factory=lambda: dict(PASSWORDS))

    def run(self, user: str, sql: str | None = None, *, file: Path | None = None,
            database: str = "laravel", variables: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        """``psql`` as ``user`` (by password), stopping at the first error."""
        command = [self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                   "-h", str(self.socket_dir), "-U", user, "-d", database]
        for name, value in (variables or {}).items():
            command += ["-v", f"{name}={value}"]
        command += ["-c", sql] if sql is not None else ["-f", str(file)]
        environment = {**os.environ, "PGPASSWORD": self.passwords.get(user, ""),
                       "PGCONNECT_TIMEOUT": "10"}
        return subprocess.run(command, capture_output=True, text=True, env=environment,
                              check=False)

    def ok(self, user: str, sql: str, database: str = "laravel") -> str:
        result = self.run(user, sql, database=database)
        assert result.returncode == 0, f"{user}: {sql}\n{result.stderr}"
        return result.stdout.strip()

    def bootstrap(self, users: BootstrapUsers, app_password: str = APP_PASSWORD,
                  migration_password: str = MIGRATION_PASSWORD) -> subprocess.CompletedProcess:
        script = self.socket_dir / f"bootstrap-{users.database}.sql"
        script.write_text(bootstrap_sql(users))
        result = self.run(MASTER, file=script, database=users.database,
                          variables={"app_password": app_password,
                                     "migration_password": migration_password})
        if result.returncode == 0:
            self.passwords[users.app_user] = app_password
            self.passwords[users.migration_user] = migration_password
        return result


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    binaries = server_binaries()
    psql = shutil.which("psql") or (str(binaries / "psql") if binaries else None)
    if binaries is None or psql is None or not Path(psql).is_file():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found: "
                    "`make postgres` installs them (apt-get install postgresql), or set PG_BIN")
    as_postgres = unprivileged()
    root = Path(tempfile.mkdtemp(prefix="sl-postgres-"))
    data = root / "data"
    (root / "password").write_text(PASSWORDS[SUPERUSER] + "\n")
    if as_postgres:
        shutil.chown(root, "nobody")
        shutil.chown(root / "password", "nobody")
    subprocess.run([*as_postgres, str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER,
                    f"--pwfile={root / 'password'}", "--auth=scram-sha-256", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    options = f"-k {root} -c listen_addresses='' -c fsync=off"
    pg_ctl = [*as_postgres, str(binaries / "pg_ctl"), "-D", str(data)]
    subprocess.run([*pg_ctl, "-o", options, "-l", str(root / "log"), "-w", "-t", "60", "start"],
                   check=True, capture_output=True)
    try:
        server = Server(root, psql)
        server.ok(SUPERUSER, f"CREATE ROLE {MASTER} LOGIN CREATEROLE CREATEDB "
                             f"PASSWORD '{PASSWORDS[MASTER]}'", database="postgres")
        for database in ("laravel", "shop"):
            server.ok(SUPERUSER, f"CREATE DATABASE {database} OWNER {MASTER}",
                      database="postgres")
        server.ok(MASTER, "CREATE TABLE legacy_users (id bigserial PRIMARY KEY, name text); "
                          "CREATE VIEW legacy_names AS SELECT name FROM legacy_users; "
                          "CREATE TYPE mood AS ENUM ('ok', 'sad'); "
                          "CREATE SEQUENCE legacy_counter; "
                          "CREATE FUNCTION legacy_one() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        for _ in range(2):
            result = server.bootstrap(BootstrapUsers())
            assert result.returncode == 0, result.stderr
        yield server
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


APP, MIGRATOR = "laravel_app", "laravel_migrator"


def snapshot(server: Server) -> str:
    """Roles, database and schema rights, owners and default privileges: what the bootstrap
    sets."""
    return server.ok(MASTER, """
        SELECT string_agg(line, E'\\n' ORDER BY line) FROM (
          SELECT format('role %s login=%s createdb=%s createrole=%s super=%s', rolname,
                        rolcanlogin, rolcreatedb, rolcreaterole, rolsuper) AS line
            FROM pg_roles WHERE rolname LIKE 'laravel%'
          UNION ALL SELECT format('database %s', datacl) FROM pg_database
            WHERE datname = 'laravel'
          UNION ALL SELECT format('schema %s %s %s', nspname, nspowner::regrole, nspacl)
            FROM pg_namespace WHERE nspname = 'public'
          UNION ALL SELECT format('relation %s %s %s', relname, relowner::regrole, relacl)
            FROM pg_class WHERE relnamespace = 'public'::regnamespace
          UNION ALL SELECT format('default %s %s', defaclrole::regrole, defaclacl)
            FROM pg_default_acl) lines""")


def test_a_second_run_changes_nothing(server: Server) -> None:
    before = snapshot(server)
    assert server.bootstrap(BootstrapUsers()).returncode == 0
    assert snapshot(server) == before


def test_the_roles_are_logins_without_admin_rights(server: Server) -> None:
    rows = server.ok(MASTER, "SELECT rolname, rolcanlogin, rolcreatedb, rolcreaterole, "
                             "rolsuper FROM pg_roles WHERE rolname LIKE 'laravel%' ORDER BY 1")
    assert rows.splitlines() == [f"{APP}|t|f|f|f", f"{MIGRATOR}|t|f|f|f"]


def test_the_migration_user_creates_alters_and_drops(server: Server) -> None:
    server.ok(MIGRATOR, "CREATE TABLE posts (id bigint GENERATED ALWAYS AS IDENTITY "
                        "PRIMARY KEY, title text NOT NULL); "
                        "CREATE TABLE scratch (id bigserial PRIMARY KEY); "
                        "CREATE SEQUENCE post_counter")
    server.ok(MIGRATOR, "ALTER TABLE posts ADD COLUMN body text; "
                        "CREATE INDEX posts_title ON posts (title); "
                        "ALTER TABLE scratch RENAME TO scratch_old; TRUNCATE scratch_old; "
                        "DROP TABLE scratch_old")
    owner = server.ok(MASTER, "SELECT relowner::regrole FROM pg_class WHERE relname = 'posts'")
    assert owner == MIGRATOR


def test_the_migration_user_owns_what_the_master_owned(server: Server) -> None:
    owners = server.ok(MASTER, """
        SELECT string_agg(name || '=' || owner, ',' ORDER BY name) FROM (
          SELECT relname AS name, relowner::regrole::text AS owner FROM pg_class
           WHERE relname IN ('legacy_users', 'legacy_users_id_seq', 'legacy_names',
                             'legacy_counter')
          UNION ALL SELECT typname, typowner::regrole::text FROM pg_type WHERE typname = 'mood'
          UNION ALL SELECT proname, proowner::regrole::text FROM pg_proc
           WHERE proname = 'legacy_one'
          UNION ALL SELECT 'schema public', nspowner::regrole::text FROM pg_namespace
           WHERE nspname = 'public') objects""")
    assert owners == ",".join(f"{name}={MIGRATOR}" for name in sorted(
        ["legacy_counter", "legacy_names", "legacy_one", "legacy_users", "legacy_users_id_seq",
         "mood", "schema public"]))
    server.ok(MIGRATOR, "ALTER TABLE legacy_users ADD COLUMN IF NOT EXISTS mood mood")


def test_the_app_user_reads_and_writes_rows_and_uses_sequences(server: Server) -> None:
    server.ok(MIGRATOR, "CREATE TABLE IF NOT EXISTS comments (id bigserial PRIMARY KEY, "
                        "body text); CREATE SEQUENCE IF NOT EXISTS comment_counter")
    assert server.ok(APP, "INSERT INTO comments (body) VALUES ('hi') RETURNING id").isdigit()
    server.ok(APP, "UPDATE comments SET body = 'hello' WHERE body = 'hi'")
    assert server.ok(APP, "SELECT count(*) FROM comments WHERE body = 'hello'") == "1"
    server.ok(APP, "DELETE FROM comments")
    server.ok(APP, "SELECT nextval('comment_counter'), setval('comment_counter', 10)")
    # Tables the master created before the bootstrap, through their view too.
    server.ok(APP, "INSERT INTO legacy_users (name) VALUES ('ada'); "
                   "SELECT count(*) FROM legacy_names; DELETE FROM legacy_users")


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("CREATE TABLE evil (id int)", "permission denied for schema public"),
        ("CREATE TEMP TABLE evil (id int)", "permission denied to create temporary tables"),
        ("CREATE SCHEMA evil", "permission denied for database laravel"),
        ("DROP TABLE legacy_users", "must be owner of table legacy_users"),
        ("ALTER TABLE legacy_users ADD COLUMN evil int", "must be owner of table legacy_users"),
        ("TRUNCATE legacy_users", "permission denied for table legacy_users"),
        ("CREATE INDEX evil ON legacy_users (name)", "must be owner of table legacy_users"),
        ("GRANT SELECT ON legacy_users TO PUBLIC", "no privileges were granted"),
        ("ALTER SCHEMA public RENAME TO evil", "must be owner of schema public"),
        ("CREATE ROLE evil", "permission denied to create role"),
        ("CREATE DATABASE evil", "permission denied to create database"),
        ("SET ROLE laravel_migrator", "permission denied to set role"),
    ],
)
def test_the_app_user_cannot_change_the_schema(server: Server, sql: str, error: str) -> None:
    result = server.run(APP, sql)
    assert error in result.stderr, result.stderr
    if "WARNING" not in result.stderr:
        assert result.returncode != 0


def test_only_the_two_users_may_connect(server: Server) -> None:
    server.ok(SUPERUSER, "CREATE ROLE intruder LOGIN PASSWORD 'intruder-password'",
              database="postgres")
    server.passwords["intruder"] = "intruder-password"
    result = server.run("intruder", "SELECT 1")
    assert "permission denied for database" in result.stderr


def test_a_new_password_replaces_the_old_one(server: Server) -> None:
    old = server.passwords[APP]
    assert server.bootstrap(BootstrapUsers(), app_password="c" * 64).returncode == 0
    assert server.ok(APP, "SELECT current_user") == APP
    server.passwords[APP] = old
    assert "password authentication failed" in server.run(APP, "SELECT 1").stderr
    assert server.bootstrap(BootstrapUsers(), app_password=old).returncode == 0


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({"migration_password": MIGRATION_PASSWORD}, "psql variable app_password is not set"),
        ({"app_password": APP_PASSWORD}, "psql variable migration_password is not set"),
        ({"app_password": "", "migration_password": MIGRATION_PASSWORD},
         "must have at least 16 characters"),
        ({"app_password": APP_PASSWORD, "migration_password": "short"},
         "must have at least 16 characters"),
    ],
)
def test_missing_or_short_passwords_stop_before_any_change(server: Server, variables: dict,
                                                           error: str) -> None:
    before = snapshot(server)
    script = server.socket_dir / "bootstrap-check.sql"
    script.write_text(bootstrap_sql(BootstrapUsers()))
    result = server.run(MASTER, file=script, variables=variables)
    assert result.returncode != 0 and error in result.stderr
    assert snapshot(server) == before


def test_a_schema_of_its_own_is_the_users_search_path(server: Server) -> None:
    users = BootstrapUsers(database="shop", app_user="shop_app", migration_user="shop_ddl",
                           schema="shop")
    for _ in range(2):
        result = server.bootstrap(users)
        assert result.returncode == 0, result.stderr
    server.ok("shop_ddl", "CREATE TABLE orders (id bigserial PRIMARY KEY, total int)",
              database="shop")
    assert server.ok("shop_app", "INSERT INTO orders (total) VALUES (3); "
                                 "SELECT current_schema() || ':' || count(*) FROM orders",
                     database="shop") == "shop:1"
    assert "permission denied for schema shop" in server.run(
        "shop_app", "CREATE TABLE evil (id int)", database="shop").stderr


def test_the_master_must_be_able_to_give_the_schema_away(server: Server) -> None:
    server.ok(SUPERUSER, "CREATE SCHEMA foreign_owned", database="shop")
    result = server.bootstrap(BootstrapUsers(database="shop", app_user="shop_app",
                                             migration_user="shop_ddl", schema="foreign_owned"))
    assert result.returncode != 0
    assert "schema foreign_owned belongs to a role the current user is not a member of" \
        in result.stderr


# The rendered text, both engines.

def test_the_sql_holds_no_password() -> None:
    postgres = bootstrap_sql(BootstrapUsers())
    assert re.findall(r"PASSWORD \S+", postgres) == [
        "PASSWORD :'migration_password';", "PASSWORD :'app_password';"]
    mysql = bootstrap_sql(BootstrapUsers(engine="mysql"))
    assert re.findall(r"IDENTIFIED BY .*", mysql) == [
        "IDENTIFIED BY ', @migration_literal);"] * 2 + ["IDENTIFIED BY ', @app_literal);"] * 2


def test_mysql_users_require_tls_and_get_their_grants() -> None:
    sql = bootstrap_sql(BootstrapUsers(engine="mysql", database="shop", app_user="shop_app",
                                       migration_user="shop_ddl"))
    statements = [line for line in sql.splitlines() if line and not line.startswith("--")]
    assert statements[:2] == [
        "SET @app_literal = IF(CHAR_LENGTH(@app_password) >= 16, QUOTE(@app_password), NULL);",
        "SET @migration_literal = IF(CHAR_LENGTH(@migration_password) >= 16, "
        "QUOTE(@migration_password), NULL);",
    ]
    for user, literal in (("shop_ddl", "@migration_literal"), ("shop_app", "@app_literal")):
        for verb in ("CREATE USER IF NOT EXISTS", "ALTER USER"):
            statement = (f"SET @statement = CONCAT('{verb} ''{user}''@''%'' IDENTIFIED BY ', "
                         f"{literal});")
            index = statements.index(statement)
            assert statements[index + 1:index + 4] == [
                "PREPARE statement FROM @statement;", "EXECUTE statement;",
                "DEALLOCATE PREPARE statement;"]
        assert f"ALTER USER '{user}'@'%' REQUIRE SSL;" in statements
    assert f"GRANT {', '.join(MYSQL_MIGRATION_PRIVILEGES)} ON `shop`.* TO 'shop_ddl'@'%';" \
        in statements
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON `shop`.* TO 'shop_app'@'%';" in statements
    assert statements[-1].startswith("SET @app_password = NULL, @migration_password = NULL")
    grants = [s for s in statements if s.startswith("GRANT")]
    assert len(grants) == 2 and "EXECUTE" not in grants[1]


def test_mysql_without_tls_is_an_option() -> None:
    sql = bootstrap_sql(BootstrapUsers(engine="mysql", require_ssl=False))
    assert "REQUIRE SSL" not in sql and sql.count("REQUIRE NONE;") == 2


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"engine": "oracle"}, "db_bootstrap_sql.engine.choice"),
        ({"database": "my-app"}, "db_bootstrap_sql.database.invalid"),
        ({"database": "app; DROP"}, "db_bootstrap_sql.database.invalid"),
        ({"app_user": "App"}, "db_bootstrap_sql.app_user.shape"),
        ({"app_user": "x'; DROP ROLE master; --"}, "db_bootstrap_sql.app_user.shape"),
        ({"migration_user": "rdsadmin"}, "db_bootstrap_sql.migration_user.reserved"),
        ({"migration_user": "laravel_app"}, "db_bootstrap_sql.migration_user.duplicate"),
        ({"engine": "mysql", "app_user": "a" * 33}, "db_bootstrap_sql.app_user.shape"),
        ({"schema": "pg_catalog"}, "db_bootstrap_sql.schema.invalid"),
        ({"schema": "Shop"}, "db_bootstrap_sql.schema.invalid"),
        ({"engine": "mysql", "schema": "shop"}, "db_bootstrap_sql.schema.engine"),
    ],
)
def test_bad_names_are_refused(props: dict, code: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        BootstrapUsers(**props)
    assert error.value.code == code


# The command.

runner = CliRunner()


def test_the_command_prints_the_sql() -> None:
    result = runner.invoke(app, ["db", "bootstrap-sql", "--engine", "mysql", "--database",
                                 "shop", "--app-user", "shop_app", "--migration-user",
                                 "shop_ddl", "--no-require-ssl"])
    assert result.exit_code == 0, result.output
    assert result.stdout == bootstrap_sql(BootstrapUsers(
        engine="mysql", database="shop", app_user="shop_app", migration_user="shop_ddl",
        require_ssl=False))


def test_the_command_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "bootstrap.sql"
    result = runner.invoke(app, ["db", "bootstrap-sql", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == bootstrap_sql(BootstrapUsers())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--app-user", "Bad"], "--app-user='Bad' is invalid"),
        (["--app-user", "laravel_migrator"], "must differ from --app-user"),
        (["--engine", "mysql", "--schema", "shop"], "is PostgreSQL only"),
    ],
)
def test_the_command_refuses_bad_names_with_exit_2(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["db", "bootstrap-sql", *arguments])
    assert result.exit_code == 2 and result.stdout == ""
    assert message in " ".join(result.stderr.split())

"""Checks every construct shares: booleans, integer ranges, choices, AWS ids and ARNs.

Each raises a ``ConfigurationError`` naming the construct, the prop, the value, the rule and
the fix, so constructs can validate all their props before creating anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .errors import config_error

_VPC = re.compile(r"^vpc-[0-9a-f]{8,17}$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_SECRET = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$")


def is_token(value: Any) -> bool:
    """Whether ``value`` is an unresolved CDK token; plain values never load the engine."""
    if not isinstance(value, str) or ("${" not in value and "#{" not in value):
        return False
    from .cdk import is_token as engine_is_token

    return engine_is_token(value)


def is_list_token(value: Any) -> bool:
    """Whether ``value`` is a list known only at apply time (e.g. a ``list(string)`` variable):
    its length and elements are checked by Terraform (variable validation), not here."""
    if not isinstance(value, (list, tuple)) or len(value) != 1 or not is_token(value[0]):
        return False
    from .cdk import is_list_token as engine_is_list_token

    return engine_is_list_token(value)


def check_bool(where: str, prop: str, value: Any) -> bool:
    """``value`` if it is a real bool: a string such as ``"false"`` would be truthy."""
    if not isinstance(value, bool):
        raise config_error(
            where, prop, value, "must be True or False (a bool)",
            f"pass {prop}=True or {prop}=False, not a string or a number", kind="type",
        )
    return value


def check_optional_bool(where: str, prop: str, value: Any) -> bool | None:
    """``None`` (follow the stack: ``LaravelStack(ephemeral=...)``), or a real bool."""
    return None if value is None else check_bool(where, prop, value)


ENDPOINT_URL = re.compile(r"^https?://[A-Za-z0-9._-]+(:\d{1,5})?/?$")


def check_endpoint(where: str, prop: str, value: Any) -> str | None:
    """None, or an emulator's base URL (``http://127.0.0.1:5000``) without its trailing '/'."""
    if value is None:
        return None
    if not isinstance(value, str) or not ENDPOINT_URL.match(value):
        raise config_error(where, prop, value,
                           "must be an http(s) URL of scheme, host and optional port",
                           "pass e.g. http://127.0.0.1:5000 (a moto server)", kind="shape")
    return value.rstrip("/")


def check_int(where: str, prop: str, value: Any, low: int, high: int, fix: str | None = None,
              *, unit: str = "", why: str = "") -> int:
    """``value`` as an int within ``low..high`` (bools refused), else a ConfigurationError.

    ``unit`` and ``why`` complete the rule ("from 128 to 10240 MB (Lambda's range)").
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        rule = f"must be an integer from {low} to {high}" + (f" {unit}" if unit else "") \
            + (f" ({why})" if why else "")
        raise config_error(where, prop, value, rule, fix or f"pass a value within {low}..{high}",
                           kind="range")
    return value


def check_optional_int(where: str, prop: str, value: Any, low: int, high: int,
                       fix: str | None = None, *, unit: str = "", why: str = "") -> int | None:
    """``None``, or ``value`` checked by :func:`check_int`."""
    return None if value is None else check_int(where, prop, value, low, high, fix, unit=unit,
                                                why=why)


def check_choice(where: str, prop: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise config_error(where, prop, value, f"must be one of {list(choices)}",
                           f"pass one of {', '.join(repr(c) for c in choices)}", kind="choice")
    return str(value)


def check_vpc_id(where: str, value: Any) -> str:
    """An existing VPC id (``vpc-...``) or a token."""
    if not (is_token(value) or (isinstance(value, str) and _VPC.match(value))):
        raise config_error(
            where, "vpc_id", value, "must be a VPC id shaped like "
            "'vpc-0123456789abcdef0'", "pass the id of the existing VPC", kind="shape",
        )
    return str(value)


def check_subnet_ids(where: str, value: Any, minimum: int = 1) -> tuple[str, ...]:
    """At least ``minimum`` distinct private subnet ids."""
    ids = tuple(value) if isinstance(value, (list, tuple)) else ()
    if is_list_token(ids):
        return ids
    bad = [i for i in ids if not is_token(i) and not SUBNET_ID.match(str(i))]
    if len(ids) < minimum or bad or len(set(ids)) != len(ids):
        raise config_error(
            where, "subnet_ids", value,
            f"must list at least {minimum} distinct subnet ids shaped like "
            "'subnet-0123456789abcdef0'",
            f"pass {minimum} or more private subnets, in different Availability Zones",
            kind="shape",
        )
    return ids


def check_security_group_id(where: str, prop: str, value: Any) -> str:
    """An existing security group id (``sg-...``) or a token."""
    if not (is_token(value) or (isinstance(value, str) and SECURITY_GROUP_ID.match(value))):
        raise config_error(
            where, prop, value, "must be a security group id shaped like "
            "'sg-0123456789abcdef0'", "pass the id of the existing group", kind="shape",
        )
    return str(value)


def check_kms_key_arn(where: str, value: Any, prop: str = "kms_key_arn") -> str | None:
    """None, a token or a KMS key ARN (not an alias: grants need the key's ARN)."""
    if value is None or is_token(value):
        return value
    if not isinstance(value, str) or not KMS_KEY_ARN.match(value):
        raise config_error(
            where, prop, value, "must be a KMS key ARN",
            "pass arn:aws:kms:<region>:<account>:key/<id>, not an alias", kind="shape",
        )
    return value


def check_secret_arn(where: str, value: Any, prop: str = "secret_arn") -> str:
    """A full Secrets Manager secret ARN (with its 6-character suffix) or a token."""
    if not (is_token(value) or (isinstance(value, str) and _SECRET.match(value))):
        raise config_error(
            where, prop, value, "must be the full ARN of a Secrets Manager secret",
            "pass arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>", kind="shape")
    return str(value)


BUCKET_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,36}$")
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_prefix(where: str, bucket_prefix: object) -> str:
    """A ``bucket_prefix`` S3 accepts: S3 appends 26 characters, names stop at 63."""
    if not isinstance(bucket_prefix, str) or not BUCKET_PREFIX.match(bucket_prefix) \
            or bucket_prefix.startswith(RESERVED_BUCKET_PREFIXES):
        raise config_error(
            where, "bucket_prefix", bucket_prefix,
            "must be 1..37 lowercase letters, digits or hyphens, starting with a letter or "
            f"digit and not with {list(RESERVED_BUCKET_PREFIXES)} (S3 appends 26 characters)",
            "use a short lowercase prefix such as 'myapp-assets-'", kind="shape")
    return bucket_prefix


_DAEMON = "runs until the function times out"
DANGEROUS_ARTISAN_COMMANDS: dict[str, str] = {
    "tinker": "it is an interactive shell; Lambda has no terminal, so it waits until the timeout",
    "db": "it opens an interactive database client; Lambda has no terminal",
    "serve": f"it is a web server that {_DAEMON}",
    "queue:work": f"it is a worker that {_DAEMON}; use an SQS-triggered worker function",
    "queue:listen": f"it is a worker that {_DAEMON}; use an SQS-triggered worker function",
    "queue:clear": "it deletes every waiting job",
    "queue:flush": "it deletes every failed job",
    "schedule:work": f"it is a scheduler loop that {_DAEMON}; schedule `schedule:run` instead",
    "horizon": f"it is a queue supervisor that {_DAEMON}",
    "octane:start": f"it is a web server that {_DAEMON}",
    "reverb:start": f"it is a WebSocket server that {_DAEMON}",
    "pail": f"it is a log tail that {_DAEMON}",
    "cache:clear": "it empties the shared cache (sessions and locks too, when they live there)",
    "db:wipe": "it drops every table",
    "migrate:fresh": "it drops every table before migrating",
    "migrate:reset": "it rolls back every migration",
    "migrate:refresh": "it rolls back every migration before migrating",
    "migrate:rollback": "it rolls back the last batch of migrations, dropping what they created",
}
"""Artisan commands that are interactive, never end, or destroy data: refused by the artisan
command line (without ``--force-dangerous``) and by ``Scheduler``, one list for both."""


def dangerous_artisan_command(name: str) -> str | None:
    """The deny-listed command ``name`` would run, abbreviations included (``q:w``, ``tink``).

    Artisan resolves an unambiguous abbreviation, case-insensitively, so an exact lookup alone
    would let ``tink`` through.
    """
    pattern = "[^:]*:".join(re.escape(part) for part in name.split(":")) + "[^:]*"
    matcher = re.compile(pattern, re.IGNORECASE)
    return next((c for c in DANGEROUS_ARTISAN_COMMANDS if matcher.fullmatch(c)), None)


# Database users the app connects as: lowercase identifiers, so that quoted and unquoted SQL,
# Laravel's DB_USERNAME and RDS Proxy's secret all name the same role.
DATABASE_USER = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_APP_USER = "laravel_app"
DEFAULT_MIGRATION_USER = "laravel_migrator"
DATABASE_USER_MAX = {"postgres": 63, "mysql": 32}
# Names PostgreSQL or MySQL reserve for roles, and the accounts RDS creates (rdsadmin,
# rds_superuser, rdsrepladmin, ...: every name starting with "rds"); "pg_" is PostgreSQL's.
RESERVED_DATABASE_USERS = frozenset({
    "admin", "all", "current_role", "current_user", "default", "mysql", "none", "postgres",
    "public", "root", "session_user", "user",
})
RESERVED_DATABASE_USER_PREFIXES = ("pg_", "rds")


def check_database_user(where: str, prop: str, value: Any, engine: str) -> str:
    """A database user name for ``engine`` (``postgres`` or ``mysql``) that the bootstrap SQL
    can create: lowercase letters, digits and ``_``, not reserved by the engine or RDS."""
    limit = DATABASE_USER_MAX[engine]
    if not isinstance(value, str) or not DATABASE_USER.match(value) or len(value) > limit:
        raise config_error(
            where, prop, value,
            f"must be 1..{limit} lowercase letters, digits or '_', starting with a letter "
            f"({engine}'s limit)", "pass e.g. 'laravel_app'", kind="shape")
    if value in RESERVED_DATABASE_USERS or value.startswith(RESERVED_DATABASE_USER_PREFIXES):
        raise config_error(
            where, prop, value,
            f"is reserved by PostgreSQL, MySQL or RDS ({sorted(RESERVED_DATABASE_USERS)} and "
            f"names starting with {list(RESERVED_DATABASE_USER_PREFIXES)})",
            "pass another name, e.g. 'laravel_app'", kind="reserved")
    return value

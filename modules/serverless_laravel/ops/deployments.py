"""Deployments are published versions behind the ``live`` alias; a rollback moves the alias.

Every ``PhpFunction`` publishes a version on each code or configuration change, and the API,
event sources and schedules invoke ``live``. Moving ``live`` back is atomic per function and
takes effect on the next invocation. It does not undo database migrations, infrastructure
changes (queues, buckets, IAM) or environment changes made outside the function version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import config_error

WHERE = "serverless-laravel rollback"
LIVE_ALIAS = "live"
NOT_ROLLED_BACK = (
    "the next `terraform apply` of a changed function: it publishes a new version and points "
    "live at it again, so ship the fix before applying",
    "database migrations (roll them back with a new migration, never migrate:rollback in "
    "production without a plan)",
    "infrastructure changes (queues, buckets, IAM, the API): apply an earlier commit",
    "assets already synced to the bucket (hashed files stay; re-sync the earlier build)",
)


@dataclass(frozen=True)
class Deployment:
    """One published version of a function, and whether ``live`` points at it."""

    version: str
    last_modified: str
    description: str
    code_sha256: str
    live: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rollback:
    """Where ``live`` pointed before and after a rollback of one function."""

    function: str
    from_version: str
    to_version: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def lambda_client(region: str | None = None) -> Any:
    """A Lambda client; ``AWS_ENDPOINT_URL`` (an emulator in tests) is honoured by boto3."""
    from . import aws

    return aws.client("lambda", region)


def _versions(client: Any, function: str) -> list[dict[str, Any]]:
    """Every published version of ``function`` (``$LATEST`` left out), oldest first."""
    versions: list[dict[str, Any]] = []
    for page in client.get_paginator("list_versions_by_function").paginate(
            FunctionName=function):
        versions += [v for v in page["Versions"] if v["Version"] != "$LATEST"]
    return sorted(versions, key=lambda v: int(v["Version"]))


def live_version(client: Any, function: str) -> str:
    """The version ``live`` points at."""
    return str(client.get_alias(FunctionName=function, Name=LIVE_ALIAS)["FunctionVersion"])


def list_deployments(client: Any, function: str) -> list[Deployment]:
    """The published versions of ``function``, newest first, the live one marked."""
    live = live_version(client, function)
    return [Deployment(v["Version"], v.get("LastModified", ""), v.get("Description", ""),
                       v.get("CodeSha256", ""), v["Version"] == live)
            for v in reversed(_versions(client, function))]


def rollback_all(client: Any, functions: list[str], to: str | None = None) -> list[Rollback]:
    """Roll every function back, or none: all targets are found (and checked) before the first
    alias moves."""
    planned = [plan_rollback(client, name, to) for name in functions]
    for step in planned:
        client.update_alias(FunctionName=step.function, Name=LIVE_ALIAS,
                            FunctionVersion=step.to_version)
    return planned


def rollback(client: Any, function: str, to: str | None = None) -> Rollback:
    """Point ``live`` at version ``to``, else at the newest version older than the live one."""
    return rollback_all(client, [function], to)[0]


def plan_rollback(client: Any, function: str, to: str | None = None) -> Rollback:
    """Where ``live`` would move, without moving it."""
    live = live_version(client, function)
    versions = [v["Version"] for v in _versions(client, function)]
    if to is None:
        older = [v for v in versions if int(v) < int(live)]
        if not older:
            raise config_error(
                WHERE, "function", function,
                f"live already points at the oldest published version ({live})",
                "nothing earlier to roll back to; deploy a fix instead", kind="no_earlier",
            )
        to = older[-1]
    elif to not in versions:
        raise config_error(
            WHERE, "to", to, f"is not a published version of {function} ({', '.join(versions)})",
            "pick one listed by `serverless-laravel deployments`", kind="unknown_version",
        )
    return Rollback(function, live, to)

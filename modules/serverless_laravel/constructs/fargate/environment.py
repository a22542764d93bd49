"""What a container needs from the resources it uses: plain variables, and secrets by ARN.

ECS injects a secret into a container when the task starts, reading it with the task's
*execution* role (``secrets`` in the container definition, ``valueFrom`` = the ARN), so the value
is never in the task definition, the Terraform state or ``environment``. The resources the app
uses (cache, database proxy, queue) describe what a container needs through
``container_environment(consumer)``, and grant the consumer's roles exactly that access.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ...errors import config_error
from ..iam import Grantable, PolicyStatement
from ..secret_refs import is_secret_name

# Set by ECS and the AWS SDKs' container credential provider; a task must never override them.
RESERVED_ENV = frozenset({
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "ECS_CONTAINER_METADATA_URI",
    "ECS_CONTAINER_METADATA_URI_V4", "AWS_EXECUTION_ENV", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
})
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ContainerConsumer(Protocol):
    """A Fargate task using a resource: who reads its secrets, who runs the app, how many
    PHP processes may hold a connection at once (for the proxy's connection budget)."""

    @property
    def label(self) -> str: ...

    @property
    def execution_role(self) -> Grantable: ...

    @property
    def task_role(self) -> Grantable: ...

    @property
    def max_processes(self) -> int: ...


@dataclass(frozen=True)
class ContainerEnvironment:
    """Variables a container gets as plain ``environment``, and secrets as ``valueFrom`` ARNs."""

    variables: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


class RoleGrantee:
    """A ServiceRole as a ``Grantable``: ``grant_*`` methods add their statements to it."""

    def __init__(self, role: object) -> None:
        self.role = role

    def add_to_role_policy(self, statement: PolicyStatement) -> None:
        self.role.add(statement)  # type: ignore[attr-defined]

    @property
    def arn(self) -> str:
        return self.role.arn  # type: ignore[attr-defined]

    @property
    def role_arn(self) -> str:
        return self.arn


def check_variable(where: str, prop: str, key: object, value: object) -> None:
    """One plain variable: a valid name ECS leaves to us, a string, not a secret by its name."""
    if not isinstance(key, str) or not _ENV_KEY.match(key):
        raise config_error(where, prop, key, "keys must match [A-Za-z_][A-Za-z0-9_]*",
                           "rename the variable", kind="name")
    if key in RESERVED_ENV:
        raise config_error(
            where, prop, key, "is set by ECS or the AWS SDK's container credentials",
            "remove it: the task role supplies AWS credentials", kind="reserved",
        )
    if is_secret_name(key):
        raise config_error(
            where, prop, key,
            "looks like a secret (a known secret name, or ending in _PASSWORD, _SECRET, _KEY or "
            "_TOKEN); as plain environment it would be readable in the task definition and the "
            "Terraform state",
            f"store it in SSM Parameter Store (SecureString) or Secrets Manager and pass "
            f"secrets={{{key!r}: SecretRef.ssm('arn:aws:ssm:...')}}", kind="secret",
        )
    if not isinstance(value, str):
        raise config_error(where, f"{prop}[{key!r}]", value, "values must be strings",
                           f"pass str({value!r})", kind="type")


def merge(where: str, target: dict[str, str], source: Mapping[str, str], what: str) -> None:
    """Add ``source`` to ``target``; the same name with another value is a wiring conflict."""
    for key, value in source.items():
        existing = target.get(key)
        if existing is not None and existing != value:
            raise config_error(
                where, what, key,
                f"is already set to {existing!r} by another resource or prop",
                "wire each task to one default queue, cache and database proxy, and do not "
                "set their variables yourself", kind="conflict",
            )
        target[key] = value

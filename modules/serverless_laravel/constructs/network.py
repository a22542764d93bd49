"""Security groups and the paths between them: ``x.connections.allow_from(y, port)``.

Every construct with network presence (a function in a VPC, the cache, the database, the proxy,
later a Fargate service or the test runner) exposes ``connections``. Rules are added only to
groups this library creates (``PrivateSecurityGroup``), one rule resource per source group and
port, named from the source so the plan never churns when calls change order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .. import cdk
from ..cdk import Construct
from ..checks import check_int
from ..errors import config_error
from .naming import resource_name


@runtime_checkable
class Connectable(Protocol):
    """Anything with security groups: a PhpFunction in a VPC, a cache, a database, a proxy."""

    @property
    def connections(self) -> Connections: ...


class Connections:
    """The security groups of one construct, the ports it listens on, and how to open paths.

    ``owned`` is the group this library created for the construct (rules can be added to it);
    ``security_group_ids`` are all its groups, owned or not, used as the source of paths.
    """

    def __init__(self, label: str, *, security_group_ids: Sequence[str] = (),
                 owned: PrivateSecurityGroup | None = None,
                 default_ports: Sequence[int] = (), outside_vpc: str | None = None) -> None:
        self.label = label
        self.owned = owned
        ids = tuple(security_group_ids)
        self.security_group_ids = ids if ids or owned is None else (owned.group_id,)
        self.default_ports = tuple(default_ports)
        self._outside_vpc = outside_vpc

    def source_groups(self, where: str) -> tuple[str, ...]:
        """The groups traffic from this construct comes from; none is a configuration error."""
        if not self.security_group_ids:
            raise config_error(
                where, "vpc", self.label,
                f"{self.label} runs outside the VPC, so it has no security group to admit",
                self._outside_vpc or "give it a VPC (e.g. vpc=VpcConfig(subnet_ids, "
                "security_group_ids)) before opening a path to it", kind="outside_vpc",
            )
        return self.security_group_ids

    def allow_from(self, other: Connectable, port: int | None = None,
                   description: str | None = None) -> None:
        """Admit ``other``'s security groups on ``port`` (default: this construct's ports)."""
        self._admit(_connections_of(other), port, description)

    def allow_to(self, other: Connectable, port: int | None = None,
                 description: str | None = None) -> None:
        """Let this construct reach ``other`` on ``port`` (the rule goes on ``other``'s group)."""
        _connections_of(other)._admit(self, port, description)

    def _admit(self, source: Connections, port: int | None, description: str | None) -> None:
        """Ingress rules on the owned group from each of ``source``'s groups."""
        where = "Connections"
        if self.owned is None:
            raise config_error(
                where, "target", self.label,
                "its security groups are not created by this library, so no rule can be added",
                "open the path on the other side (other.connections.allow_to(this)) or in the "
                "stack that owns the groups", kind="not_owned",
            )
        ports = self._ports(where, port)
        text = description or f"{source.label} to {self.label}"
        for group in source.source_groups(where):
            for each in ports:
                self.owned.allow_from_group(group, each, text)

    def _ports(self, where: str, port: int | None) -> tuple[int, ...]:
        if port is None:
            if not self.default_ports:
                raise config_error(where, "port", None,
                                   f"{self.label} has no default port",
                                   "pass the port to open, e.g. port=443", kind="missing")
            return self.default_ports
        return (check_int(where, "port", port, 1, 65_535, "pass the port the target listens on",
                          unit="(a TCP port)"),)


def _connections_of(other: object) -> Connections:
    """``other.connections``, or an error naming what was passed instead."""
    connections = getattr(other, "connections", None)
    if not isinstance(connections, Connections):
        raise config_error(
            "Connections", "other", type(other).__name__,
            "must be Connectable (have .connections): a PhpFunction, RedisCache, Database, "
            "DatabaseProxy or another construct of this library",
            "pass the construct at the other end of the connection", kind="type",
        )
    return connections


def token_label(scope: Construct, value: str | list[str], max_length: int = 48) -> str:
    """A stable name part for a value known only at apply time: its Terraform expression.

    ``${aws_security_group.web-sg.id}`` gives ``aws_security_group-web-sg-id``: the same
    whatever order constructs are created or connected in (token numbers are not), and the
    same for every function sharing that group. Long expressions end in a hash.
    """
    core = cdk.core
    fix = "pass the literal id ('sg-...') or a resource attribute such as group.id"
    try:
        resolved = core.Tokenization.resolve(
            value, scope=scope, preparing=True,
            resolver=core.DefaultTokenResolver(core.StringConcat()),
        )
    except Exception as error:  # jsii raises its own error types
        raise config_error("PrivateSecurityGroup", "security group id", value,
                           f"cannot be resolved to a Terraform expression ({error})",
                           fix, kind="unresolvable") from None
    if not isinstance(resolved, str) or not resolved or cdk.is_token(resolved):
        raise config_error(
            "PrivateSecurityGroup", "security group id", value,
            f"resolves to {resolved!r}, not a Terraform expression", fix, kind="unresolved",
        )
    name = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9_]+", "-", resolved)).strip("-")
    if len(name) > max_length:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:max_length - 9].rstrip('-')}-{digest}"
    return name


class PrivateSecurityGroup(Construct):
    """A security group without inline rules: every opening is one rule resource, from a group."""

    def __init__(self, scope: Construct, id: str, *, vpc_id: str, description: str) -> None:
        super().__init__(scope, id)
        self.group = cdk.aws("security_group").SecurityGroup(
            self, "group", vpc_id=vpc_id, description=description,
            name_prefix=resource_name(self, "", 100, "-"),
            lifecycle={"create_before_destroy": True},
        )
        self._rules: dict[tuple[str, str, int], object] = {}

    @property
    def group_id(self) -> str:
        return self.group.id

    def allow_from_group(self, source_group_id: str, port: int, description: str) -> None:
        """Admit TCP ``port`` from ``source_group_id`` (idempotent)."""
        self._rule("ingress", source_group_id, port, description)

    def allow_to_group(self, target_group_id: str, port: int, description: str) -> None:
        """Let this group reach TCP ``port`` in ``target_group_id`` (idempotent)."""
        self._rule("egress", target_group_id, port, description)

    def _rule(self, direction: str, group_id: str, port: int, description: str) -> None:
        """One rule resource, named from the group: its literal id, else its expression.

        Never from a counter: a name that depends on the order of ``connect`` calls changes
        when that order does, and Terraform then replaces the rule (dropping connections).
        """
        many = cdk.is_list_token((group_id,))
        label = [group_id] if many else group_id
        name = token_label(self, label) if cdk.is_token(group_id) else group_id
        key = (direction, name, port)
        if key in self._rules:
            return
        kind = "vpc_security_group_ingress_rule" if direction == "ingress" \
            else "vpc_security_group_egress_rule"
        cls = "VpcSecurityGroupIngressRule" if direction == "ingress" \
            else "VpcSecurityGroupEgressRule"
        each: dict[str, Any] = {}
        if many:  # a list known at apply time (a variable): one rule per group in it
            iterator = cdk.core.TerraformIterator.from_list([group_id])
            each = {"for_each": iterator}
            group_id = cdk.Token.as_string(iterator.value)
        self._rules[key] = getattr(cdk.aws(kind), cls)(
            self, f"{direction}-{name}-{port}",
            security_group_id=self.group.id, referenced_security_group_id=group_id,
            ip_protocol="tcp", from_port=port, to_port=port, description=description, **each,
        )


def ingress_into(scope: Construct, id: str, group_id: str, source_group_id: str, port: int,
                 description: str) -> Any:
    """One ingress rule into a group this library does not own (e.g. an existing database's)."""
    return cdk.aws("vpc_security_group_ingress_rule").VpcSecurityGroupIngressRule(
        scope, id, security_group_id=group_id, referenced_security_group_id=source_group_id,
        ip_protocol="tcp", from_port=port, to_port=port, description=description,
    )

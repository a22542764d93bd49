"""What the queue, cache and database constructs share: checks, names, env wiring, security groups.

Every check raises a ``ConfigurationError`` naming the construct, the prop, the value, the rule
and the fix, so constructs can validate all their props before creating anything.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from . import cdk
from .cdk import Construct
from .errors import ConfigurationError
from .iam import deny_insecure_transport, policy_document
from .php_function import PhpFunction


def check_functions(where: str, prop: str, value: Any) -> tuple[PhpFunction, ...]:
    """A sequence of PhpFunctions."""
    functions = tuple(value) if isinstance(value, (list, tuple)) else None
    if functions is None or not all(isinstance(f, PhpFunction) for f in functions):
        raise ConfigurationError(where, prop, value, "must be a list of PhpFunction",
                                 "pass the PhpFunction constructs, e.g. [web, console]")
    return functions


def resource_name(scope: Construct, id: str, max_length: int, suffix: str = "") -> str:
    """A lowercase ``<stack>-<path>-<id><suffix>`` name, hashed when longer than allowed.

    Fits the strictest AWS rules used here (ElastiCache, RDS): starts with a letter, letters,
    digits and single hyphens only, no trailing hyphen.
    """
    stack = cdk.TerraformStack.of(scope)
    relative = scope.node.path[len(stack.node.path) + 1:]
    raw = "-".join(p for p in (stack.node.id, relative, id) if p)
    name = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", raw.lower())).strip("-")
    if not name[:1].isalpha():
        name = f"x{name}"
    room = max_length - len(suffix)
    if len(name) > room:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:room - 9].rstrip('-')}-{digest}"
    return f"{name}{suffix}"


def set_environment(fn: PhpFunction, key: str, value: str, where: str) -> None:
    """Set one variable on ``fn``; a different value already there is a wiring conflict."""
    existing = fn.environment.get(key)
    if existing is not None and existing != value:
        raise ConfigurationError(
            where, f"{fn.node.id}.environment[{key!r}]", value,
            f"{fn.node.id} already has {key}={existing!r} from another construct",
            "wire each function to one default queue/cache/database; use named queues for more",
        )
    if existing is None:
        fn.add_environment(key, value)


def function_security_groups(fn: PhpFunction, where: str) -> tuple[str, ...]:
    """The security groups of ``fn``'s ENIs; a function outside any VPC cannot be admitted."""
    if not isinstance(fn, PhpFunction):
        raise ConfigurationError(where, "fn", fn, "must be a PhpFunction",
                                 "pass the PhpFunction that connects")
    if fn.vpc is None:
        raise ConfigurationError(
            where, f"{fn.node.id}.vpc", None,
            "the function runs outside the VPC, so it has no security group to admit",
            "build the function with vpc=VpcConfig(subnet_ids, security_group_ids)",
        )
    return fn.vpc.security_group_ids


def token_label(scope: Construct, value: str, max_length: int = 48) -> str:
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
        raise ConfigurationError("PrivateSecurityGroup", "security group id", value,
                                 f"cannot be resolved to a Terraform expression ({error})",
                                 fix) from None
    if not isinstance(resolved, str) or not resolved or cdk.is_token(resolved):
        raise ConfigurationError("PrivateSecurityGroup", "security group id", value,
                                 f"resolves to {resolved!r}, not a Terraform expression", fix)
    name = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9_]+", "-", resolved)).strip("-")
    if len(name) > max_length:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:max_length - 9].rstrip('-')}-{digest}"
    return name


def tls_only_queue_policy(scope: Construct, id: str, queue: Any) -> Any:
    """An SQS queue policy denying every action to every principal over plain HTTP."""
    document = policy_document(
        scope, f"{id}-document", [deny_insecure_transport("sqs:*", [queue.arn])]
    )
    return cdk.aws("sqs_queue_policy").SqsQueuePolicy(
        scope, id, queue_url=queue.url, policy=document.json,
    )


def account_of(arn: str) -> str:
    """The account field of an ARN known only at apply time (a Terraform expression)."""
    return cdk.Fn.element(cdk.Fn.split(":", arn), 4)


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
        name = token_label(self, group_id) if cdk.is_token(group_id) else group_id
        key = (direction, name, port)
        if key in self._rules:
            return
        kind = "vpc_security_group_ingress_rule" if direction == "ingress" \
            else "vpc_security_group_egress_rule"
        cls = "VpcSecurityGroupIngressRule" if direction == "ingress" \
            else "VpcSecurityGroupEgressRule"
        self._rules[key] = getattr(cdk.aws(kind), cls)(
            self, f"{direction}-{name}-{port}",
            security_group_id=self.group.id, referenced_security_group_id=group_id,
            ip_protocol="tcp", from_port=port, to_port=port, description=description,
        )


def ingress_into(scope: Construct, id: str, group_id: str, source_group_id: str, port: int,
                 description: str) -> Any:
    """One ingress rule into a group this library does not own (e.g. an existing database's)."""
    return cdk.aws("vpc_security_group_ingress_rule").VpcSecurityGroupIngressRule(
        scope, id, security_group_id=group_id, referenced_security_group_id=source_group_id,
        ip_protocol="tcp", from_port=port, to_port=port, description=description,
    )

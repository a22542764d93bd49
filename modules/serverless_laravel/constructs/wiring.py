"""What the queue, cache and database constructs share: checks, names, environment wiring.

Every check raises a ``ConfigurationError`` naming the construct, the prop, the value, the rule
and the fix, so constructs can validate all their props before creating anything.
"""

from __future__ import annotations

from typing import Any

from .. import cdk
from ..cdk import Construct
from ..errors import config_error
from .iam import deny_insecure_transport, policy_document
from .naming import resource_name
from .php_function import PhpFunction

__all__ = ["account_of", "check_functions", "resource_name", "set_environment",
           "tls_only_queue_policy"]


def check_functions(where: str, prop: str, value: Any) -> tuple[PhpFunction, ...]:
    """A sequence of PhpFunctions."""
    functions = tuple(value) if isinstance(value, (list, tuple)) else None
    if functions is None or not all(isinstance(f, PhpFunction) for f in functions):
        raise config_error(where, prop, value, "must be a list of PhpFunction",
                           "pass the PhpFunction constructs, e.g. [web, console]", kind="type")
    return functions


def set_environment(fn: PhpFunction, key: str, value: str, where: str) -> None:
    """Set one variable on ``fn``; a different value already there is a wiring conflict."""
    existing = fn.environment.get(key)
    if existing is not None and existing != value:
        raise config_error(
            where, f"{fn.node.id}.environment[{key!r}]", value,
            f"{fn.node.id} already has {key}={existing!r} from another construct",
            "wire each function to one default queue/cache/database; use named queues for more",
        )
    if existing is None:
        fn.add_environment(key, value)


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

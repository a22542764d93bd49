"""AWS resource names from construct paths: stable, unique in the stack, within limits."""

from __future__ import annotations

import hashlib
import re

from .. import cdk
from ..cdk import Construct


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

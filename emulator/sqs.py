"""SQS: store and return ``RedriveAllowPolicy``, and keep ``Policy`` when another attribute is set.

moto 5.2.5 drops ``RedriveAllowPolicy`` (never returned, so the provider waits 20 minutes for it),
resets ``Policy`` on every ``SetQueueAttributes`` that does not name it, and returns ``Policy``
and ``RedrivePolicy`` re-serialized. AWS changes only the attributes a call names and returns
the policies as set.
"""

from __future__ import annotations

from typing import Any

EXTRA_ATTRIBUTES = ("RedriveAllowPolicy",)


def extend() -> None:
    """Patch moto's Queue model once."""
    from moto.sqs.models import Queue

    if getattr(Queue, "_emulator_extended", False):
        return
    original = Queue._set_attributes

    def set_attributes(self: Queue, attributes: dict[str, Any], now: float | None = None) -> None:
        if "Policy" not in attributes:
            attributes = {**attributes, "Policy": getattr(self, "policy", None)}
        for name in EXTRA_ATTRIBUTES:
            if not hasattr(self, _attribute(name)):
                setattr(self, _attribute(name), None)
        original(self, attributes, now)
        for name in EXTRA_ATTRIBUTES:
            if attributes.get(name) == "":
                setattr(self, _attribute(name), None)
        if "RedrivePolicy" in attributes:
            self._emulator_redrive_policy = attributes["RedrivePolicy"] or None

    def queue_attributes(self: Queue) -> dict[str, Any]:
        result = original_attributes.fget(self)
        raw = getattr(self, "_emulator_redrive_policy", None)
        if "RedrivePolicy" in result and isinstance(raw, str):
            result["RedrivePolicy"] = raw
        return result

    def get_policy(self: Queue) -> str | None:
        return self._emulator_policy if self._policy_json.get("Statement") else None

    def set_policy(self: Queue, policy: str | None) -> None:
        original_policy.fset(self, policy)
        self._emulator_policy = policy

    original_attributes = Queue.attributes
    Queue.attributes = property(queue_attributes)
    original_policy = Queue.policy
    Queue.policy = property(get_policy, set_policy)
    Queue._set_attributes = set_attributes
    Queue.BASE_ATTRIBUTES = [*Queue.BASE_ATTRIBUTES, *EXTRA_ATTRIBUTES]
    Queue._emulator_extended = True


def _attribute(name: str) -> str:
    from moto.core.utils import camelcase_to_underscores

    return camelcase_to_underscores(name)

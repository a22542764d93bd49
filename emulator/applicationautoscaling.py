"""Application Auto Scaling: tags on scalable targets.

moto 5.2.5 drops the ``Tags`` of RegisterScalableTarget and has no ListTagsForResource,
TagResource or UntagResource (500), so the provider cannot read a target it created. Tags are
stored per target ARN and returned as AWS does (a map); deregistering drops them.
"""

from __future__ import annotations

import json
from typing import Any


def _tags(self: Any) -> dict[str, dict[str, str]]:
    return self.applicationautoscaling_backend.__dict__.setdefault("emulator_tags", {})


def list_tags_for_resource(self: Any) -> str:
    """ListTagsForResource: the target's tags, ``{}`` when none."""
    return json.dumps({"Tags": _tags(self).get(self._get_param("ResourceARN"), {})})


def tag_resource(self: Any) -> str:
    """TagResource: add or replace tags."""
    _tags(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags"))
    return "{}"


def untag_resource(self: Any) -> str:
    """UntagResource: remove the named keys."""
    tags = _tags(self).get(self._get_param("ResourceARN"), {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return "{}"


def extend() -> None:
    """Register the handlers on moto's response class; keep tags given at registration."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as Response

    if getattr(Response, "_emulator_extended", False):
        return
    original_register = Response.register_scalable_target
    original_deregister = Response.deregister_scalable_target

    def register_scalable_target(self: Any) -> str:
        body = original_register(self)
        if self._get_param("Tags"):
            arn = json.loads(body)["ScalableTargetARN"]
            _tags(self).setdefault(arn, {}).update(self._get_param("Tags"))
        return body

    def deregister_scalable_target(self: Any) -> str:
        targets = self.applicationautoscaling_backend.targets
        dimension = targets.get(self._get_param("ScalableDimension"), {})
        target = dimension.get(self._get_param("ResourceId"))
        body = original_deregister(self)
        if target is not None:
            _tags(self).pop(target.arn, None)
        return body

    for handler in (list_tags_for_resource, tag_resource, untag_resource,
                    register_scalable_target, deregister_scalable_target):
        setattr(Response, handler.__name__, handler)
    Response._emulator_extended = True

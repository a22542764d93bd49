"""Where the emulator still answers differently from AWS, so that a second ``terraform plan``
after apply proposes a change: each quirk names the resource type, the attribute and why.

The deploy tests accept a second plan only when every change it proposes is listed here; any
other change fails them. docs/testing.md describes each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Quirk:
    """One attribute moto returns differently from what was set."""

    resource_type: str
    attribute: str
    reason: str


_CLOUDFRONT = ("moto 5.2.5 answers a distribution config with defaults the request did not set "
               "(ForwardedValues beside a cache policy, origin defaults, "
               "CloudFrontDefaultCertificate=true beside an ACM certificate)")
QUIRKS: tuple[Quirk, ...] = (
    *(Quirk("aws_cloudfront_distribution", attribute, _CLOUDFRONT) for attribute in (
        "default_cache_behavior", "ordered_cache_behavior", "origin", "viewer_certificate")),
    Quirk("aws_s3_bucket_policy", "policy",
          "its document names the CloudFront distribution, whose quirk defers the document's "
          "read to apply time"),
    Quirk("aws_db_parameter_group", "parameter",
          "moto 5.2.5 stores a custom parameter group's parameters but DescribeDBParameters "
          "does not return them as user-set"),
    Quirk("aws_s3_bucket_notification", "eventbridge",
          "moto 5.2.5 drops EventBridgeConfiguration from a bucket's notification configuration"),
    *(Quirk(f"aws_vpc_security_group_{direction}_rule", attribute, reason)
      for direction in ("ingress", "egress") for attribute, reason in (
          ("description", "moto 5.2.5 does not return a rule's description from "
                          "DescribeSecurityGroupRules"),
          ("referenced_security_group_id", "moto 5.2.5 returns the referenced group as "
                                           "<account>/<group id>, not the group id"))),
    Quirk("aws_cloudtrail", "sns_topic_name",
          "moto 5.2.5 returns the topic's ARN as SnsTopicName (AWS returns the name there and "
          "the ARN in SnsTopicARN)"),
)


def changed_attributes(change: dict[str, Any]) -> list[str]:
    """The top-level attributes a planned resource change would alter."""
    body = change["change"]
    if body.get("replace_paths"):
        return sorted({str(path[0]) for path in body["replace_paths"]})
    before, after = body.get("before") or {}, body.get("after") or {}
    unknown = body.get("after_unknown") or {}
    return sorted(key for key in {*before, *after}
                  if before.get(key) != after.get(key) or unknown.get(key) is True)


def unexplained(changes: list[dict[str, Any]]) -> list[str]:
    """``address: attribute (actions)`` for each planned change no quirk explains."""
    known = {(q.resource_type, q.attribute) for q in QUIRKS}
    found = []
    for change in changes:
        actions = "/".join(change["change"]["actions"])
        attributes = changed_attributes(change) or ["(whole resource)"]
        found += [f"{change['address']}: {attribute} ({actions})" for attribute in attributes
                  if (change["type"], attribute) not in known]
    return found

"""AWS WAF web ACLs as the project builds them: a per-IP rate limit, AWS managed rule groups,
and logs (credentials redacted) to a log group of their own. CloudFront (``Assets``) and the
Fargate baseline's load balancer share this, so both designs are filtered alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import cdk
from ..cdk import Construct

WAF_WINDOW_SECONDS = 300
# AWS managed rule groups on the web ACL, in priority order after the rate limit. Rules listed
# in ``count_only`` only count: the Common set's SizeRestrictions_BODY blocks bodies over 8 KB,
# which Laravel apps legitimately receive (JSON APIs, form posts with long text, uploads).
@dataclass(frozen=True)
class ManagedRuleGroup:
    """One AWS managed rule group, and the rules in it that only count."""

    name: str
    count_only: tuple[str, ...] = ()


MANAGED_RULE_GROUPS: tuple[ManagedRuleGroup, ...] = (
    ManagedRuleGroup("AWSManagedRulesAmazonIpReputationList"),
    # VPN, Tor, proxy and cloud-hosted clients: counted (visible in metrics and WAF logs), not
    # blocked, as corporate VPNs and server-side integrations are legitimate callers of many
    # apps. Override the two rules to block where that is not the case.
    ManagedRuleGroup("AWSManagedRulesAnonymousIpList",
                     count_only=("AnonymousIPList", "HostingProviderIPList")),
    ManagedRuleGroup("AWSManagedRulesCommonRuleSet", count_only=("SizeRestrictions_BODY",)),
    ManagedRuleGroup("AWSManagedRulesKnownBadInputsRuleSet"),
    ManagedRuleGroup("AWSManagedRulesSQLiRuleSet"),
    ManagedRuleGroup("AWSManagedRulesPHPRuleSet"),
)
WAF_LOG_PREFIX = "aws-waf-logs-"
REDACTED_HEADERS: tuple[str, ...] = ("authorization", "cookie")


def visibility(metric: str) -> dict[str, object]:
    """CloudWatch metrics and sampled requests for a web ACL or one of its rules."""
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric[:128],
            "sampled_requests_enabled": True}


def _managed_rule(group: ManagedRuleGroup, priority: int, metric: str) -> Any:
    """One AWS managed rule group, its ``count_only`` rules overridden to count."""
    overrides = [{"name": rule, "action_to_use": {"count": {}}} for rule in group.count_only]
    return cdk.struct(
        "wafv2_web_acl", "Wafv2WebAclRule", name=group.name, priority=priority,
        override_action={"none": {}},
        statement={"managed_rule_group_statement": {
            "name": group.name, "vendor_name": "AWS",
            **({"rule_action_override": overrides} if overrides else {})}},
        visibility_config=visibility(f"{metric}-{group.name}"),
    )


def logged_web_acl(scope: Construct, *, name: str, metric: str, kind: str, limit: int,
                   managed_rules: bool, log_retention_days: int) -> tuple[Any, Any]:
    """The web ACL (``kind``: ``CLOUDFRONT`` or ``REGIONAL``) and its log group, in ``scope``."""
    module = "wafv2_web_acl"
    rate = cdk.struct(
        module, "Wafv2WebAclRule", name="rate-limit-per-ip", priority=0,
        action={"block": {}},
        statement={"rate_based_statement": {
            "limit": limit, "aggregate_key_type": "IP",
            "evaluation_window_sec": WAF_WINDOW_SECONDS}},
        visibility_config=visibility(f"{metric}-rate-limit"),
    )
    managed = [_managed_rule(group, priority, metric)
               for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
               ] if managed_rules else []
    web_acl = cdk.aws(module).Wafv2WebAcl(
        scope, "web-acl", name=name, scope=kind,
        description="Managed rule groups and a rate limit per client IP (serverless-laravel)",
        default_action={"allow": {}}, rule=[rate, *managed],
        visibility_config=visibility(metric),
    )
    log_group = cdk.aws("cloudwatch_log_group").CloudwatchLogGroup(
        scope, "waf-logs", name=f"{WAF_LOG_PREFIX}{name}", retention_in_days=log_retention_days,
    )
    logging = "wafv2_web_acl_logging_configuration"
    cdk.aws(logging).Wafv2WebAclLoggingConfiguration(
        scope, "waf-logging", resource_arn=web_acl.arn,
        log_destination_configs=[log_group.arn],
        redacted_fields=[
            cdk.struct(logging, "Wafv2WebAclLoggingConfigurationRedactedFields",
                       single_header={"name": header})
            for header in REDACTED_HEADERS
        ],
    )
    return web_acl, log_group

"""CKV_LARAVEL_9: no security-group ingress from the whole internet but TCP 80 and 443.

CKV2_LARAVEL_9 completes it: a group open to the internet on 80/443 must be a load balancer's.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from laravel_policy_rules import blocks, guideline, is_world, only_web_ports, strings, value

ID = "CKV_LARAVEL_9"
RESOURCES = ("aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule")


def _problem(where: str, cidrs: list[str], protocol: object, low: object, high: object) -> str:
    ports = "all ports" if str(protocol) in ("-1", "all") else f"{protocol} {low}-{high}"
    return f"{where}: {', '.join(cidrs)} may reach {ports}"


class WorldOpenIngress(BaseResourceCheck):
    """Inline ``ingress`` of ``aws_security_group``, ``aws_security_group_rule`` of type ingress
    and ``aws_vpc_security_group_ingress_rule``: a /0 source (0.0.0.0/0, ::/0) may only open
    exactly TCP 80 or exactly TCP 443."""

    def __init__(self) -> None:
        super().__init__(
            name="Security groups admit the internet only on TCP 80 and 443",
            id=ID, categories=[CheckCategories.NETWORKING],
            supported_resources=list(RESOURCES), guideline=guideline(ID),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        problems = []
        for where, cidrs, protocol, low, high in self._rules(conf):
            world = [cidr for cidr in cidrs if is_world(cidr)]
            if world and not only_web_ports(protocol, low, high):
                problems.append(_problem(where, world, protocol, low, high))
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED

    def _rules(self, conf: dict[str, Any]) -> list[tuple[str, list[str], object, object, object]]:
        """(where, source CIDRs, protocol, from_port, to_port) of each ingress rule."""
        if self.entity_type == "aws_security_group":
            return [(f"ingress {index}",
                     strings(rule.get("cidr_blocks")) + strings(rule.get("ipv6_cidr_blocks")),
                     value(rule, "protocol"), value(rule, "from_port"), value(rule, "to_port"))
                    for index, rule in enumerate(blocks(conf, "ingress"))]
        if self.entity_type == "aws_security_group_rule":
            if value(conf, "type") != "ingress":
                return []
            return [("rule", strings(conf.get("cidr_blocks")) +
                     strings(conf.get("ipv6_cidr_blocks")), value(conf, "protocol"),
                     value(conf, "from_port"), value(conf, "to_port"))]
        return [("rule", strings(conf.get("cidr_ipv4")) + strings(conf.get("cidr_ipv6")),
                 value(conf, "ip_protocol"), value(conf, "from_port"), value(conf, "to_port"))]


check = WorldOpenIngress()

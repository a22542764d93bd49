"""Facts read back from synthesized Terraform JSON: resources by service, and the database
connection budget the stack's own concurrency caps add up to.

The decision record quotes these instead of restating the examples' settings, so a change to
an example shows up in the record (and CI fails until it is regenerated).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from .connection_budget import ConnectionBudget, Consumer, compute_budget, default_max_connections

# Resource type prefixes and the AWS service each belongs to, most specific first.
SERVICES: tuple[tuple[str, str], ...] = (
    ("aws_cloudwatch_log_", "CloudWatch Logs"),
    ("aws_cloudwatch_event_", "EventBridge"),
    ("aws_cloudwatch_", "CloudWatch"),
    ("aws_apigatewayv2_", "API Gateway"),
    ("aws_lambda_", "Lambda"),
    ("aws_cloudfront_", "CloudFront"),
    ("aws_wafv2_", "WAF"),
    ("aws_s3_", "S3"),
    ("aws_sqs_", "SQS"),
    ("aws_sns_", "SNS"),
    ("aws_scheduler_", "EventBridge Scheduler"),
    ("aws_iam_", "IAM"),
    ("aws_kms_", "KMS"),
    ("aws_secretsmanager_", "Secrets Manager"),
    ("aws_ssm_", "Systems Manager"),
    ("aws_elasticache_", "ElastiCache"),
    ("aws_db_", "RDS"),
    ("aws_rds_", "RDS"),
    ("aws_ecs_", "ECS"),
    ("aws_ecr_", "ECR"),
    ("aws_lb", "Elastic Load Balancing"),
    ("aws_security_group", "VPC security groups"),
    ("aws_vpc_security_group_", "VPC security groups"),
    ("aws_cloudtrail", "CloudTrail"),
    ("aws_route53_", "Route 53"),
    ("aws_acm_", "ACM"),
    ("aws_appautoscaling_", "Application Auto Scaling"),
)

_REFERENCE = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")


def service_of(resource_type: str) -> str:
    """The AWS service a Terraform resource type belongs to (``aws_lambda_alias`` -> Lambda)."""
    for prefix, service in SERVICES:
        if resource_type.startswith(prefix):
            return service
    return resource_type.removeprefix("aws_").split("_", 1)[0]


def resources_by_service(doc: Mapping[str, Any]) -> dict[str, int]:
    """How many resources a synthesized stack declares, per AWS service, sorted by service."""
    counts: Counter[str] = Counter()
    for type_, blocks in doc.get("resource", {}).items():
        counts[service_of(type_)] += len(blocks)
    return dict(sorted(counts.items()))


def _referenced(value: Any, type_: str) -> str | None:
    """The name of the ``type_`` resource ``value`` interpolates, if any."""
    for found_type, name in _REFERENCE.findall(str(value)):
        if found_type == type_:
            return name
    return None


def _event_source_caps(resources: Mapping[str, Any]) -> dict[str, int]:
    """Function resource name -> the lowest SQS ``maximum_concurrency`` mapped to it."""
    alias_target = {name: _referenced(block.get("function_name"), "aws_lambda_function")
                    for name, block in resources.get("aws_lambda_alias", {}).items()}
    caps: dict[str, int] = {}
    for block in resources.get("aws_lambda_event_source_mapping", {}).values():
        target = block.get("function_name")
        function = _referenced(target, "aws_lambda_function") or alias_target.get(
            _referenced(target, "aws_lambda_alias") or "")
        scaling = block.get("scaling_config") or {}
        if isinstance(scaling, list):
            scaling = scaling[0] if scaling else {}
        maximum = scaling.get("maximum_concurrency")
        if function and isinstance(maximum, int):
            caps[function] = min(maximum, caps.get(function, maximum))
    return caps


def _path(block: Mapping[str, Any], fallback: str) -> str:
    path = block.get("//", {}).get("metadata", {}).get("path", fallback)
    return path.split("/", 1)[-1]


def proxy_consumers(doc: Mapping[str, Any]) -> list[Consumer]:
    """The functions whose ``DB_HOST`` is an RDS Proxy endpoint, with their concurrency caps."""
    resources = doc.get("resource", {})
    caps = _event_source_caps(resources)
    consumers = []
    for name, block in sorted(resources.get("aws_lambda_function", {}).items()):
        variables = (block.get("environment") or {}).get("variables") or {}
        if _referenced(variables.get("DB_HOST", ""), "aws_db_proxy") is None:
            continue
        reserved = block.get("reserved_concurrent_executions")
        consumers.append(Consumer(
            _path(block, name).removesuffix("/function"),
            reserved_concurrency=reserved if isinstance(reserved, int) and reserved >= 0
            else None,
            maximum_concurrency=caps.get(name)))
    return consumers


def stack_budget(doc: Mapping[str, Any]) -> ConnectionBudget | None:
    """The stack's connection budget as synthesized; None without a proxy or a database."""
    resources = doc.get("resource", {})
    instances = list(resources.get("aws_db_instance", {}).values())
    groups = list(resources.get("aws_db_proxy_default_target_group", {}).values())
    if not instances or not groups:
        return None
    instance = instances[0]
    pool = groups[0].get("connection_pool_config") or {}
    if isinstance(pool, list):
        pool = pool[0] if pool else {}
    engine = "mysql" if "mysql" in str(instance.get("engine", "")) else "postgres"
    return compute_budget(
        proxy_consumers(doc),
        max_connections=default_max_connections(engine, str(instance.get("instance_class"))),
        max_connections_percent=int(pool.get("max_connections_percent", 100)))


def instance_class(doc: Mapping[str, Any]) -> str | None:
    """The RDS instance class of the stack's (first) database, if it has one."""
    for block in doc.get("resource", {}).get("aws_db_instance", {}).values():
        return str(block.get("instance_class"))
    return None

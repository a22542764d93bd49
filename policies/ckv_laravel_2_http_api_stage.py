"""CKV_LARAVEL_2: an API Gateway v2 stage writes access logs and throttles its default route."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from laravel_policy_rules import as_int, blocks, guideline, is_expression, value

ID = "CKV_LARAVEL_2"
LIMITS = ("throttling_burst_limit", "throttling_rate_limit")


def _is_limit(found: object) -> bool:
    """A number (rate limits may be fractional) or an expression that gives one at apply time."""
    if is_expression(found):
        return True
    return not isinstance(found, bool) and (isinstance(found, float) or as_int(found) is not None)


class HttpApiStageLogsAndThrottling(BaseResourceCheck):
    """``access_log_settings`` with a ``destination_arn``; ``default_route_settings`` with both
    throttling limits (unset, a stage takes the account's 10,000 requests/s)."""

    def __init__(self) -> None:
        super().__init__(
            name="API Gateway v2 stage writes access logs and throttles the default route",
            id=ID, categories=[CheckCategories.LOGGING],
            supported_resources=["aws_apigatewayv2_stage"], guideline=guideline(ID),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        problems = []
        logs = blocks(conf, "access_log_settings")
        if not any(isinstance(value(b, "destination_arn"), str) and value(b, "destination_arn")
                   for b in logs):
            problems.append("no access_log_settings.destination_arn: requests are not logged")
        routes = blocks(conf, "default_route_settings")
        for limit in LIMITS:
            if not any(_is_limit(value(b, limit)) for b in routes):
                problems.append(f"default_route_settings.{limit} is not set")
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED


check = HttpApiStageLogsAndThrottling()

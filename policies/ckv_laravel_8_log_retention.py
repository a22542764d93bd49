"""CKV_LARAVEL_8: every CloudWatch log group sets ``retention_in_days``."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from laravel_policy_rules import as_int, guideline, is_expression, value

ID = "CKV_LARAVEL_8"


class LogGroupRetention(BaseResourceCheck):
    """Without ``retention_in_days`` (or with 0) logs are kept, and billed, forever."""

    def __init__(self) -> None:
        super().__init__(
            name="CloudWatch log group sets a retention period",
            id=ID, categories=[CheckCategories.LOGGING],
            supported_resources=["aws_cloudwatch_log_group"], guideline=guideline(ID),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        days = value(conf, "retention_in_days")
        if is_expression(days):
            return CheckResult.UNKNOWN
        if (as_int(days) or 0) > 0:
            return CheckResult.PASSED
        self.details.append("retention_in_days is not set: logs never expire"
                            if days is None else f"retention_in_days is {days!r}: logs never "
                            "expire")
        return CheckResult.FAILED


check = LogGroupRetention()

"""CKV_LARAVEL_7: no Lambda function URL open to anyone (``authorization_type = NONE``)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from laravel_policy_rules import guideline, is_expression, value

ID = "CKV_LARAVEL_7"


class FunctionUrlRequiresAuth(BaseResourceCheck):
    """A function URL with ``authorization_type = NONE`` lets anyone invoke the function and
    bypasses the HTTP API's throttling, WAF and access logs; use ``AWS_IAM``."""

    def __init__(self) -> None:
        super().__init__(
            name="Lambda function URL requires IAM authorization",
            id=ID, categories=[CheckCategories.IAM],
            supported_resources=["aws_lambda_function_url"], guideline=guideline(ID),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        auth = value(conf, "authorization_type")
        if is_expression(auth):
            return CheckResult.UNKNOWN
        if str(auth).upper() == "AWS_IAM":
            return CheckResult.PASSED
        self.details.append(f"authorization_type is {auth!r}: anyone can invoke the function")
        return CheckResult.FAILED


check = FunctionUrlRequiresAuth()

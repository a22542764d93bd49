"""CKV_LARAVEL_5: no IAM Allow statement with a wildcard action (``*``, ``s3:*``, ``s3:Get*``).

Two checks under one id: one for ``aws_iam_policy_document`` data sources, one for literal JSON
policies written on resources. Deny statements may use wildcards: they only take access away
(e.g. the DenyInsecureTransport ``s3:*`` / ``sqs:*`` statements).
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
    wildcard_action_problems,
)

ID = "CKV_LARAVEL_5"
NAME = "IAM Allow statements name their actions, without wildcards"


class PolicyDocumentWildcardActions(BaseDataCheck):
    """Allow statements of ``aws_iam_policy_document`` data sources."""

    def __init__(self) -> None:
        super().__init__(name=NAME, id=ID, categories=[CheckCategories.IAM],
                         supported_data=["aws_iam_policy_document"], guideline=guideline(ID))

    def scan_data_conf(self, conf: dict[str, Any]) -> CheckResult:
        problems = wildcard_action_problems(document_statements(conf))
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED


class JsonPolicyWildcardActions(BaseResourceCheck):
    """Allow statements of literal JSON policies (role, user, group and managed policies, a
    role's ``inline_policy``, queue and bucket policies). A policy given as an expression is
    UNKNOWN here: a reference to a policy document is checked on the data source."""

    def __init__(self) -> None:
        super().__init__(name=NAME, id=ID, categories=[CheckCategories.IAM],
                         supported_resources=list(JSON_POLICY_RESOURCES),
                         guideline=guideline(ID))

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        statements = resource_statements(self.entity_type, conf)
        if statements is None:
            return CheckResult.UNKNOWN
        problems = wildcard_action_problems(statements)
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED


data_check = PolicyDocumentWildcardActions()
resource_check = JsonPolicyWildcardActions()

"""CKV_LARAVEL_1: an RDS Proxy requires TLS and reads its credentials from Secrets Manager."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from laravel_policy_rules import blocks, guideline, value

ID = "CKV_LARAVEL_1"


class RdsProxyTlsAndSecrets(BaseResourceCheck):
    """``require_tls = true`` and every ``auth`` block uses SECRETS with a ``secret_arn``.

    ``auth_scheme`` may be left out: SECRETS is its default and only value. A proxy with
    ``default_auth_scheme = IAM_AUTH`` and no ``auth`` block fails: this project reads database
    credentials from Secrets Manager.
    """

    def __init__(self) -> None:
        super().__init__(
            name="RDS Proxy requires TLS and reads credentials from Secrets Manager",
            id=ID, categories=[CheckCategories.ENCRYPTION], supported_resources=["aws_db_proxy"],
            guideline=guideline(ID),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        problems = []
        if value(conf, "require_tls") is not True:
            problems.append("require_tls is not true: clients may connect in plain text")
        auth = blocks(conf, "auth")
        if not auth:
            problems.append("no auth block: no Secrets Manager secret holds the credentials")
        for index, block in enumerate(auth):
            scheme = value(block, "auth_scheme", "SECRETS")
            if scheme != "SECRETS":
                problems.append(f"auth {index}: auth_scheme is {scheme!r}, not SECRETS")
            arn = value(block, "secret_arn")
            if not isinstance(arn, str) or not arn:
                problems.append(f"auth {index}: no secret_arn")
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED


check = RdsProxyTlsAndSecrets()

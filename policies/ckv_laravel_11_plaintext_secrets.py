"""CKV_LARAVEL_11: no plaintext secret in Lambda environment variables or ECS container
``environment`` entries (``secrets`` entries are references and are not read)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from laravel_policy_rules import blocks, entries, guideline, json_template, plaintext_secret, value

ID = "CKV_LARAVEL_11"


class PlaintextSecrets(BaseResourceCheck):
    """A secret-named variable (``*_PASSWORD``, ``*_SECRET``, ``*_KEY``, ``*_TOKEN``, ``APP_KEY``,
    ``DATABASE_URL``...) must hold a reference: ``bref-ssm:<parameter>``, an ARN or a whole
    Terraform expression; a ``*_URL`` may be a URL without credentials. Any variable fails when
    its value has the shape of a secret (``base64:`` Laravel key, ``AKIA...`` key id, private
    key, live API tokens, a long high-entropy token)."""

    def __init__(self) -> None:
        super().__init__(
            name="No plaintext secrets in Lambda or ECS environment variables",
            id=ID, categories=[CheckCategories.SECRETS],
            supported_resources=["aws_lambda_function", "aws_ecs_task_definition"],
            guideline=guideline(ID),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        variables = self._variables(conf)
        if variables is None:
            return CheckResult.UNKNOWN
        problems = [f"{where}{problem}" for where, name, found in variables
                    if (problem := plaintext_secret(name, found)) is not None]
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED

    def _variables(self, conf: dict[str, Any]) -> list[tuple[str, str, object]] | None:
        """(where, name, value) of each variable; None when the container definitions are a
        whole expression (``${jsonencode(...)}``), which is not evaluated here."""
        if self.entity_type == "aws_lambda_function":
            return [("", name, found) for environment in blocks(conf, "environment")
                    for variables in blocks(environment, "variables")
                    for name, found in entries(variables)]
        containers = json_template(value(conf, "container_definitions"))
        if containers is None:
            return None
        found = []
        for container in containers if isinstance(containers, list) else []:
            if not isinstance(container, dict):
                continue
            where = f"container {container.get('name', '?')}: "
            environment = container.get("environment")
            for entry in environment if isinstance(environment, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    found.append((where, entry["name"], entry.get("value")))
        return found


check = PlaintextSecrets()

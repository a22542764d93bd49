"""CKV_LARAVEL_10: RDS is not publicly accessible; RDS and ElastiCache are not in a subnet group
named public.

This check reads literal subnet-group names; CKV2_LARAVEL_10 follows references to subnet-group
resources and reads their names and tags.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from laravel_policy_rules import guideline, is_public_name, value

ID = "CKV_LARAVEL_10"
# Resource type -> the attribute naming its subnet group.
SUBNET_GROUP_ATTRIBUTE = {
    "aws_db_instance": "db_subnet_group_name",
    "aws_rds_cluster": "db_subnet_group_name",
    "aws_rds_cluster_instance": "db_subnet_group_name",
    "aws_elasticache_cluster": "subnet_group_name",
    "aws_elasticache_replication_group": "subnet_group_name",
}
PUBLICLY_ACCESSIBLE = frozenset({"aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance"})


class DatabaseNotPublic(BaseResourceCheck):
    """``publicly_accessible = true`` gives an RDS instance a public address; a subnet group
    named public (``public`` as a word: ``public-db``, ``PublicSubnets``) puts it where one
    is reachable."""

    def __init__(self) -> None:
        super().__init__(
            name="RDS and ElastiCache are not publicly accessible nor in a public subnet group",
            id=ID, categories=[CheckCategories.NETWORKING],
            supported_resources=list(SUBNET_GROUP_ATTRIBUTE), guideline=guideline(ID),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        problems = []
        if self.entity_type in PUBLICLY_ACCESSIBLE and value(conf, "publicly_accessible") is True:
            problems.append("publicly_accessible is true")
        attribute = SUBNET_GROUP_ATTRIBUTE[self.entity_type]
        group = value(conf, attribute)
        if is_public_name(group):
            problems.append(f"{attribute} {group!r} names a public subnet group")
        self.details.extend(problems)
        return CheckResult.FAILED if problems else CheckResult.PASSED


check = DatabaseNotPublic()

"""``FargateCluster``: an ECS cluster with Container Insights, and the network its tasks run in."""

from __future__ import annotations

from ... import cdk
from ...cdk import Construct
from ...checks import check_choice, check_vpc_id
from ...errors import config_error
from ..naming import resource_name
from ..php_function import VpcConfig
from ..stack import region_of

WHERE = "FargateCluster"
CONTAINER_INSIGHTS = ("enabled", "enhanced")


class FargateCluster(Construct):
    """An ECS cluster whose tasks run in the VPC's private subnets, never with a public IP.

    Props: ``vpc_id``; ``vpc``: a ``VpcConfig`` of 2 or more private subnets (in different AZs)
    and the existing security groups that give every task its egress (443 to AWS APIs through
    a NAT gateway or VPC endpoints, the database and cache ports), as the functions' groups do
    in the serverless stack; ``container_insights``: ``"enabled"`` (default) or ``"enhanced"``
    (per-container metrics, billed as custom metrics; ``"disabled"`` is refused).
    """

    def __init__(self, scope: Construct, id: str, *, vpc_id: str, vpc: VpcConfig,
                 container_insights: str = "enabled") -> None:
        check_vpc_id(WHERE, vpc_id)
        if not isinstance(vpc, VpcConfig):
            raise config_error(WHERE, "vpc", vpc, "must be a VpcConfig",
                               "pass vpc=VpcConfig(subnet_ids=(...), security_group_ids=(...))",
                               kind="type")
        if len(vpc.subnet_ids) < 2 and not cdk.is_list_token(vpc.subnet_ids):
            raise config_error(WHERE, "vpc.subnet_ids", list(vpc.subnet_ids),
                               "must list 2 or more private subnets, so tasks survive the loss "
                               "of an Availability Zone",
                               "pass private subnets in different Availability Zones",
                               kind="count")
        check_choice(WHERE, "container_insights", container_insights, CONTAINER_INSIGHTS)
        self.region = region_of(scope, None, WHERE)
        super().__init__(scope, id)
        self.vpc_id = vpc_id
        self.subnet_ids: tuple[str, ...] = vpc.subnet_ids
        self.security_group_ids: tuple[str, ...] = vpc.security_group_ids
        self.cluster = cdk.aws("ecs_cluster").EcsCluster(
            self, "cluster", name=resource_name(self, "", 255),
            setting=[cdk.struct("ecs_cluster", "EcsClusterSetting", name="containerInsights",
                                value=container_insights)],
        )

    @property
    def arn(self) -> str:
        return self.cluster.arn

    @property
    def name(self) -> str:
        return self.cluster.name

"""ECS: a deleted cluster leaves ListClusters; services keep three settings moto drops.

moto 5.2.5 marks a deleted cluster INACTIVE and keeps listing it; AWS lists active clusters
only (an INACTIVE one may still be described for a while). moto also drops a service's
``enableECSManagedTags``, ``healthCheckGracePeriodSeconds`` and
``availabilityZoneRebalancing``; AWS stores and returns them.
"""

from __future__ import annotations

from typing import Any

SERVICE_SETTINGS = {"enableECSManagedTags": "enable_ecs_managed_tags",
                    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
                    "availabilityZoneRebalancing": "availability_zone_rebalancing"}


def _keep_settings(original: Any) -> Any:
    """Wrap a create/update handler: copy the settings given onto the service it answers."""

    def handler(self: Any) -> Any:
        result = original(self)
        service = result.result["service"]
        for param, attribute in SERVICE_SETTINGS.items():
            if self._get_param(param) is not None:
                setattr(service, attribute, self._get_param(param))
        return result

    return handler


def extend() -> None:
    """Patch moto's ECS backend once."""
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    if getattr(EC2ContainerServiceBackend, "_emulator_extended", False):
        return

    def list_clusters(self: EC2ContainerServiceBackend) -> list[str]:
        return [c.arn for c in self.clusters.values() if c.status != "INACTIVE"]

    EC2ContainerServiceBackend.list_clusters = list_clusters
    for name in ("create_service", "update_service"):
        setattr(EC2ContainerServiceResponse, name,
                _keep_settings(getattr(EC2ContainerServiceResponse, name)))
    EC2ContainerServiceBackend._emulator_extended = True

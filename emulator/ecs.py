"""ECS: a deleted cluster leaves ListClusters.

moto 5.2.5 marks a deleted cluster INACTIVE and keeps listing it; AWS lists active clusters
only (an INACTIVE one may still be described for a while).
"""

from __future__ import annotations


def extend() -> None:
    """Patch moto's ECS backend once."""
    from moto.ecs.models import EC2ContainerServiceBackend

    if getattr(EC2ContainerServiceBackend, "_emulator_extended", False):
        return

    def list_clusters(self: EC2ContainerServiceBackend) -> list[str]:
        return [c.arn for c in self.clusters.values() if c.status != "INACTIVE"]

    EC2ContainerServiceBackend.list_clusters = list_clusters
    EC2ContainerServiceBackend._emulator_extended = True

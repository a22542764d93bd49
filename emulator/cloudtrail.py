"""CloudTrail: DeleteTrail by ARN.

The AWS provider deletes a trail by its ARN; moto 5.2.5 looks the name up as given, finds
nothing and answers success, so the trail stays. AWS takes a name or an ARN.
"""

from __future__ import annotations


def extend() -> None:
    """Patch moto's CloudTrail backend once."""
    from moto.cloudtrail.models import CloudTrailBackend

    if getattr(CloudTrailBackend, "_emulator_extended", False):
        return
    original = CloudTrailBackend.delete_trail

    def delete_trail(self: CloudTrailBackend, name: str) -> None:
        original(self, name.split(":trail/")[-1] if name.startswith("arn:") else name)

    CloudTrailBackend.delete_trail = delete_trail
    CloudTrailBackend._emulator_extended = True

"""RDS: a distinct ``DbiResourceId`` per instance, and Performance Insights settings kept.

moto 5.2.5 gives every DB instance the same resource id (``db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U``),
and the AWS provider finds an instance by that id, so with two instances in an account it reads
the wrong one. moto also drops ``EnablePerformanceInsights`` and its key and retention; AWS
stores them and returns them as ``PerformanceInsights*``.
"""

from __future__ import annotations

from typing import Any

from moto.moto_api._internal import mock_random

RESOURCE_ID_LENGTH = 26
DEFAULT_RETENTION_DAYS = 7


def _insights(instance: Any, settings: dict[str, Any]) -> None:
    if "enable_performance_insights" in settings:
        instance.performance_insights_enabled = bool(settings["enable_performance_insights"])
    enabled = getattr(instance, "performance_insights_enabled", False)
    for key in ("performance_insights_kms_key_id", "performance_insights_retention_period"):
        if settings.get(key) is not None:
            setattr(instance, key, settings[key])
    if enabled and getattr(instance, "performance_insights_retention_period", None) is None:
        instance.performance_insights_retention_period = DEFAULT_RETENTION_DAYS


def extend() -> None:
    """Patch moto's DBInstance model once."""
    from moto.rds.models import DBInstance

    if getattr(DBInstance, "_emulator_extended", False):
        return
    original_init, original_update = DBInstance.__init__, DBInstance.update

    def init(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.dbi_resource_id = "db-" + mock_random.get_random_string(
            RESOURCE_ID_LENGTH, include_digits=True, lower_case=False).upper()
        self.performance_insights_enabled = False
        _insights(self, kwargs)

    def update(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        original_update(self, *args, **kwargs)
        _insights(self, kwargs)

    DBInstance.__init__ = init
    DBInstance.update = update
    DBInstance._emulator_extended = True

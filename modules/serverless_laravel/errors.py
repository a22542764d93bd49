"""Errors and warnings the library raises, each naming the value, the rule and the fix."""

from __future__ import annotations

from typing import Any


class ConfigurationError(ValueError):
    """A prop or argument breaks a rule; raised before anything is synthesized or written."""

    def __init__(self, where: str, prop: str, value: Any, rule: str, fix: str) -> None:
        self.where = where
        self.prop = prop
        self.value = value
        self.rule = rule
        self.fix = fix
        super().__init__(f"{where}: {prop}={value!r} is invalid: {rule}. Fix: {fix}")


class EngineNotInstalledError(ImportError):
    """Neither CDK Terrain nor CDKTF (with its AWS provider) can be imported."""


class EndOfLifeWarning(UserWarning):
    """A runtime the configuration selects is past its end of life."""


class BudgetWarning(UserWarning):
    """A computed budget (connections, sizes) is exceeded where the user allowed it."""

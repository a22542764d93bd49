"""Errors and warnings the library raises, each naming the value, the rule and the fix.

Every configuration error is built by :func:`config_error`, which gives it a stable ``code``
(``<construct>.<prop>.<kind>``, e.g. ``php_function.memory_size.range``) that tests and users
can match on while the wording of the message improves.
"""

from __future__ import annotations

import re
from typing import Any

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


class ConfigurationError(ValueError):
    """A prop or argument breaks a rule; raised before anything is synthesized or written."""

    def __init__(self, where: str, prop: str, value: Any, rule: str, fix: str, *,
                 code: str | None = None) -> None:
        self.where = where
        self.prop = prop
        self.value = value
        self.rule = rule
        self.fix = fix
        self.code = code or error_code(where, prop, "invalid")
        super().__init__(f"{where}: {prop}={value!r} is invalid: {rule}. Fix: {fix}")


def slug(text: str) -> str:
    """``PhpFunction`` -> ``php_function``; ``secrets['APP_KEY']`` -> ``secrets``."""
    head = text.split("[", 1)[0]
    return _NOT_WORD.sub("_", _CAMEL.sub("_", head).lower()).strip("_") or "value"


def error_code(where: str, prop: str, kind: str) -> str:
    """The stable code of one rule: ``<construct>.<prop>.<kind>`` in snake case."""
    return f"{slug(where)}.{slug(prop)}.{kind}"


def config_error(where: str, prop: str, value: Any, rule: str, fix: str,
                 kind: str = "invalid") -> ConfigurationError:
    """The ConfigurationError for one broken rule; ``kind`` names the rule within the prop."""
    return ConfigurationError(where, prop, value, rule, fix, code=error_code(where, prop, kind))


class EngineNotInstalledError(ImportError):
    """Neither CDK Terrain nor CDKTF (with its AWS provider) can be imported."""


class EndOfLifeWarning(UserWarning):
    """A runtime the configuration selects is past its end of life."""


class SecurityWarning(UserWarning):
    """A configuration the library allows but a security reviewer would question."""


class LocalStateWarning(SecurityWarning):
    """A stack keeps its Terraform state (with generated secrets) in a local file."""


class BudgetWarning(UserWarning):
    """A computed budget (connections, sizes) is exceeded where the user allowed it."""

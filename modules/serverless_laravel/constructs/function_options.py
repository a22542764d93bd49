"""``FunctionOptions``: the sizing and runtime settings of one function, in one typed object.

Every composite construct takes them the same way (``LaravelApp(web=..., console=...)``,
``QueueWorker(function=...)``), and ``PhpFunction`` checks its own props with the same rules.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..build.bref import ARCHITECTURES
from ..checks import check_bool, check_choice, check_optional_int
from ..errors import ConfigurationError, config_error

MEMORY_RANGE = (128, 10_240)
TIMEOUT_RANGE = (1, 900)
EPHEMERAL_RANGE = (512, 10_240)
RESERVED_CONCURRENCY_RANGE = (0, 1_000_000)
PROVISIONED_CONCURRENCY_RANGE = (0, 10_000)
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                      1827, 2192, 2557, 2922, 3288, 3653)
MAX_DESCRIPTION = 256


def check_sizing(where: str, *, memory_size: Any = None, timeout: Any = None,
                 ephemeral_storage_mb: Any = None, reserved_concurrency: Any = None,
                 log_retention_days: Any = None, tracing: Any = None,
                 description: Any = None, architecture: Any = None,
                 provisioned_concurrency: Any = None) -> None:
    """The rules every function's settings follow; ``None`` means "not given"."""
    check_optional_int(where, "memory_size", memory_size, *MEMORY_RANGE, unit="MB",
                       why="Lambda's range")
    check_optional_int(where, "timeout", timeout, *TIMEOUT_RANGE, unit="seconds",
                       why="Lambda's range")
    check_optional_int(where, "ephemeral_storage_mb", ephemeral_storage_mb, *EPHEMERAL_RANGE,
                       unit="MB", why="Lambda's /tmp range")
    check_optional_int(where, "reserved_concurrency", reserved_concurrency,
                       *RESERVED_CONCURRENCY_RANGE, "pass e.g. 100, or None for no reservation",
                       why="0 disables the function")
    check_provisioned(where, provisioned_concurrency, reserved_concurrency)
    if log_retention_days is not None and log_retention_days not in LOG_RETENTION_DAYS:
        raise config_error(
            where, "log_retention_days", log_retention_days,
            f"must be one of CloudWatch's values {list(LOG_RETENTION_DAYS)}",
            "pick the nearest allowed value, e.g. 30", kind="choice",
        )
    if tracing is not None:
        check_bool(where, "tracing", tracing)
    if architecture is not None:
        check_choice(where, "architecture", architecture, ARCHITECTURES)
    if description is not None and (not isinstance(description, str)
                                     or len(description) > MAX_DESCRIPTION):
        raise config_error(
            where, "description", description,
            f"must be a string of at most {MAX_DESCRIPTION} characters",
            "keep the description short; put details in tags or docs", kind="length",
        )


def check_provisioned(where: str, provisioned: Any, reserved: Any) -> None:
    """Provisioned environments: 0 (off) or more, never more than the reserved concurrency."""
    check_optional_int(where, "provisioned_concurrency", provisioned,
                       *PROVISIONED_CONCURRENCY_RANGE,
                       "pass e.g. 5 warm environments, or 0 for none", unit="environments",
                       why="0 turns it off")
    if provisioned and isinstance(reserved, int) and provisioned > reserved:
        raise config_error(
            where, "provisioned_concurrency", provisioned,
            f"must not exceed reserved_concurrency ({reserved}): Lambda refuses to keep more "
            "environments warm than the function may run",
            f"lower provisioned_concurrency to at most {reserved}, or raise "
            "reserved_concurrency", kind="exceeds_reserved",
        )


@dataclass(frozen=True)
class FunctionOptions:
    """How one function is sized and run; ``None`` keeps the construct's default.

    * ``memory_size``: 128..10,240 MB (default 1,024; CPU scales with it).
    * ``timeout``: 1..900 s (default per runtime: web 28, handlers 60, console 120).
    * ``architecture``: ``"x86_64"`` or ``"arm64"`` (default: the composite's).
    * ``reserved_concurrency``: 0..1,000,000 (default none: the account's unreserved pool).
    * ``environment``: extra variables (string values; secrets by reference only).
    * ``ephemeral_storage_mb``: /tmp size, 512..10,240 MB (default 512).
    * ``log_retention_days``: one of CloudWatch's values (default 30).
    * ``tracing``: X-Ray active tracing (default on).
    * ``description``: at most 256 characters (default per runtime).
    * ``provisioned_concurrency``: environments kept initialized on the ``live`` alias,
      0..10,000 (default 0: off), at most ``reserved_concurrency`` when both are set; billed
      while provisioned (docs/performance.md).
    """

    memory_size: int | None = None
    timeout: int | None = None
    architecture: str | None = None
    reserved_concurrency: int | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    ephemeral_storage_mb: int | None = None
    log_retention_days: int | None = None
    tracing: bool | None = None
    description: str | None = None
    provisioned_concurrency: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.environment, Mapping):
            raise config_error(
                "FunctionOptions", "environment", self.environment,
                "must map variable names to string values", "pass environment={'KEY': 'value'}",
                kind="type",
            )
        object.__setattr__(self, "environment", dict(self.environment))
        check_sizing(
            "FunctionOptions", memory_size=self.memory_size, timeout=self.timeout,
            ephemeral_storage_mb=self.ephemeral_storage_mb,
            reserved_concurrency=self.reserved_concurrency,
            log_retention_days=self.log_retention_days, tracing=self.tracing,
            description=self.description, architecture=self.architecture,
            provisioned_concurrency=self.provisioned_concurrency,
        )

    def props(self) -> dict[str, Any]:
        """The given settings as PhpFunction keyword arguments, ``None`` and ``environment``
        left out (composites merge the environment with their own variables)."""
        given = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "environment"}
        return {k: v for k, v in given.items() if v is not None}


def check_options(where: str, prop: str, value: Any) -> FunctionOptions:
    """``value`` if it is a FunctionOptions; ``None`` gives the defaults."""
    if value is None:
        return FunctionOptions()
    if not isinstance(value, FunctionOptions):
        raise config_error(
            where, prop, value, "must be a FunctionOptions",
            f"pass {prop}=FunctionOptions(memory_size=..., timeout=...)", kind="type",
        )
    return value


def merge_deprecated(where: str, prop: str, options: FunctionOptions,
                     legacy: Mapping[str, tuple[str, Any]]) -> FunctionOptions:
    """Fold deprecated keyword props into ``options``, warning once per prop.

    ``legacy`` maps an old keyword (``web_memory``) to (options field, value given); a field
    set both ways is refused rather than silently picking one.
    """
    changes: dict[str, Any] = {}
    for old, (name, value) in legacy.items():
        if value is None:
            continue
        warnings.warn(
            f"{where}({old}=...) is deprecated and will be removed in the next release: pass "
            f"{prop}=FunctionOptions({name}=...)", DeprecationWarning, stacklevel=4,
        )
        if getattr(options, name) not in (None, {}):
            raise config_error(
                where, old, value, f"is also given as {prop}.{name}",
                f"drop {old}= and keep {prop}=FunctionOptions({name}=...)", kind="conflict",
            )
        try:
            replace(options, **{name: value})
        except ConfigurationError as error:
            raise config_error(where, old, value, error.rule, error.fix,
                               kind=error.code.rsplit(".", 1)[-1]) from None
        changes[name] = value
    return replace(options, **changes) if changes else options

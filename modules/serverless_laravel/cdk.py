"""The engine seam: the only module importing CDK Terrain (cdktn) or CDKTF and their AWS provider.

The engine is chosen by ``SERVERLESS_LARAVEL_CDK`` (``cdktn`` or ``cdktf``), else by what is
installed, CDK Terrain first. Every other module takes the core API and the provider from here.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

# jsii prints an end-of-life banner on Node 20 at every start; it is noise in synth output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from .errors import EngineNotInstalledError

__all__ = [
    "ENGINE", "Construct", "IValidation", "add_check", "aws", "choose_engine", "core",
    "expand_lists", "implements_validation", "is_list_token", "is_token", "struct", "synth",
]

ENV_VAR = "SERVERLESS_LARAVEL_CDK"

# The AWS provider versions the synthesized stacks accept: the 5.100 line the offline mirror
# carries and the 6.x line both engines' bindings were generated from.
AWS_PROVIDER_CONSTRAINT = ">= 5.100.0, < 7.0.0"


@dataclass(frozen=True)
class Engine:
    """One CDK-for-Terraform engine: its import names and the pip extra that installs it."""

    name: str
    core_module: str
    provider_package: str
    extra: str

    @property
    def modules(self) -> tuple[str, str]:
        return (self.core_module, self.provider_package)


ENGINES: dict[str, Engine] = {
    "cdktn": Engine("cdktn", "cdktn", "cdktn_provider_aws", "cdktn"),
    "cdktf": Engine("cdktf", "cdktf", "cdktf_cdktf_provider_aws", "cdktf"),
}


def _installed(module: str) -> bool:
    """Whether ``module`` can be found (a broken or hidden package counts as missing)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def choose_engine(
    requested: str | None, installed: Callable[[str], bool] = _installed
) -> Engine:
    """Pick the engine: the requested one (it must be installed), else the first installed."""
    if requested:
        engine = ENGINES.get(requested.strip().lower())
        if engine is None:
            raise EngineNotInstalledError(
                f"{ENV_VAR}={requested!r} is not an engine: use one of {sorted(ENGINES)} "
                f"or unset it to use whichever is installed."
            )
        missing = [m for m in engine.modules if not installed(m)]
        if missing:
            raise EngineNotInstalledError(
                f"{ENV_VAR}={requested!r} but {', '.join(missing)} is not installed. "
                f"Fix: pip install 'serverless-laravel[{engine.extra}]'."
            )
        return engine
    for engine in ENGINES.values():
        if all(installed(m) for m in engine.modules):
            return engine
    raise EngineNotInstalledError(
        "No CDK-for-Terraform engine is installed. Fix: pip install "
        "'serverless-laravel[cdktn]' (CDK Terrain, the default) or "
        "'serverless-laravel[cdktf]' (HashiCorp CDKTF, for existing stacks)."
    )


ENGINE: Engine = choose_engine(os.environ.get(ENV_VAR))

# jsii and constructs come with either engine: imported only once one is known to be installed,
# so a missing engine is reported with the pip command, never as "No module named 'jsii'".
import jsii  # noqa: E402

from constructs import Construct, IValidation  # noqa: E402

core: ModuleType = importlib.import_module(ENGINE.core_module)

implements_validation = jsii.implements(IValidation)
"""Class decorator for a synth-time validation (``node.add_validation``), in both engines."""

SynthCheck = Callable[[], Exception | None]
"""A check that needs the finished construct tree: returns the error to raise, or None."""

_UNSET = object()


@implements_validation
class _Validation:
    """One SynthCheck as an engine validation; ``synth`` may run it first and leave the result."""

    def __init__(self, check: SynthCheck) -> None:
        self.check = check
        self.result: object = _UNSET

    def run(self) -> Exception | None:
        self.result = self.check()
        return self.result  # type: ignore[return-value]

    def validate(self) -> list[str]:
        result, self.result = self.result, _UNSET
        error = self.check() if result is _UNSET else result
        return [str(error)] if error is not None else []


def add_check(construct: Construct, check: SynthCheck) -> None:
    """Run ``check`` when the app synthesizes: ``synth(app)`` raises its error as is (with its
    code), a plain ``app.synth()`` fails through the engine's validation with its message."""
    validation = _Validation(check)
    construct.node.add_validation(validation)
    construct.__dict__.setdefault("_serverless_laravel_checks", []).append(validation)


def synth(app: Any) -> None:
    """Synthesize ``app`` after running every library check in Python, so a broken rule surfaces
    as the library's own ConfigurationError instead of a JavaScript stack trace."""
    for construct in app.node.find_all():
        for validation in getattr(construct, "_serverless_laravel_checks", ()):
            error = validation.run()
            if error is not None:
                raise error
    app.synth()

App = core.App
TerraformStack = core.TerraformStack
TerraformAsset = core.TerraformAsset
TerraformOutput = core.TerraformOutput
TerraformVariable = core.TerraformVariable
AssetType = core.AssetType
Token = core.Token
Fn = core.Fn
Testing = core.Testing


@cache
def aws(submodule: str) -> ModuleType:
    """The AWS provider submodule ``submodule`` (e.g. ``"lambda_function"``) of the engine."""
    return importlib.import_module(f"{ENGINE.provider_package}.{submodule}")


def relative_path(construct: Construct) -> str:
    """The construct's path inside its stack (``laravel/web``): unique in the stack, stable."""
    stack = TerraformStack.of(construct)
    return construct.node.path[len(stack.node.path) + 1:]


def struct(submodule: str, name: str, /, **fields: Any) -> Any:
    """A typed provider struct, for the elements of list-typed blocks.

    jsii converts a dict to a struct only where a struct is expected directly; a dict inside a
    list reaches Terraform as-is, and its multi-word snake_case keys are dropped silently.
    """
    return getattr(aws(submodule), name)(**fields)


def is_token(value: Any) -> bool:
    """Whether ``value`` is an unresolved CDK token (known only at apply time).

    Encoded tokens always carry ``${`` (strings) or ``#{`` (lists), so a plain string is
    answered here without a round trip to the jsii runtime.
    """
    if not isinstance(value, str) or ("${" not in value and "#{" not in value):
        return False
    if value.startswith("#{") and Token.is_unresolved([value]):
        return True  # one element of a list token: a list known only at apply time
    return bool(Token.is_unresolved(value))


_LIST_MARKER = re.compile(r"#\{[A-Za-z]*Token\[[^\]]+\]\}")


def is_list_token(value: Any) -> bool:
    """Whether ``value`` is a list known only at apply time (a ``list(string)`` variable, a
    resource's list attribute): jsii hands it over as one encoded element, length unknown."""
    return (isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], str)
            and value[0].startswith("#{") and bool(Token.is_unresolved([value[0]])))


def expand_lists(values: Sequence[str]) -> list[str]:
    """``values`` with every element that embeds a list token (``f"arn:...:subnet/{ids}"``)
    expanded to one string per element of that list (``formatlist``), concatenated in order.

    Without list tokens the plain list comes back unchanged, so literal stacks synthesize
    exactly as before.
    """
    parts: list[list[str]] = [[]]
    for value in values:
        marker = _LIST_MARKER.search(value) if isinstance(value, str) else None
        if marker is None or not Token.is_unresolved([marker.group()]):
            parts[-1].append(value)
            continue
        spec = (value[:marker.start()].replace("%", "%%") + "%s"
                + value[marker.end():].replace("%", "%%"))
        whole = [marker.group()]
        parts += [whole if spec == "%s" else Token.as_list(Fn.formatlist(spec, [whole])), []]
    lists = [p for p in parts if p]
    if len(parts) == 1:
        return parts[0]
    return Token.as_list(Fn.concat(lists)) if len(lists) > 1 else lists[0]

"""A stack's outputs, and the app's functions, URL and assets bucket found among them.

``LaravelApp`` names its outputs ``<prefix>_url``, ``<prefix>_web_function``,
``<prefix>_console_function``, ``<prefix>_assets_bucket`` (``<prefix>`` is the app's construct
id); queue workers' outputs end in ``worker_function``. Values come either from the synthesized
JSON (a name the stack sets literally, known before any apply) or from ``terraform output
-json`` (everything, after the apply).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import config_error

ROLES = ("web", "console", "worker")
ALL_ROLES = "all"
_REFERENCE = re.compile(
    r"^\$\{(?P<type>[a-z0-9_]+)\.(?P<name>[A-Za-z0-9_-]+)\.(?P<attr>[a-z_]+)\}$")


def stack_directory(outdir: str | Path, stack: str) -> Path:
    """``<outdir>/stacks/<stack>``, where the synthesized JSON and the Terraform state live."""
    return Path(outdir) / "stacks" / stack


def synthesized_outputs(stack_json: Mapping[str, Any]) -> dict[str, str]:
    """Outputs whose value is a literal, or a reference to a literal resource attribute."""
    resources = stack_json.get("resource", {})
    found: dict[str, str] = {}
    for name, output in stack_json.get("output", {}).items():
        value = output.get("value")
        if not isinstance(value, str):
            continue
        match = _REFERENCE.match(value)
        if match is None:
            if "${" not in value:
                found[name] = value
            continue
        literal = resources.get(match["type"], {}).get(match["name"], {}).get(match["attr"])
        if isinstance(literal, str) and "${" not in literal:
            found[name] = literal
    return found


def read_synthesized(where: str, outdir: str | Path, stack: str) -> dict[str, str]:
    """The literal outputs of ``stack`` as synthesized into ``outdir``."""
    path = stack_directory(outdir, stack) / "cdk.tf.json"
    if not path.is_file():
        raise config_error(
            where, "stack", stack, f"has no synthesized JSON at {path}",
            "run `serverless-laravel deploy` or `cdktn synth` first, or pass --outdir",
            kind="missing")
    return synthesized_outputs(json.loads(path.read_text()))


def parse_terraform_outputs(text: str) -> dict[str, Any]:
    """``terraform output -json`` as ``{name: value}``."""
    data = json.loads(text or "{}")
    return {name: entry.get("value") for name, entry in data.items() if isinstance(entry, dict)}


def app_prefixes(outputs: Mapping[str, Any]) -> list[str]:
    """The prefixes of every ``LaravelApp`` among the outputs (one per console function)."""
    return sorted(k.removesuffix("_console_function") for k in outputs
                  if k.endswith("_console_function"))


def app_prefix(where: str, outputs: Mapping[str, Any], app: str | None) -> str:
    """The one app to act on: ``app`` when given (and present), else the only one."""
    prefixes = app_prefixes(outputs)
    if app is not None:
        if app not in prefixes:
            raise config_error(where, "app", app, f"is not an app of this stack (apps: {prefixes})",
                               "pass one of those, as the prefix of its outputs", kind="unknown")
        return app
    if len(prefixes) != 1:
        raise config_error(
            where, "app", None,
            f"the stack has {len(prefixes)} LaravelApps ({prefixes}); one is needed"
            if prefixes else "the stack has no LaravelApp output (<app>_console_function)",
            "pass --app PREFIX" if prefixes else "pass the function or URL explicitly",
            kind="ambiguous" if prefixes else "missing")
    return prefixes[0]


def app_output(outputs: Mapping[str, Any], prefix: str, what: str) -> str | None:
    """One output of the app (``url``, ``assets_bucket``, ``console_function``...), or None."""
    value = outputs.get(f"{prefix}_{what}")
    return value if isinstance(value, str) and value else None


def functions_for(where: str, outputs: Mapping[str, Any], role: str) -> list[str]:
    """The function names of ``role`` (web, console, worker or all) among the outputs."""
    if role not in (*ROLES, ALL_ROLES):
        raise config_error(where, "function", role, f"must be one of {[*ROLES, ALL_ROLES]}",
                           "pass e.g. --function web", kind="role")
    roles = ROLES if role == ALL_ROLES else (role,)
    names = [value for key, value in sorted(outputs.items())
             if isinstance(value, str) and value
             and any(key == f"{r}_function" or key.endswith(f"_{r}_function") for r in roles)]
    if not names:
        raise config_error(
            where, "function", role, f"no output of the stack names a {role} function "
            "(outputs ending in _web_function, _console_function, worker_function)",
            "pass the function name instead, or add a TerraformOutput named "
            f"<something>_{role if role != ALL_ROLES else 'web'}_function", kind="not_found")
    return list(dict.fromkeys(names))

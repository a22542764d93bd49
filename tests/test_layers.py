"""The package's layers: imports flow one way, and each layer keeps out what it must not load.

Ground floor (errors, checks, cdk) <- build, analysis <- constructs; ops and cli on top;
runtime apart (it runs inside Lambda with the standard library and boto3 only).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1] / "modules" / "serverless_laravel"
PACKAGE = "serverless_laravel"
ENGINES = {"cdktn", "cdktf", "cdktn_provider_aws", "cdktf_cdktf_provider_aws", "jsii",
           "constructs"}
CLI_FRAMEWORK = {"typer", "click", "rich"}
AWS_SDK = {"boto3", "botocore"}
CHARTS = {"matplotlib"}
LAYERS = ("build", "constructs", "analysis", "ops", "runtime", "cli")

# layer: (third-party top-level names it may not import, package layers it may not import)
RULES: dict[str, tuple[set[str], set[str]]] = {
    "errors": (ENGINES | CLI_FRAMEWORK | AWS_SDK | CHARTS, {"cdk", "checks", *LAYERS}),
    "checks": (ENGINES | CLI_FRAMEWORK | AWS_SDK | CHARTS, set(LAYERS)),
    "cdk": (CLI_FRAMEWORK | AWS_SDK | CHARTS, {"checks", *LAYERS}),
    "build": (ENGINES | CLI_FRAMEWORK | AWS_SDK | CHARTS,
              {"cdk", "constructs", "analysis", "ops", "runtime", "cli"}),
    "analysis": (ENGINES | CLI_FRAMEWORK | AWS_SDK,
                 {"cdk", "constructs", "ops", "runtime", "cli"}),
    "constructs": (CLI_FRAMEWORK | AWS_SDK | CHARTS, {"ops", "runtime", "cli"}),
    "ops": (ENGINES | CHARTS | {"typer", "click"}, {"cdk", "constructs", "runtime", "cli"}),
    "cli": (set(), {"runtime"}),
}


def layer_of(path: Path) -> str:
    parts = path.relative_to(LIBRARY).parts
    return parts[0] if len(parts) > 1 else path.stem


def imports(path: Path) -> list[tuple[str, bool]]:
    """(absolute module name, at module level?) of every import in ``path``."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    package = [PACKAGE, *path.relative_to(LIBRARY).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names = [f"{module}.{a.name}" for a in node.names] if not node.module else [module]
            found += [(n, id(node) in top) for n in names]
    return found


def internal_layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == PACKAGE and len(parts) > 1 else None


MODULES = sorted(LIBRARY.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(LIBRARY)))
def test_imports_follow_the_layer_rules(path: Path) -> None:
    layer = layer_of(path)
    if layer == "__init__" or layer == "runtime":
        return
    banned_external, banned_layers = RULES[layer]
    offenders = []
    for module, _ in imports(path):
        inner = internal_layer(module)
        outside = inner is None and module.split(".")[0] in banned_external
        across = inner is not None and inner != layer and inner in banned_layers
        if outside or across:
            offenders.append(module)
    assert offenders == [], f"{layer} may not import {offenders}"


def test_runtime_imports_only_the_standard_library_and_boto3() -> None:
    for path in (LIBRARY / "runtime").rglob("*.py"):
        for module, _ in imports(path):
            top = module.split(".")[0]
            assert top in sys.stdlib_module_names or top in AWS_SDK, f"{path.name}: {module}"


@pytest.mark.parametrize("path", sorted((LIBRARY / "cli").rglob("*.py")),
                         ids=lambda p: p.name)
def test_cli_modules_load_heavy_dependencies_inside_commands(path: Path) -> None:
    heavy = ENGINES | AWS_SDK | CHARTS | {"rich"}
    late = {f"{PACKAGE}.{name}" for name in ("cdk", "constructs", "analysis")}
    top_level = [m for m, at_top in imports(path) if at_top]
    offenders = [m for m in top_level
                 if m.split(".")[0] in heavy or any(m.startswith(x) for x in late)]
    assert offenders == []


def test_every_layer_has_a_rule() -> None:
    assert {layer_of(p) for p in MODULES} - {"__init__", "runtime"} == set(RULES)


def _loaded_after(statement: str) -> set[str]:
    """Top-level module names loaded by a fresh interpreter after ``statement``."""
    names = "sorted({m.split('.')[0] for m in sys.modules})"
    code = f"import sys; {statement}; print(' '.join({names}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    return set(result.stdout.split())


def test_a_synth_never_loads_the_cli_framework_or_the_aws_sdk() -> None:
    loaded = _loaded_after("from serverless_laravel import LaravelApp, QueueWorker, RedisCache")
    assert loaded & (CLI_FRAMEWORK | AWS_SDK | CHARTS) == set()
    assert "jsii" in loaded


def test_the_cli_starts_without_the_engine_or_the_aws_sdk() -> None:
    loaded = _loaded_after("import serverless_laravel.cli")
    assert loaded & (ENGINES | AWS_SDK | CHARTS) == set()


def test_every_public_name_resolves_from_the_flat_api() -> None:
    import serverless_laravel

    missing = [name for name in serverless_laravel.__all__
               if getattr(serverless_laravel, name, None) is None]
    assert missing == []
    for name in ("PhpFunction", "LaravelApp", "QueueWorker", "Scheduler", "RedisCache",
                 "Database", "DatabaseProxy", "HttpApi", "Assets", "LaravelStack", "VpcConfig",
                 "SecretRef", "FunctionOptions", "Connections", "package_app", "synth"):
        assert name in serverless_laravel.__all__


def test_every_configuration_error_is_built_by_the_one_helper() -> None:
    """``config_error`` gives each rule its stable code; a bare constructor call would not."""
    offenders = []
    for path in MODULES:
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "ConfigurationError":
                offenders.append(f"{path.relative_to(LIBRARY)}:{node.lineno}")
    assert offenders == []


def test_no_module_imports_click() -> None:
    """Typer ships its own click; a plain ``import click`` breaks an installed wheel."""
    offenders = [f"{path.relative_to(LIBRARY)}: {module}" for path in MODULES
                 for module, _ in imports(path) if module.split(".")[0] == "click"]
    assert offenders == []


def test_the_library_never_imports_the_emulator() -> None:
    """emulator/ (the local AWS for the deploy tests) stays outside the wheel and the library."""
    offenders = [f"{path.relative_to(LIBRARY)}: {module}" for path in MODULES
                 for module, _ in imports(path) if module.split(".")[0] == "emulator"]
    assert offenders == []

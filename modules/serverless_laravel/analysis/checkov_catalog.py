"""checkov's Terraform checks by id: name and category, built-in and custom.

checkov reports a severity only through its platform, so offline results are grouped by the
category each check declares. The catalog is read in a child process
(``python -m serverless_laravel.analysis.checkov_catalog POLICIES``): loading checks registers
them in checkov's global registries and runs the custom policies' code, which the caller's
process should not inherit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

CATALOG_TIMEOUT_S = 300
UNKNOWN_CATEGORY = "UNKNOWN"


def catalog(policies: Path) -> dict[str, dict[str, str]]:
    """``{check id: {"name": ..., "category": ...}}`` for checkov's Terraform checks and
    the custom policies in ``policies``."""
    from .scan import ScanError, require_checkov

    require_checkov()
    result = subprocess.run([sys.executable, "-m", __name__, str(policies.resolve())],
                            capture_output=True, text=True, timeout=CATALOG_TIMEOUT_S)
    if result.returncode != 0:
        raise ScanError(f"cannot list checkov's checks: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout)


def _category(check: Any) -> str:
    """The check's first category, upper case (graph checks spell ``Networking`` variously)."""
    categories = getattr(check, "categories", None) or []
    name = getattr(categories[0], "name", categories[0]) if categories else \
        getattr(check, "category", "")
    return str(name or UNKNOWN_CATEGORY).upper().replace(" ", "_")


def _load(policies: str) -> dict[str, dict[str, str]]:
    import importlib

    from checkov.common.checks_infra.registry import get_graph_checks_registry
    from checkov.terraform.checks.data.registry import data_registry
    from checkov.terraform.checks.provider.registry import provider_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    for package in ("checkov.terraform.checks.resource.aws", "checkov.terraform.checks.data.aws",
                    "checkov.terraform.checks.provider.aws"):
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", []):
            importlib.import_module(f"{package}.{name}")
    graph = get_graph_checks_registry("terraform")
    graph.load_checks()
    if policies:
        resource_registry.load_external_checks(policies)
        graph.load_external_checks(policies)
    found: dict[str, dict[str, str]] = {}
    for registry in (resource_registry, data_registry, provider_registry):
        for checks in registry.checks.values():
            for check in checks:
                found[check.id] = {"name": check.name, "category": _category(check)}
    for check in graph.checks:
        found[check.id] = {"name": check.name, "category": _category(check)}
    return dict(sorted(found.items()))


def main(argv: list[str]) -> int:
    """Print the catalog as JSON (the policies folder is the only argument)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        found = _load(argv[0] if argv else "")
    print(json.dumps(found, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

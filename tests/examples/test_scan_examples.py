"""CI: ``serverless-laravel scan`` on every example stack of main.py, synthesized with the engine
this pytest run uses (``make test`` runs it once per engine), fails on any unskipped finding.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

import main
from serverless_laravel.analysis.scan import load_skips
from serverless_laravel.cli import app

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".checkov.yaml"
MAX_SKIPS = 25
BUILT_IN = re.compile(r"^CKV2?_AWS_\d+$")


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], Path]:
    """The scan command as CI runs it: synthesize main.py, scan every stack; exit code, JSON."""
    out = tmp_path_factory.mktemp("scan-examples")
    result = CliRunner().invoke(app, [
        "scan", "--app", str(ROOT / "main.py"), "--config", str(CONFIG),
        "--policies", str(ROOT / "policies"), "--json",
        "--sarif", str(out / "scan.sarif"), "--junit", str(out / "scan.xml")])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout), out


def test_every_example_stack_is_scanned(scanned: tuple[int, dict[str, Any], Path]) -> None:
    _, doc, _ = scanned
    assert len(doc["stacks"]) >= len(main.EXAMPLES)
    assert all(stack["passed"] > 0 for stack in doc["stacks"])


def test_no_failure_outside_the_reviewed_skip_list(
    scanned: tuple[int, dict[str, Any], Path],
) -> None:
    code, doc, _ = scanned
    failures = [f"{stack['name']}: {f['check_id']} on {f['resource']} ({f['construct_path']}): "
                f"{f['check_name']}" for stack in doc["stacks"] for f in stack["failures"]]
    assert failures == [], (f"{len(failures)} failure(s): fix the construct, or skip the check "
                            "in .checkov.yaml with a reason:\n" + "\n".join(failures))
    assert code == 0


def test_every_skip_still_hides_a_failure(scanned: tuple[int, dict[str, Any], Path]) -> None:
    _, doc, _ = scanned
    assert doc["stale_skips"] == [], "remove these from .checkov.yaml: they hide nothing"


def test_the_skip_list_is_short_and_skips_built_in_checks_only() -> None:
    skips = load_skips(CONFIG)
    assert len(skips) <= MAX_SKIPS
    assert [s.check_id for s in skips if not BUILT_IN.match(s.check_id)] == []


def test_the_reports_agree_with_the_json(scanned: tuple[int, dict[str, Any], Path]) -> None:
    _, doc, out = scanned
    sarif = json.loads((out / "scan.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == doc["totals"]["failed"]
    junit = ElementTree.parse(out / "scan.xml").getroot()
    assert sorted(s.get("name") for s in junit.findall("testsuite")) == sorted(
        s["name"] for s in doc["stacks"])
    assert int(junit.get("skipped")) == doc["totals"]["skipped"]

"""CI: ``serverless-laravel scan`` on every example stack of main.py, synthesized with the engine
this pytest run uses (``make test`` runs it once per engine), fails on any unskipped finding.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

import main
from serverless_laravel.analysis.scan import load_skips, synthesize_app
from serverless_laravel.cli import app

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".checkov.yaml"
COMPARISON = ROOT / "docs" / "security-comparison.md"
DECISION_RECORD = ROOT / "docs" / "adr" / "001-serverless-laravel.md"
MAX_SKIPS = 25
BUILT_IN = re.compile(r"^CKV2?_AWS_\d+$")


@dataclass
class Scanned:
    """main.py synthesized once with this run's engine, and the scan CI runs on it."""

    exit_code: int
    doc: dict[str, Any]
    outdir: Path
    files: Path


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    files = tmp_path_factory.mktemp("scan-examples")
    outdir = synthesize_app(ROOT / "main.py", files / "cdktf.out")
    result = CliRunner().invoke(app, [
        "scan", "--dir", str(outdir), "--config", str(CONFIG),
        "--policies", str(ROOT / "policies"), "--json",
        "--sarif", str(files / "scan.sarif"), "--junit", str(files / "scan.xml")])
    assert result.exit_code in (0, 1), result.output
    (files / "scan.json").write_text(result.stdout)
    return Scanned(result.exit_code, json.loads(result.stdout), outdir, files)


def test_every_example_stack_is_scanned(scanned: Scanned) -> None:
    doc = scanned.doc
    assert len(doc["stacks"]) >= len(main.EXAMPLES)
    assert all(stack["passed"] > 0 for stack in doc["stacks"])


def test_no_failure_outside_the_reviewed_skip_list(scanned: Scanned) -> None:
    code, doc = scanned.exit_code, scanned.doc
    failures = [f"{stack['name']}: {f['check_id']} on {f['resource']} ({f['construct_path']}): "
                f"{f['check_name']}" for stack in doc["stacks"] for f in stack["failures"]]
    assert failures == [], (f"{len(failures)} failure(s): fix the construct, or skip the check "
                            "in .checkov.yaml with a reason:\n" + "\n".join(failures))
    assert code == 0


def test_every_skip_still_hides_a_failure(scanned: Scanned) -> None:
    assert scanned.doc["stale_skips"] == [], "remove these from .checkov.yaml: they hide nothing"


def test_the_skip_list_is_short_and_skips_built_in_checks_only() -> None:
    skips = load_skips(CONFIG)
    assert len(skips) <= MAX_SKIPS
    assert [s.check_id for s in skips if not BUILT_IN.match(s.check_id)] == []


def test_the_reports_agree_with_the_json(scanned: Scanned) -> None:
    doc, out = scanned.doc, scanned.files
    sarif = json.loads((out / "scan.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == doc["totals"]["failed"]
    junit = ElementTree.parse(out / "scan.xml").getroot()
    assert sorted(s.get("name") for s in junit.findall("testsuite")) == sorted(
        s["name"] for s in doc["stacks"])
    assert int(junit.get("skipped")) == doc["totals"]["skipped"]


def test_the_committed_security_comparison_is_what_compare_computes_now(
    scanned: Scanned,
) -> None:
    written = scanned.files / "security-comparison.md"
    result = CliRunner().invoke(app, [
        "compare", "--dir", str(scanned.outdir), "--scan", str(scanned.files / "scan.json"),
        "--policies", str(ROOT / "policies"), "--write", str(written)])
    assert result.exit_code == 0, result.output
    assert written.read_text() == COMPARISON.read_text(), (
        "docs/security-comparison.md is stale: run "
        "`serverless-laravel compare --write docs/security-comparison.md`")


def test_the_decision_record_and_readme_are_what_the_tools_compute_now(scanned: Scanned) -> None:
    result = CliRunner().invoke(app, [
        "decide", "--dir", str(scanned.outdir), "--scan", str(scanned.files / "scan.json"),
        "--check-adr", str(DECISION_RECORD), "--check-doc", str(ROOT / "README.md"), "--json"])
    assert result.exit_code == 0, (
        f"{result.output[-2000:]}\nthe decision's figures are stale: run `serverless-laravel "
        "decide --write-adr docs/adr/001-serverless-laravel.md --write-doc README.md`")

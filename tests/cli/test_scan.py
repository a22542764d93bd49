"""``serverless-laravel scan``: exit codes, the tables, JSON; refusals before checkov runs.

The run that reaches checkov is the session's one (``scanned``, tests/analysis/test_scan.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.cli.scan import emit
from tests.analysis.test_scan import LOGS_REASON, STACK, Scanned, scanned  # noqa: F401

runner = CliRunner()


def test_help_lists_the_scan_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "scan" in result.output


def test_a_failure_exits_1_and_is_listed(scanned: Scanned) -> None:  # noqa: F811
    assert scanned.exit_code == 1
    rows = [line for line in scanned.output.splitlines() if "CKV_AWS_158" in line]
    assert len(rows) == 1
    assert f"{STACK}/logs" in rows[0] and f"cdktf.out/stacks/{STACK}/cdk.tf.json" in rows[0]
    assert "CKV2_SCANFIX_1" in scanned.output
    assert "2 failure(s) outside the skip list" in scanned.output


def test_the_summary_gives_passed_failed_skipped_per_stack(scanned: Scanned) -> None:  # noqa: F811
    (stack,) = scanned.report.stacks
    (row,) = [line for line in scanned.output.splitlines() if line.startswith(f"│ {STACK}")]
    assert row.split("│")[2:5] == [f" {len(stack.passed):>6} ", f" {2:>6} ", f" {1:>7} "]


def test_each_skip_is_printed_with_its_reason_and_stale_ones_are_flagged(
    scanned: Scanned,  # noqa: F811
) -> None:
    assert "Skipped by .checkov.yaml" in scanned.output
    flat = " ".join(scanned.output.split())
    assert " ".join(LOGS_REASON.split()[:8]) in flat
    assert "stale skips (hide no failure on these stacks): CKV_AWS_117" in flat


def test_json_prints_the_documented_shape(scanned: Scanned,  # noqa: F811
                                          capsys: pytest.CaptureFixture[str]) -> None:
    emit(scanned.report, as_json=True)
    doc = json.loads(capsys.readouterr().out)
    assert doc == json.loads(json.dumps(scanned.report.to_json()))
    assert doc["exit_code"] == 1


def test_a_skip_without_a_reason_exits_2_naming_the_id_before_anything_runs(
    tmp_path: Path,
) -> None:
    config = tmp_path / "skips.yaml"
    config.write_text("skip-check:\n  - CKV_AWS_117  # Lambda outside a VPC is fine here.\n"
                      "  - CKV_AWS_116\n")
    result = runner.invoke(app, ["scan", "--config", str(config), "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "CKV_AWS_116 is skipped without a reason" in result.output


def test_a_folder_without_stacks_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scan", "--dir", str(tmp_path), "--config", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "cannot read the skip list" in result.output
    result = runner.invoke(app, ["scan", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no stacks in" in result.output


def test_no_app_to_synthesize_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["scan"])
    assert result.exit_code == 2
    assert "no main.py in" in result.output


def test_a_missing_checkov_exits_2_naming_the_extra(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "checkov", None)
    result = runner.invoke(app, ["scan", "--dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "pip install 'serverless-laravel[scan]'" in result.output

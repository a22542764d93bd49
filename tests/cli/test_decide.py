"""``serverless-laravel decide`` on hand-written stacks and a scan report: the summary, the JSON,
the report files, the decision record filled and checked, and each exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serverless_laravel.analysis.scan import SCHEMA
from serverless_laravel.cli import app
from tests.analysis.test_compare_exposure import NETWORK
from tests.analysis.test_stack_facts import DOC

runner = CliRunner()
BLOCKS = ("summary", "resources", "php81", "cost", "capacity", "connections", "security")
RECORD = "# ADR\n\nProse.\n\n" + "".join(
    f"<!-- generated:{name} -->\n<!-- /generated:{name} -->\n\n" for name in BLOCKS)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("decide")
    for name, doc in (("lambda", DOC), ("fargate", NETWORK)):
        (root / "out" / "stacks" / name).mkdir(parents=True)
        (root / "out" / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc))
    (root / "policies").mkdir()
    (root / "scan.json").write_text(json.dumps({
        "schema": SCHEMA, "checkov_version": "3.3.30",
        "stacks": [{"name": "lambda", "checks": {}}, {"name": "fargate", "checks": {}}]}))
    return root


def _decide(root: Path, *extra: str) -> list[str]:
    return ["decide", "--dir", str(root / "out"), "--scan", str(root / "scan.json"),
            "--policies", str(root / "policies"), "--serverless", "lambda",
            "--baseline", "fargate", *extra]


def test_summary_table_names_every_measure(inputs: Path) -> None:
    result = runner.invoke(app, _decide(inputs), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for measure in ("checkov failures", "cost, low-traffic internal", "break-even",
                    "time from zero to 3,000 environments", "database connections"):
        assert measure in result.stdout


def test_json_carries_every_figure(inputs: Path) -> None:
    result = runner.invoke(app, _decide(inputs, "--json"))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "serverless-laravel/decision/1"
    assert set(doc["cost"]) == {"low-traffic internal", "mid-traffic public",
                                "high-traffic public"}
    assert doc["burst"]["scale_up_seconds"] == 20
    assert doc["connection_budget"] == {"consumers": {"capped": 7, "web": 100, "worker": 12},
                                        "total": 119, "limit": 405, "max_connections": 450,
                                        "max_connections_percent": 90}


def test_report_writes_markdown_json_and_a_png(inputs: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, _decide(inputs, "--report", str(tmp_path / "r")))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "decision.md").read_text().startswith("# The decision")
    assert json.loads((tmp_path / "r" / "decision.json").read_text())["schema"]
    assert (tmp_path / "r" / "cost-vs-traffic.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_then_check_the_record(inputs: Path, tmp_path: Path) -> None:
    record = tmp_path / "adr.md"
    record.write_text(RECORD)
    assert runner.invoke(app, _decide(inputs, "--check-adr", str(record))).exit_code == 1
    result = runner.invoke(app, _decide(inputs, "--write-adr", str(record)))
    assert result.exit_code == 0, result.output
    assert "| low-traffic internal | 300,000 |" in record.read_text()
    assert (tmp_path / "cost-vs-traffic.png").is_file()
    assert runner.invoke(app, _decide(inputs, "--check-adr", str(record))).exit_code == 0
    record.write_text(record.read_text().replace("| 300,000 |", "| 300,001 |"))
    result = runner.invoke(app, _decide(inputs, "--check-adr", str(record)))
    assert result.exit_code == 1
    assert "adr.md: cost" in result.output


def test_a_record_with_an_unknown_block_exits_2(inputs: Path, tmp_path: Path) -> None:
    record = tmp_path / "adr.md"
    record.write_text(RECORD + "<!-- generated:other -->\n<!-- /generated:other -->\n")
    result = runner.invoke(app, _decide(inputs, "--write-adr", str(record)))
    assert result.exit_code == 2
    assert "no content for ['other']" in result.output
    assert record.read_text().endswith("<!-- /generated:other -->\n")


def test_a_missing_stack_exits_2(inputs: Path) -> None:
    result = runner.invoke(app, [*_decide(inputs)[:-2], "--baseline", "nope"])
    assert result.exit_code == 2
    assert "no stack 'nope'" in result.output or "nope" in result.output


def test_a_document_quoting_the_summary_is_filled_and_checked(inputs: Path,
                                                               tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# App\n\n<!-- generated:summary -->\n<!-- /generated:summary -->\n")
    assert runner.invoke(app, _decide(inputs, "--check-doc", str(readme))).exit_code == 1
    result = runner.invoke(app, _decide(inputs, "--write-doc", str(readme)))
    assert result.exit_code == 0, result.output
    assert "| cost, low-traffic internal (300,000 req/month) |" in readme.read_text()
    assert runner.invoke(app, _decide(inputs, "--check-doc", str(readme))).exit_code == 0

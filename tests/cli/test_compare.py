"""``serverless-laravel compare`` on two small hand-written stacks and a scan report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serverless_laravel.analysis.scan import SCHEMA
from serverless_laravel.cli import app
from tests.analysis.test_compare_exposure import NETWORK, SECRETS

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compare")
    for name, doc in (("lambda", SECRETS), ("fargate", NETWORK)):
        (root / "out" / "stacks" / name).mkdir(parents=True)
        (root / "out" / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc))
    (root / "policies").mkdir()
    (root / "scan.json").write_text(json.dumps({
        "schema": SCHEMA, "checkov_version": "3.3.30",
        "stacks": [{"name": "lambda", "checks": {"CKV_AWS_158": {"passed": 0, "failed": 1,
                                                                  "skipped": 0}}},
                   {"name": "fargate", "checks": {"CKV_AWS_91": {"passed": 1, "failed": 0,
                                                                 "skipped": 0}}}]}))
    return root


def _compare(root: Path, *extra: str) -> list[str]:
    return ["compare", "--dir", str(root / "out"), "--scan", str(root / "scan.json"),
            "--policies", str(root / "policies"), "--serverless", "lambda",
            "--baseline", "fargate", *extra]


def test_json_measures_both_designs(inputs: Path) -> None:
    result = runner.invoke(app, _compare(inputs, "--json"))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "serverless-laravel/compare/1"
    lam, far = doc["designs"]
    assert (lam["stack"], far["stack"]) == ("lambda", "fargate")
    assert lam["checkov_by_category"] == {"ENCRYPTION": {"passed": 0, "failed": 1, "skipped": 0}}
    assert far["checkov_by_category"] == {"LOGGING": {"passed": 1, "failed": 0, "skipped": 0}}
    assert lam["headline"]["plaintext_secrets"] == 2
    assert (far["headline"]["public_endpoints"], far["headline"]["world_open_ingress"]) == (5, 3)


def test_markdown_is_written_and_identical_run_to_run(inputs: Path) -> None:
    first, second = inputs / "one.md", inputs / "two.md"
    for target in (first, second):
        result = runner.invoke(app, _compare(inputs, "--write", str(target)))
        assert result.exit_code == 0, result.output
    text = first.read_text()
    assert text == second.read_text()
    for heading in ("## Headline", "## checkov results by category", "## IAM principals",
                    "## Network exposure", "## Encryption coverage", "## Secrets handling",
                    "## What each design cannot do"):
        assert heading in text
    assert str(inputs) not in text


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "cannot read the scan report"),
    (json.dumps({"schema": "other"}), "is not a `serverless-laravel scan --json` report"),
])
def test_a_bad_scan_report_exits_2(tmp_path: Path, inputs: Path, content: str,
                                   message: str) -> None:
    (tmp_path / "scan.json").write_text(content)
    result = runner.invoke(app, ["compare", "--dir", str(inputs / "out"),
                                 "--scan", str(tmp_path / "scan.json")])
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_stack_exits_2(inputs: Path) -> None:
    result = runner.invoke(app, [*_compare(inputs)[:-4], "--serverless", "nope"])
    assert result.exit_code == 2
    assert "no stack named ['nope', 'fargate-baseline']" in result.output

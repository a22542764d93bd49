"""The scan: the reviewed skip list, and checkov's results on a small synthesized stack.

checkov runs once per session (``scanned``, shared with tests/cli/test_scan.py) over one stack
holding a log group (fails CKV_AWS_158 for KMS, CKV_AWS_338 for one-year retention) and an
SQS queue (passes CKV_AWS_27; fails the fixture policy CKV2_SCANFIX_1). CKV_AWS_338 is skipped
with a reason; CKV_AWS_117 (Lambda in a VPC) is skipped too but hides nothing: a stale skip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest

from serverless_laravel.analysis import scan
from serverless_laravel.analysis.scan import ScanError, ScanReport, parse_skip_config

STACK = "scan-fixture"
LOGS_REASON = ("Fixture logs keep 14 days: nobody audits a test stack, and a year of "
               "retention would cost storage for nothing.")
CONFIG = f"""\
# Reviewed skips for the scan fixture.
skip-check:
  # logging
  - CKV_AWS_338  # {LOGS_REASON[:40]}
                 # {LOGS_REASON[41:]}
  - CKV_AWS_117  # The fixture has no Lambda function, so this skip hides nothing.
"""
POLICY = """\
metadata:
  id: CKV2_SCANFIX_1
  name: SQS queues set their message retention explicitly
  category: GENERAL_SECURITY
definition:
  cond_type: attribute
  resource_types: [aws_sqs_queue]
  attribute: message_retention_seconds
  operator: exists
"""


@dataclass
class Scanned:
    """The one checkov run of the session, through the CLI: its report, output and files."""

    report: ScanReport
    exit_code: int
    output: str
    sarif: Path
    junit: Path
    root: Path


def _build(app: object) -> None:
    from serverless_laravel import cdk
    from serverless_laravel.constructs.stack import LaravelStack

    stack = LaravelStack(app, STACK, region="eu-west-1")
    cdk.aws("cloudwatch_log_group").CloudwatchLogGroup(
        stack, "logs", name="/app/scan-fixture", retention_in_days=14)
    cdk.aws("sqs_queue").SqsQueue(stack, "queue", name="scan-fixture",
                                  sqs_managed_sse_enabled=True)


_SESSION: dict[str, Scanned] = {}


@pytest.fixture(scope="session")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    """Synthesize the fixture stack and run ``serverless-laravel scan`` on it once per session
    (cached across the modules importing this fixture); the report is recorded on its way."""
    if "run" not in _SESSION:
        from typer.testing import CliRunner

        from serverless_laravel.cli import app
        from tests.synth import synthesize

        stacks = synthesize(tmp_path_factory, "scan", _build)
        root = stacks[STACK].directory.parents[2]
        (root / "policies").mkdir()
        (root / "policies" / "sqs_retention.yaml").write_text(POLICY)
        (root / ".checkov.yaml").write_text(CONFIG)
        reports: list[ScanReport] = []
        real = scan.scan_stacks

        def recording(*args: object, **kwargs: object) -> ScanReport:
            reports.append(real(*args, **kwargs))  # type: ignore[arg-type]
            return reports[-1]

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(scan, "scan_stacks", recording)
            patch.chdir(root)
            result = CliRunner().invoke(
                app, ["scan", "--dir", "cdktf.out", "--policies", "policies",
                      "--sarif", "scan.sarif", "--junit", "scan.xml"],
                env={"COLUMNS": "240"})
        (report,) = reports
        _SESSION["run"] = Scanned(report, result.exit_code, result.output, root / "scan.sarif",
                                  root / "scan.xml", root)
    return _SESSION["run"]


# --- the skip list ------------------------------------------------------------------------


def test_reasons_are_read_from_the_comment_and_its_continuation_lines() -> None:
    skips = parse_skip_config(CONFIG)
    assert [(s.check_id, s.line) for s in skips] == [("CKV_AWS_338", 4), ("CKV_AWS_117", 6)]
    assert skips[0].reason == LOGS_REASON
    assert skips[1].reason.startswith("The fixture has no Lambda")


def test_a_section_comment_at_the_list_indent_is_not_part_of_a_reason() -> None:
    text = ("skip-check:\n  - CKV_AWS_1  # one two three\n  # next section\n"
            "  - CKV_AWS_2  # four five six\n")
    assert [s.reason for s in parse_skip_config(text)] == ["one two three", "four five six"]


@pytest.mark.parametrize("entry", ["- CKV_AWS_18", "- CKV_AWS_18  #", "- CKV_AWS_18  # todo",
                                   "- CKV_AWS_18  # fix later"])
def test_a_skip_without_a_reason_is_refused_naming_the_id(entry: str) -> None:
    text = f"skip-check:\n  - CKV_AWS_1  # a reviewed reason here\n  {entry}\n"
    with pytest.raises(ScanError, match=r"\.checkov\.yaml:3: CKV_AWS_18 is skipped without a "
                                        r"reason"):
        parse_skip_config(text)


@pytest.mark.parametrize(("text", "message"), [
    ("skip-check:\n  - CKV_AWS_*  # all of them please\n", "not an exact check id"),
    ("skip-check:\n  - LOW  # every low severity one\n", "not an exact check id"),
    ("skip-check:\n  - CKV_AWS_1  # one two three\n  - CKV_AWS_1  # one two three\n",
     "listed twice"),
    ("skip-check: [CKV_AWS_1]  # one two three\n", "block list"),
    ("soft-fail: true\nskip-check: []\n", "only 'skip-check' is read"),
    ("skip-check: CKV_AWS_1\n", "must be a list"),
    ("skip-check: [\n", "not valid YAML"),
    ("- CKV_AWS_1\n", "expected a mapping"),
])
def test_a_config_the_review_cannot_trust_is_refused(text: str, message: str) -> None:
    with pytest.raises(ScanError, match=message):
        parse_skip_config(text)


def test_an_empty_config_skips_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing skipped yet\n")
    assert scan.load_skips(tmp_path / "empty.yaml") == ()
    assert scan.load_skips(None) == ()
    with pytest.raises(ScanError, match="cannot read the skip list"):
        scan.load_skips(tmp_path / "missing.yaml")


# --- inputs ---------------------------------------------------------------------------------


def test_find_stacks_reads_the_cdktf_out_layout_and_filters_by_name(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text("{}")
    assert list(scan.find_stacks(tmp_path)) == ["a", "b"]
    assert list(scan.find_stacks(tmp_path, ["b"])) == ["b"]
    with pytest.raises(ScanError, match=r"no stack named \['c'\]"):
        scan.find_stacks(tmp_path, ["c"])
    with pytest.raises(ScanError, match="no stacks in"):
        scan.find_stacks(tmp_path / "stacks")


def test_the_policies_default_to_the_checkout_s_folder() -> None:
    assert scan.default_policies_dir() == Path(__file__).resolve().parents[2] / "policies"


def test_a_missing_app_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScanError, match=r"no main\.py in .*--dir cdktf\.out"):
        scan.synthesize_app(tmp_path / "main.py", tmp_path / "out")


def test_a_missing_checkov_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "checkov", None)
    with pytest.raises(ScanError, match=r"pip install 'serverless-laravel\[scan\]'"):
        scan.require_checkov()


# --- results of the one checkov run ---------------------------------------------------------


def test_a_failure_is_listed_with_its_resource_and_construct(scanned: Scanned) -> None:
    report = scanned.report
    failures = {(f.check_id, f.resource.split(".")[0], f.construct_path)
                for f in report.failures}
    assert failures == {("CKV_AWS_158", "aws_cloudwatch_log_group", f"{STACK}/logs"),
                        ("CKV2_SCANFIX_1", "aws_sqs_queue", f"{STACK}/queue")}
    assert report.exit_code == scan.EXIT_FINDINGS == scanned.exit_code
    assert all(f.file == f"cdktf.out/stacks/{STACK}/cdk.tf.json" and f.lines[0] > 0
               for f in report.failures)


def test_a_skipped_check_is_reported_with_its_reason_not_as_a_failure(scanned: Scanned) -> None:
    (stack,) = scanned.report.stacks
    assert [(f.check_id, f.construct_path, f.reason) for f in stack.skipped] == [
        ("CKV_AWS_338", f"{STACK}/logs", LOGS_REASON)]
    assert "CKV_AWS_338" not in {f.check_id for f in stack.failed + stack.passed}
    assert scanned.report.stale_skips == ["CKV_AWS_117"]


def test_passed_checks_are_counted(scanned: Scanned) -> None:
    (stack,) = scanned.report.stacks
    assert ("CKV_AWS_27", f"{STACK}/queue") in {(f.check_id, f.construct_path)
                                                 for f in stack.passed}


def test_the_json_shape_is_the_documented_one(scanned: Scanned) -> None:
    doc = json.loads(json.dumps(scanned.report.to_json()))
    assert doc["schema"] == "serverless-laravel/scan/1"
    assert doc["exit_code"] == 1
    (stack,) = doc["stacks"]
    assert stack["name"] == STACK
    assert (stack["failed"], stack["skipped"]) == (2, 1)
    assert doc["totals"] == {"passed": stack["passed"], "failed": 2, "skipped": 1}
    assert set(stack["failures"][0]) >= {"check_id", "check_name", "resource",
                                          "construct_path", "file", "lines"}
    assert stack["skipped_findings"][0]["reason"] == LOGS_REASON
    assert doc["skips"] == [{"check_id": "CKV_AWS_117", "hits": 0,
                             "reason": parse_skip_config(CONFIG)[1].reason},
                            {"check_id": "CKV_AWS_338", "hits": 1, "reason": LOGS_REASON}]
    assert doc["stale_skips"] == ["CKV_AWS_117"]


def test_the_sarif_file_is_sarif_2_1_0_with_the_unskipped_failures(scanned: Scanned) -> None:
    doc = json.loads(scanned.sarif.read_text())
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = run["results"]
    assert sorted(r["ruleId"] for r in results) == ["CKV2_SCANFIX_1", "CKV_AWS_158"]
    for result in results:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == (
            f"cdktf.out/stacks/{STACK}/cdk.tf.json")
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith(f"{STACK}/")


def test_the_junit_file_has_a_suite_per_stack_with_failures_and_reasoned_skips(
    scanned: Scanned,
) -> None:
    root = ElementTree.parse(scanned.junit).getroot()
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == STACK
    assert (suite.get("failures"), suite.get("skipped")) == ("2", "1")
    failed = {c.get("name").split("]")[0][1:] for c in suite if c.find("failure") is not None}
    assert failed == {"CKV_AWS_158", "CKV2_SCANFIX_1"}
    (skipped,) = [c.find("skipped") for c in suite if c.find("skipped") is not None]
    assert skipped.get("message") == LOGS_REASON
    assert int(suite.get("tests")) == len(suite.findall("testcase"))

"""The test runner's handler against a real Laravel: Debian 12's php-laravel-framework (8.83)
boots a small app of our own (tests/fixtures/laravel8-app), which runs a real artisan command
and a real PHPUnit suite through the handler; results land in S3 on a moto server.

``artisan test`` comes from nunomaduro/collision, which Debian does not package, so the
allow-list runs PHPUnit directly (a ``phpunit`` entry whose script is Debian's
``/usr/bin/phpunit``; an app from Composer points it at ``vendor/bin/phpunit``).
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from serverless_laravel.runtime import test_runner

LARAVEL_APP = Path(__file__).resolve().parents[1] / "fixtures" / "laravel8-app"
ILLUMINATE = Path("/usr/share/php/Illuminate/autoload.php")
BUCKET = "laravel-test-results"
MISSING = [name for name, present in (
    ("php", shutil.which("php")), ("phpunit", shutil.which("phpunit")),
    ("php-laravel-framework", ILLUMINATE.is_file())) if not present]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"{', '.join(MISSING)} not installed: `make php` installs Debian's "
    "php8.2-cli, php-laravel-framework and phpunit (`make test` runs it)")

SUITE_OPTIONS = {"filter": "value", "testsuite": "value", "group": "value",
                 "exclude-group": "value"}
COMMANDS = {
    "phpunit": {"script": "/usr/bin/phpunit", "options": SUITE_OPTIONS, "junit": True},
    "api:export-markdown": {"options": {"title": "value"}, "artifacts": ["storage/app/docs"]},
    "app:about": {"options": {}},
}


class Context:
    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


@pytest.fixture
def s3(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The handler configured for the Laravel app, APP_KEY in Secrets Manager, a bucket."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    key = "base64:" + base64.b64encode(bytes(range(32))).decode()
    arn = boto3.client("secretsmanager").create_secret(
        Name="laravel/app-key", SecretString=key)["ARN"]
    for name, value in {
        "RESULTS_BUCKET": BUCKET, "APP_ROOT": str(LARAVEL_APP),
        "TEST_RUNNER_COMMANDS": json.dumps(COMMANDS), "UPLOAD_MARGIN_SECONDS": "10",
        "TEST_RUNNER_SECRETS": json.dumps({"APP_KEY": arn}),
        "TMPDIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("APP_KEY", raising=False)
    monkeypatch.setattr("tempfile.tempdir", None)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    yield client


def keys(s3: Any) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def text(s3: Any, key: str) -> str:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def counts(summary: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(summary[k] for k in ("status", "exit_code", "tests", "failures", "errors",
                                      "skipped"))


def test_the_whole_suite_reports_the_failing_test(s3: Any) -> None:
    summary = test_runner.handler({"command": "phpunit"}, Context("run-all"))
    assert counts(summary) == ("failed", 1, 6, 1, 0, 1)
    prefix = summary["results_prefix"]
    assert keys(s3) == [f"{prefix}junit.xml", f"{prefix}output.txt", f"{prefix}summary.json"]
    junit = text(s3, f"{prefix}junit.xml")
    assert 'name="test_a_deliberate_failure"' in junit
    assert 'name="test_the_app_key_from_the_secret_encrypts_and_decrypts"' in junit
    output = text(s3, f"{prefix}output.txt")
    assert "PHPUnit 9." in output and "Tests: 6, Assertions: 7, Failures: 1, Skipped: 1." \
        in output
    assert json.loads(text(s3, f"{prefix}summary.json")) == summary


def test_excluding_the_known_bug_passes_with_the_app_key_from_the_secret(s3: Any) -> None:
    summary = test_runner.handler({"command": "phpunit", "exclude-group": "known-bug"},
                                  Context("run-green"))
    assert counts(summary) == ("passed", 0, 5, 0, 0, 1)


def test_one_testsuite_runs_the_http_tests_through_the_kernel(s3: Any) -> None:
    summary = test_runner.handler({"command": "phpunit", "testsuite": "Feature"},
                                  Context("run-feature"))
    assert counts(summary) == ("passed", 0, 4, 0, 0, 1)
    junit = text(s3, f"{summary['results_prefix']}junit.xml")
    assert 'name="test_ping_answers_with_the_app_name"' in junit
    assert "EncryptionTest" not in junit


def test_a_real_artisan_command_writes_docs_that_are_uploaded(s3: Any) -> None:
    before = {p.relative_to(LARAVEL_APP) for p in LARAVEL_APP.rglob("*")}
    summary = test_runner.handler({"command": "api:export-markdown", "title": "Shop_API"},
                                  Context("run-docs"))
    assert (summary["status"], summary["exit_code"], summary["tests"]) == ("passed", 0, None)
    prefix = summary["results_prefix"]
    assert keys(s3) == [f"{prefix}output.txt", f"{prefix}storage/app/docs/api.md",
                        f"{prefix}summary.json"]
    assert text(s3, f"{prefix}storage/app/docs/api.md").splitlines() == [
        "# Shop_API", "", "| method | uri | name |", "|---|---|---|",
        "| GET | /api/ping | ping |", "| GET | /api/orders/{id} | orders.show |"]
    assert "Exported 2 routes" in text(s3, f"{prefix}output.txt")
    assert {p.relative_to(LARAVEL_APP) for p in LARAVEL_APP.rglob("*")} == before


def test_laravel_boots_with_debians_framework(s3: Any) -> None:
    summary = test_runner.handler({"command": "app:about"}, Context("run-about"))
    assert summary["status"] == "passed"
    assert summary["output_tail"].startswith("Laravel 8.83.")


def test_commands_off_the_configured_list_are_refused(s3: Any) -> None:
    for event in ({"command": "test"}, {"command": "db:wipe"},
                  {"command": "phpunit", "configuration": "/tmp/evil.xml"}):
        assert test_runner.handler(event, Context("refused"))["status"] == "rejected"
    assert keys(s3) == []

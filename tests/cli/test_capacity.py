"""``serverless-laravel capacity``: flags to figures, JSON, the table, errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from serverless_laravel.cli import app

runner = CliRunner()


def test_json_from_every_flag() -> None:
    result = runner.invoke(app, [
        "capacity", "--json", "--requests-per-second", "25000", "--avg-duration-ms", "120",
        "--account-concurrency", "5000", "--reserved-concurrency", "4000",
        "--database-class", "db.t4g.medium", "--engine", "postgres",
        "--connections-per-environment", "1", "--max-connections-percent", "50",
        "--backlog-jobs", "100000", "--job-duration-ms", "500", "--max-concurrency", "20"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["concurrency"] == 3000
    assert doc["scale_up_seconds"] == 20
    assert doc["exceeds_account_concurrency"] is False
    assert doc["connections_without_proxy"] == 3020 and doc["fits_without_proxy"] is False
    assert doc["proxy_connection_limit"] == 225  # 450 x 50 %
    assert doc["queue_drain_seconds"] == 2500


def test_only_what_the_flags_allow() -> None:
    result = runner.invoke(app, ["capacity", "--json", "--target-concurrency", "1500"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["exceeds_account_concurrency"] is True  # the default quota of 1,000
    assert (doc["scale_up_seconds"], doc["scale_up_seconds_to_target"]) == (0, 5)
    assert "concurrency" not in doc and "queue_drain_seconds" not in doc


def test_table_and_the_empty_case() -> None:
    result = runner.invoke(app, ["capacity", "--backlog-jobs", "10", "--job-duration-ms",
                                 "100", "--max-concurrency", "2"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "queue_drain_seconds" in result.stdout
    empty = runner.invoke(app, ["capacity"], env={"COLUMNS": "300"})
    assert empty.exit_code == 0 and "nothing to compute" in empty.stdout


def test_bad_flag_exits_2_naming_it() -> None:
    result = runner.invoke(app, ["capacity", "--max-concurrency", "1001"],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "max_concurrency=1001" in result.stderr and "--max-concurrency" in result.stderr

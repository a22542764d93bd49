"""``serverless-laravel cost``: the flags reach the model, the JSON shape, the chart, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serverless_laravel.cli import app

runner = CliRunner()
WEB_ONLY = ["--queue-jobs-per-month", "0", "--schedule-runs-per-month", "0"]


def _json(*args: str) -> dict:
    result = runner.invoke(app, ["cost", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_shape_and_hand_figures() -> None:
    doc = _json("--requests-per-month", "10000000", "--avg-duration-ms", "120",
                "--memory-mb", "1024", "--architecture", "arm64", *WEB_ONLY)
    assert set(doc) == {"serverless", "fargate", "break_even_requests_per_month"}
    assert set(doc["serverless"]) == set(doc["fargate"]) == {"items", "total"}
    items = doc["serverless"]["items"]
    assert (items["lambda_requests"], items["lambda_compute"], items["http_api"]) == (
        2.00, 16.00, 10.00)


def test_every_flag_reaches_the_model() -> None:
    base = _json()
    changed = {
        "--static-share": ("0.5", "serverless", "lambda_requests"),
        "--payload-kb": ("100", "fargate", "data_transfer"),
        "--job-duration-ms": ("2000", "serverless", "queue_worker"),
        "--queue-jobs-per-month": ("5000000", "serverless", "sqs"),
        "--schedule-duration-ms": ("5000", "serverless", "scheduler"),
        "--schedule-runs-per-month": ("1000", "fargate", "scheduler"),
        "--nat-gb": ("1000", "serverless", "nat"),
        "--nat-gateways": ("3", "fargate", "nat"),
        "--log-gb": ("50", "fargate", "logs"),
        "--task-vcpu": ("0.25", "fargate", "web_tasks"),
        "--task-memory-gb": ("3", "fargate", "worker_tasks"),
        "--min-tasks": ("4", "fargate", "web_tasks"),
        "--worker-min-tasks": ("2", "fargate", "worker_tasks"),
        "--database-class": ("db.t4g.large", "serverless", "database"),
        "--database-storage-gb": ("200", "fargate", "database"),
        "--multi-az": (None, "fargate", "database"),
        "--no-proxy": (None, "serverless", "proxy"),
        "--cache-gb": ("3", "serverless", "cache"),
        "--cache-ops-per-request": ("20", "fargate", "cache"),
        "--free-tier": (None, "serverless", "lambda_requests"),
        "--memory-mb": ("2048", "serverless", "lambda_compute"),
        "--avg-duration-ms": ("500", "serverless", "lambda_compute"),
    }
    for flag, (value, design, item) in changed.items():
        args = [flag] if value is None else [flag, value]
        assert _json(*args)[design]["items"][item] != base[design]["items"][item], flag
    busy = ["--requests-per-month", "2000000000"]
    assert _json(*busy, "--task-rps", "100")["fargate"]["items"]["web_tasks"] < _json(
        *busy)["fargate"]["items"]["web_tasks"]


def test_peak_and_max_tasks_shape_the_notes() -> None:
    result = runner.invoke(app, ["cost", "--peak-rps", "2000", "--max-tasks", "5"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "more than --max-tasks 5" in result.stdout
    assert "break-even:" in result.stdout and "lambda_requests" in result.stdout


def test_json_keeps_notes_on_stderr() -> None:
    result = runner.invoke(app, ["cost", "--json", "--peak-rps", "2000", "--max-tasks", "5"])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
    assert "note: the peak (2,000 rps) needs" in result.stderr


def test_profile_with_an_override() -> None:
    low = _json("--profile", "low-traffic internal")
    more = _json("--profile", "low-traffic internal", "--requests-per-month", "600000")
    assert more["serverless"]["items"]["lambda_requests"] == pytest.approx(
        2 * low["serverless"]["items"]["lambda_requests"], abs=0.01)
    assert more["serverless"]["items"]["database"] == low["serverless"]["items"]["database"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--memory-mb", "64"], "memory_mb=64"),
    (["--static-share", "1.5"], "--static-share within 0..1"),
    (["--architecture", "amd64"], "architecture='amd64'"),
    (["--min-tasks", "3", "--max-tasks", "2"], "at least min_tasks (3)"),
    (["--task-vcpu", "0.3"], "Fargate's sizes"),
    (["--database-class", "db.z9.huge"], "has no price"),
    (["--profile", "tiny"], "low-traffic internal"),
])
def test_bad_flags_exit_2_with_the_rule(args: list[str], needle: str) -> None:
    result = runner.invoke(app, ["cost", *args], env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert needle in result.stderr


def test_prices_file_overrides_and_is_validated(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"prices": {"http_api_requests_per_million": 0.9}}))
    doc = _json("--prices", str(good), *WEB_ONLY)
    assert doc["serverless"]["items"]["http_api"] == 9.00
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"prices": {"http_api_requests_per_million": -1}}))
    result = runner.invoke(app, ["cost", "--prices", str(bad)], env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert "prices.http_api_requests_per_million=-1" in result.stderr
    assert "0 or more" in result.stderr and "Fix:" in result.stderr


def test_chart_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "cost.png"
    result = runner.invoke(app, ["cost", "--json", "--chart", str(target)])
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    assert json.loads(result.stdout)["break_even_requests_per_month"] > 0


def test_chart_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = runner.invoke(app, ["cost", "--chart", str(tmp_path / "no" / "c.png")])
    assert result.exit_code == 1
    assert "cannot write the chart" in result.stderr

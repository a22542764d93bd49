"""The cost model against hand calculations, every input's validation, the price table and its
override file, the break-even and the chart."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import pytest

from serverless_laravel.analysis import cost
from serverless_laravel.analysis.cost import CostInputs, estimate, load_prices
from serverless_laravel.errors import ConfigurationError

PRICES = load_prices()
# Only the web function: no queue, no schedule, nothing cached.
WEB_ONLY = CostInputs(requests_per_month=10_000_000, avg_duration_ms=120, memory_mb=1024,
                      queue_jobs_per_month=0, schedule_runs_per_month=0)


def items(inputs: CostInputs, design: str = "serverless") -> dict[str, float]:
    return estimate(inputs, PRICES).to_json()[design]["items"]


def test_lambda_http_api_by_hand_on_arm64() -> None:
    got = items(replace(WEB_ONLY, architecture="arm64"))
    # 10M x 0.120 s x 1 GB = 1.2M GB-s; x $0.0000133334 = $16.00008
    assert got["lambda_compute"] == 16.00
    assert got["lambda_requests"] == 2.00  # 10M x $0.20/M
    assert got["http_api"] == 10.00  # 10M x $1.00/M
    assert got["queue_worker"] == got["scheduler"] == 0


def test_lambda_compute_on_x86_and_other_memory() -> None:
    assert items(WEB_ONLY)["lambda_compute"] == 20.00  # 1.2M GB-s x $0.0000166667
    # 2M x 0.5 s x 0.5 GB = 500,000 GB-s x $0.0000166667 = $8.33
    half = replace(WEB_ONLY, requests_per_month=2_000_000, avg_duration_ms=500, memory_mb=512)
    assert items(half)["lambda_compute"] == 8.33


def test_static_share_keeps_requests_from_lambda_but_not_from_cloudfront() -> None:
    got = items(replace(WEB_ONLY, static_share=0.25, payload_kb=0))
    assert got["lambda_requests"] == 1.50  # 7.5M x $0.20/M
    assert got["http_api"] == 7.50
    assert got["cloudfront"] == 10.00  # all 10M x $0.0100 per 10,000


def test_cloudfront_and_fargate_egress_by_hand() -> None:
    got = estimate(replace(WEB_ONLY, payload_kb=30), PRICES).to_json()
    gb = 10_000_000 * 30 / 1024 / 1024  # 286.1 GB
    assert got["serverless"]["items"]["cloudfront"] == round(10 + gb * 0.085, 2) == 34.32
    assert got["fargate"]["items"]["data_transfer"] == round(gb * 0.09, 2) == 25.75


def test_queue_worker_and_scheduler_on_lambda_by_hand() -> None:
    inputs = replace(WEB_ONLY, queue_jobs_per_month=1_000_000, job_duration_ms=500,
                     schedule_runs_per_month=43_800, schedule_duration_ms=1000)
    got = items(inputs)
    # 1M x $0.20/M + 1M x 0.5 s x 1 GB x $0.0000166667 = 0.20 + 8.33
    assert got["queue_worker"] == 8.53
    # 43,800 x $0.20/M + 43,800 GB-s x $0.0000166667 = 0.00876 + 0.73
    assert got["scheduler"] == 0.74
    assert got["sqs"] == 1.20  # 3 requests per job: 3M x $0.40/M


def test_fargate_tasks_by_hand() -> None:
    got = items(WEB_ONLY, "fargate")
    task_hour = 0.5 * 0.04048 + 1 * 0.004445  # $0.024685
    assert got["web_tasks"] == round(2 * 730 * task_hour, 2) == 36.04
    assert got["worker_tasks"] == 18.02  # the worker's minimum of one task
    assert got["scheduler"] == 0  # no runs
    assert got["public_ipv4"] == 7.30  # 2 x 730 x $0.005
    arm = items(replace(WEB_ONLY, architecture="arm64", task_vcpu=1, task_memory_gb=2),
                "fargate")
    assert arm["web_tasks"] == round(2 * 730 * (0.03238 + 2 * 0.00356), 2) == 57.67


def test_fargate_web_tasks_follow_the_average_load_above_the_minimum() -> None:
    busy = replace(WEB_ONLY, requests_per_month=1_000_000_000, task_rps=50)
    average = 1e9 / (730 * 3600) / 50  # 7.61 tasks
    assert cost.average_web_tasks(busy) == pytest.approx(average)
    assert items(busy, "fargate")["web_tasks"] == round(average * 730 * 0.024685, 2)
    assert cost.average_web_tasks(WEB_ONLY) == 2  # 0.08 tasks of load: the minimum


def test_fargate_scheduler_bills_a_minute_per_run() -> None:
    got = items(replace(WEB_ONLY, schedule_runs_per_month=43_800, schedule_duration_ms=1000),
                "fargate")
    # 43,800 runs x 60 s = 730 h of a 0.25 vCPU / 0.5 GB task
    assert got["scheduler"] == round(730 * (0.25 * 0.04048 + 0.5 * 0.004445), 2) == 9.01


def test_load_balancer_lcu_is_the_larger_dimension() -> None:
    got = items(replace(WEB_ONLY, payload_kb=0), "fargate")
    rps = 10_000_000 / (730 * 3600)
    assert got["load_balancer"] == round(730 * (0.0225 + rps / 25 * 0.008), 2)


def test_shared_pieces_are_the_same_on_both_sides() -> None:
    result = estimate(CostInputs(), PRICES).to_json()
    for name in ("waf", "sqs", "logs", "nat", "database", "proxy", "cache"):
        assert result["serverless"]["items"][name] == result["fargate"]["items"][name], name


def test_shared_pieces_by_hand() -> None:
    got = items(replace(WEB_ONLY, database_class="db.t4g.medium", database_storage_gb=20,
                        nat_gateways=1, nat_gb=10, log_gb=5, cache_gb=1,
                        cache_ops_per_request=0))
    assert got["database"] == round(730 * 0.065 + 20 * 0.115, 2) == 49.75
    assert got["proxy"] == 21.90  # minimum 2 vCPUs x 730 h x $0.015
    assert got["nat"] == round(730 * (0.045 + 0.005) + 10 * 0.045, 2) == 36.95
    assert got["logs"] == 2.65  # 5 GB x ($0.50 + $0.03)
    assert got["cache"] == round(730 * 0.084, 2) == 61.32
    assert got["waf"] == round(5 + 7 + 10 * 0.60, 2) == 18.00
    doubled = items(replace(WEB_ONLY, multi_az=True, proxy=False))
    assert doubled["database"] == 99.50
    assert doubled["proxy"] == 0


def test_cache_bills_at_least_100_mb_and_an_ecpu_per_command() -> None:
    got = items(replace(WEB_ONLY, cache_gb=0, cache_ops_per_request=2))
    # 0.1 GB x 730 h x $0.084 + 20M ECPUs x $0.0023/M
    assert got["cache"] == round(0.1 * 730 * 0.084 + 20 * 0.0023, 2) == 6.18


def test_the_free_tier_only_when_asked() -> None:
    inputs = replace(WEB_ONLY, architecture="arm64", payload_kb=0, log_gb=5)
    assert items(inputs)["lambda_requests"] == 2.00
    free = items(replace(inputs, free_tier=True))
    assert free["lambda_requests"] == 1.80  # (10M - 1M) x $0.20/M
    assert free["lambda_compute"] == round((1_200_000 - 400_000) * 0.0000133334, 2) == 10.67
    assert free["http_api"] == 9.00
    assert free["cloudfront"] == 0  # 10M requests free
    assert free["logs"] == 0.15  # ingestion free, storage 5 x $0.03


def test_free_tier_is_shared_by_every_function() -> None:
    inputs = CostInputs(requests_per_month=600_000, queue_jobs_per_month=600_000,
                        schedule_runs_per_month=0, free_tier=True)
    got = items(inputs)
    assert got["lambda_requests"] == 0
    assert got["queue_worker"] == round(200_000 * 0.2 / 1e6, 2)  # GB-s still within 400,000


def test_json_has_exactly_the_issue_shape() -> None:
    doc = estimate(CostInputs(), PRICES).to_json()
    assert set(doc) == {"serverless", "fargate", "break_even_requests_per_month"}
    for design in ("serverless", "fargate"):
        assert set(doc[design]) == {"items", "total"}
        assert all(isinstance(v, float | int) for v in doc[design]["items"].values())
        assert doc[design]["total"] == pytest.approx(sum(doc[design]["items"].values()),
                                                     abs=0.01 * len(doc[design]["items"]))
    assert {"lambda_requests", "lambda_compute", "http_api", "cloudfront", "sqs", "logs",
            "nat", "database", "proxy", "cache"} <= set(doc["serverless"]["items"])
    assert {"web_tasks", "load_balancer", "nat", "database", "proxy", "cache"} <= set(
        doc["fargate"]["items"])
    assert isinstance(doc["break_even_requests_per_month"], int)
    json.dumps(doc)


@pytest.mark.parametrize("profile", ["default", "low-traffic internal", "mid-traffic public",
                                     "high-traffic public"])
def test_break_even_is_where_both_totals_meet(profile: str) -> None:
    inputs = cost.profile_inputs(profile)
    even = cost.break_even(inputs, PRICES)
    assert even is not None
    at = estimate(replace(inputs, requests_per_month=even), PRICES)
    assert at.serverless_total == pytest.approx(at.fargate_total, abs=0.01)
    below = estimate(replace(inputs, requests_per_month=even // 2), PRICES)
    above = estimate(replace(inputs, requests_per_month=even * 2), PRICES)
    assert below.serverless_total < below.fargate_total
    assert above.serverless_total > above.fargate_total


def test_break_even_by_hand_for_a_two_line_model() -> None:
    """Serverless: only web Lambda + HTTP API; Fargate: a fixed fleet; one crossing."""
    zero = {name: 0.0 for name in PRICES.lines}
    zero.update({"lambda_requests_per_million": 0.20, "http_api_requests_per_million": 1.00,
                 "fargate_vcpu_hour_x86_64": 0.04048, "fargate_gb_hour_x86_64": 0.004445})
    table = cost.PriceTable("hand", "us-east-1",
                            {k: cost.Price(k, v) for k, v in zero.items()})
    inputs = CostInputs(queue_jobs_per_month=0, schedule_runs_per_month=0, avg_duration_ms=120,
                        worker_min_tasks=1, min_tasks=2, task_rps=1e5)
    # Fargate: 3 tasks x 730 h x $0.024685 = $54.06 a month, flat (task_rps is huge).
    fixed = 3 * 730 * 0.024685
    assert cost.break_even(inputs, table) == pytest.approx(fixed / 1.20e-6, abs=1)


def test_no_break_even_when_one_design_is_cheaper_everywhere() -> None:
    slow_tasks = CostInputs(task_rps=0.1)  # a task per 0.1 rps: Fargate dearer at any traffic
    assert cost.break_even(slow_tasks, PRICES) is None
    assert estimate(slow_tasks, PRICES).to_json()["break_even_requests_per_month"] is None


def test_profiles_are_priced_and_ordered() -> None:
    names = list(cost.profiles())
    assert names == ["default", "low-traffic internal", "mid-traffic public",
                     "high-traffic public"]
    low, mid, high = (estimate(n, PRICES) for n in names[1:])
    assert low.serverless_total < low.fargate_total  # an internal app: serverless cheaper
    assert high.serverless_total > high.fargate_total  # a busy public app: Fargate cheaper
    assert low.fargate_total < mid.fargate_total < high.fargate_total


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="low-traffic internal") as caught:
        estimate("medium")
    assert caught.value.code == "cost.profile.choice"


def test_notes_warn_about_peaks_past_the_limits() -> None:
    result = estimate(CostInputs(requests_per_month=100_000_000, peak_rps=20_000,
                                 max_tasks=10), PRICES)
    text = " ".join(result.notes)
    assert "more than --max-tasks 10" in text
    assert "2,400 concurrent Lambda environments" in text  # 20,000 rps x 0.12 s


BAD_VALUES = {name: [spec.low - 1, spec.high * 2, "10", True, math.nan]
              for name, spec in cost.SPECS.items()}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in BAD_VALUES.items()
                                             for v in vs])
def test_every_numeric_input_is_validated(name: str, value: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        CostInputs(**{name: value})
    error = caught.value
    assert error.code == f"cost.{name}.range"
    assert error.prop == name and error.value is value
    assert "--" + name.replace("_", "-") in error.fix


def test_integer_inputs_refuse_fractions() -> None:
    with pytest.raises(ConfigurationError, match="must be an integer"):
        CostInputs(requests_per_month=1.5)


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"architecture": "amd64"}, "cost.architecture.choice"),
    ({"min_tasks": 5, "max_tasks": 4}, "cost.max_tasks.range"),
    ({"task_vcpu": 0.75}, "cost.task_vcpu.choice"),
    ({"task_vcpu": 0.25, "task_memory_gb": 4}, "cost.task_memory_gb.range"),
    ({"multi_az": "yes"}, "cost.multi_az.type"),
    ({"proxy": 1}, "cost.proxy.type"),
    ({"free_tier": "false"}, "cost.free_tier.type"),
])
def test_choices_pairs_and_bools_are_validated(kwargs: dict, code: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        CostInputs(**kwargs)
    assert caught.value.code == code


def test_an_unpriced_database_class_names_the_priced_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"db\.t4g\.medium") as caught:
        estimate(CostInputs(database_class="db.x2g.large"), PRICES)
    assert "rds_hour.db.x2g.large" in caught.value.fix


def test_the_shipped_table_is_dated_and_sourced() -> None:
    doc = json.loads(cost.PRICES_FILE.read_text())
    assert doc["schema"] == cost.PRICES_SCHEMA and doc["region"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\.\d+", doc["version"])
    for key, line in doc["prices"].items():
        assert line["price"] > 0 and line["unit"] and line["source"], key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", line["date"]), key
        assert isinstance(line["third_party"], bool), key
    # FACTS.md's us-east-1 figures
    assert (PRICES["lambda_gb_second_x86_64"], PRICES["lambda_gb_second_arm64"]) == (
        0.0000166667, 0.0000133334)
    assert (PRICES["fargate_vcpu_hour_x86_64"], PRICES["fargate_gb_hour_arm64"]) == (
        0.04048, 0.00356)


def _override(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_override_file_replaces_lines(tmp_path: Path) -> None:
    path = _override(tmp_path, {"version": "team-2027", "prices": {
        "lambda_requests_per_million": 0.25,
        "http_api_requests_per_million": {"price": 0.9, "source": "EDP", "date": "2027-01-01"},
        "rds_hour.db.r6g.large": 0.225}})
    table = load_prices(path)
    assert table.version == "2026-11-30.1+team-2027"
    assert table.lines["http_api_requests_per_million"].source == "EDP"
    assert table.lines["lambda_requests_per_million"].source == f"override: {path}"
    got = estimate(replace(WEB_ONLY, database_class="db.r6g.large"), table).to_json()
    assert got["serverless"]["items"]["lambda_requests"] == 2.50
    assert got["serverless"]["items"]["http_api"] == 9.00
    assert got["serverless"]["items"]["database"] == round(730 * 0.225 + 20 * 0.115, 2)
    assert got["serverless"]["items"]["proxy"] == 21.90  # r6g.large: 2 vCPUs


@pytest.mark.parametrize(("doc", "key", "needle"), [
    ({"prices": {"lambda_request": 0.2}}, "prices.lambda_request", "lambda_requests_per_million"),
    ({"prices": {"alb_hour": -0.01}}, "prices.alb_hour", "0 or more"),
    ({"prices": {"alb_hour": "0.02"}}, "prices.alb_hour", "finite number"),
    ({"prices": {"alb_hour": True}}, "prices.alb_hour", "finite number"),
    ('{"prices": {"alb_hour": NaN}}', "prices.alb_hour", "finite number"),
    ({"prices": {"alb_hour": {"price": 1, "cost": 2}}}, "prices.alb_hour", "unknown fields"),
    ({"prices": [1]}, "prices", "object of price lines"),
    ({"alb_hour": 0.02}, "prices", "object of price lines"),
    ({"prices": {}, "extra": 1}, "top-level keys", "not part of the table"),
    ("{not json", "file", "cannot be read as JSON"),
])
def test_override_file_errors_name_the_key_the_value_the_rule_and_the_fix(
        tmp_path: Path, doc: object, key: str, needle: str) -> None:
    path = _override(tmp_path, doc)
    with pytest.raises(ConfigurationError) as caught:
        load_prices(path)
    error = caught.value
    assert error.prop == key
    assert needle in str(error)
    assert str(path) in error.where and error.fix


def test_missing_override_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_prices(tmp_path / "absent.json")


def test_cost_curve_brackets_the_break_even() -> None:
    result = estimate(CostInputs(), PRICES)
    levels = cost.chart_range(result)
    assert levels[0] < result.break_even_requests_per_month < levels[-1]
    rows = cost.cost_curve(result.inputs, PRICES, levels)
    assert rows[0][1] < rows[0][2] and rows[-1][1] > rows[-1][2]


def test_chart_is_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = cost.write_chart(estimate("mid-traffic public", PRICES), tmp_path / "cost.png")
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_chart_without_a_break_even(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = estimate(CostInputs(task_rps=0.1), PRICES)
    assert result.break_even_requests_per_month is None
    data = cost.write_chart(result, tmp_path / "none.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"

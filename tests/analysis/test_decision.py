"""The decision: every block computed from the stacks, the comparison and the cost and capacity
models, checked against hand calculations and against the decision record's own blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from serverless_laravel.analysis import cost
from serverless_laravel.analysis.adr import block_names
from serverless_laravel.analysis.compare import Comparison, measure
from serverless_laravel.analysis.decision import (
    PROFILES,
    SCHEMA,
    Decision,
    blocks,
    decide,
    report,
    summary_rows,
)
from tests.analysis.test_compare_exposure import NETWORK
from tests.analysis.test_stack_facts import DOC

ADR = Path(__file__).resolve().parents[2] / "docs" / "adr" / "001-serverless-laravel.md"
STACKS = {"lambda": DOC, "fargate": NETWORK}


@pytest.fixture(scope="module")
def decision() -> Decision:
    comparison = Comparison([measure(name, doc, {}, {}) for name, doc in STACKS.items()],
                            "3.3.30")
    return decide(STACKS, comparison, serverless="lambda", baseline="fargate")


def test_the_record_and_the_tool_have_the_same_blocks(decision: Decision) -> None:
    assert sorted(block_names(ADR.read_text())) == sorted(blocks(decision))


def test_cost_is_the_cost_model_for_each_profile(decision: Decision) -> None:
    assert list(decision.estimates) == list(PROFILES)
    text = blocks(decision)["cost"]
    for name in PROFILES:
        e = cost.estimate(name)
        assert decision.estimates[name].to_json() == e.to_json()
        assert f"| {name} | {e.inputs.requests_per_month:,} | ${e.serverless_total:,.2f} |" \
            in text


def test_scaling_3000_environments_takes_20_seconds(decision: Decision) -> None:
    # 1,000 environments at once, then 1,000 every 10 s: (3,000 - 1,000) / 100 per s.
    assert decision.burst["scale_up_seconds"] == 20
    assert "| 3,000 simultaneous invocations | - | 3,000 | yes | 20 s |" \
        in blocks(decision)["capacity"]


def test_scaling_rows_use_each_profiles_dynamic_peak(decision: Decision) -> None:
    high = cost.profiles()["high-traffic public"]
    row = next(s for s in decision.scaling if s.label == "high-traffic public")
    assert row.requests_per_second == pytest.approx(high.peak * (1 - high.static_share))
    assert row.figures["concurrency"] == pytest.approx(
        row.requests_per_second * high.avg_duration_ms / 1000)


def test_connections_are_the_stacks_caps_against_the_proxy(decision: Decision) -> None:
    text = blocks(decision)["connections"]
    # db.t4g.medium: 4 GiB / 9,531,392 = 450; x 90 % = 405. Caps: web 100 + worker 12 + 7.
    assert "| **sum** |  | 119 |" in text
    assert "| proxy limit (450 x 90%) |  | 405 |" in text
    assert "ask for 3,000 connections against `max_connections` 450" in text
    assert "405 are opened and 2,595 clients wait" in text
    assert "at most 119 are ever asked for, 286 under the proxy's limit" in text


def test_security_rows_come_from_the_comparison(decision: Decision) -> None:
    open_rules = decision.security["fargate"]["world_open_ingress"]
    assert open_rules > 0
    line = next(r for r in blocks(decision)["security"].splitlines()
                if r.startswith("| security-group rules open to the internet |"))
    assert line.endswith(f"| 0 | {open_rules} |")


def test_php81_block_names_the_bref2_layers_and_the_upgrade(decision: Decision) -> None:
    text = blocks(decision)["php81"]
    assert "| web (PHP-FPM) | `php-81-fpm` | `arm-php-81-fpm` | `arm-php-84`" in text
    assert "`php-81` + `console`" in text
    assert "534081306603" in text and "2025-12-31" in text


def test_resources_are_totalled_per_stack(decision: Decision) -> None:
    assert "| **total** | 15 | 20 |" in blocks(decision)["resources"]


def test_summary_json_and_report_agree(decision: Decision) -> None:
    rows = {m: (s, f) for m, s, f in summary_rows(decision)}
    mid = decision.estimates["mid-traffic public"]
    assert rows["break-even, 'mid-traffic public' (requests / month)"][0] == \
        f"{mid.break_even_requests_per_month:,}"
    doc = decision.to_json()
    assert doc["schema"] == SCHEMA
    assert doc["cost"]["mid-traffic public"]["serverless"]["total"] == round(
        mid.serverless_total, 2)
    assert doc["connection_budget"]["total"] == 119
    text = report(decision)
    assert all(body in text for body in blocks(decision).values())

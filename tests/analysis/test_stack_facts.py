"""Facts read back from synthesized JSON: resources by service, the stack's connection budget."""

from __future__ import annotations

from typing import Any

from serverless_laravel.analysis.stack_facts import (
    proxy_consumers,
    resources_by_service,
    service_of,
    stack_budget,
)


def _fn(path: str, reserved: int | None, db_host: str | None) -> dict[str, Any]:
    block: dict[str, Any] = {"//": {"metadata": {"path": f"stack/{path}/function"}}}
    if reserved is not None:
        block["reserved_concurrent_executions"] = reserved
    if db_host is not None:
        block["environment"] = {"variables": {"DB_HOST": db_host}}
    return block


DOC: dict[str, Any] = {"resource": {
    "aws_lambda_function": {
        "web": _fn("web", 100, "${aws_db_proxy.proxy.endpoint}"),
        "worker": _fn("worker", None, "${aws_db_proxy.proxy.endpoint}"),
        "capped_worker": _fn("capped", 7, "${aws_db_proxy.proxy.endpoint}"),
        "direct": _fn("direct", 3, "${aws_db_instance.db.address}"),
        "authorizer": _fn("authorizer", 10, None),
    },
    "aws_lambda_alias": {"worker_live": {"function_name": "${aws_lambda_function.worker.arn}"}},
    "aws_lambda_event_source_mapping": {
        "a": {"function_name": "${aws_lambda_alias.worker_live.arn}",
              "scaling_config": {"maximum_concurrency": 20}},
        "b": {"function_name": "${aws_lambda_alias.worker_live.arn}",
              "scaling_config": [{"maximum_concurrency": 12}]},
        "c": {"function_name": "${aws_lambda_function.capped_worker.function_name}",
              "scaling_config": {"maximum_concurrency": 50}},
    },
    "aws_db_instance": {"db": {"engine": "postgres", "instance_class": "db.t4g.medium"}},
    "aws_db_proxy_default_target_group": {
        "tg": {"connection_pool_config": {"max_connections_percent": 90}}},
    "aws_cloudwatch_log_group": {"a": {}, "b": {}},
    "aws_cloudwatch_metric_alarm": {"x": {}},
    "aws_lb_listener": {"l": {}},
}}


def test_types_map_to_their_service_most_specific_prefix_first() -> None:
    assert service_of("aws_cloudwatch_log_group") == "CloudWatch Logs"
    assert service_of("aws_cloudwatch_event_rule") == "EventBridge"
    assert service_of("aws_cloudwatch_metric_alarm") == "CloudWatch"
    assert service_of("aws_lb_target_group") == "Elastic Load Balancing"
    assert service_of("aws_newthing_widget") == "newthing"


def test_resources_are_counted_per_service() -> None:
    assert resources_by_service(DOC) == {
        "CloudWatch": 1, "CloudWatch Logs": 2, "Elastic Load Balancing": 1, "Lambda": 9,
        "RDS": 2}


def test_only_functions_reaching_the_proxy_are_consumers_with_their_lowest_cap() -> None:
    consumers = {c.name: c for c in proxy_consumers(DOC)}
    assert set(consumers) == {"web", "worker", "capped"}
    assert consumers["web"].cap == 100
    assert (consumers["worker"].reserved_concurrency, consumers["worker"].cap) == (None, 12)
    assert consumers["capped"].cap == 7


def test_the_budget_is_computed_from_the_synthesized_settings() -> None:
    budget = stack_budget(DOC)
    assert budget is not None
    assert (budget.total, budget.max_connections, budget.limit) == (119, 450, 405)


def test_no_database_means_no_budget() -> None:
    assert stack_budget({"resource": {"aws_lambda_function": DOC["resource"][
        "aws_lambda_function"]}}) is None

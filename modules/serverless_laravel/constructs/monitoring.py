"""``Monitoring``: CloudWatch alarms and a dashboard for a Laravel app on Lambda.

Alarms watch each function (errors, throttles, p99 duration against its timeout, concurrency
against its cap), the HTTP API (5xx rate, p99 latency), queues (dead letters, age of the oldest
job) and RDS Proxy (client connections against the connection budget). They notify an SNS
topic encrypted with a customer managed key whose policy lets only this app's alarms use it
(CloudWatch cannot publish to a topic under the AWS-managed ``aws/sns`` key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import cdk
from ..analysis.connection_budget import consumer_of
from ..cdk import Construct
from ..checks import check_int
from ..errors import ConfigurationError, config_error
from .console_audit import _check_list
from .http_api import HttpApi
from .iam import deny_insecure_transport, policy_document
from .naming import resource_name
from .php_function import LIVE_ALIAS, PhpFunction
from .stack import partition_of, region_of
from .wiring import account_of, check_functions

WHERE = "Monitoring"
PERIODS = (60, 300, 900, 3600)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ALARM_NAME = 255
# Actions the account keeps on the key through its key policy: administering the key, never
# using it, so that Terraform can update and delete it (no ``kms:*``).
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
    "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListKeyPolicies",
    "kms:ListKeyRotations", "kms:ListResourceTags", "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
PUBLISH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class AlarmThresholds:
    """When the alarms fire; every field is validated on creation.

    * ``errors``: function errors per period, 1..100,000 (default 1).
    * ``throttles``: throttled invocations per period, 1..100,000 (default 1).
    * ``duration_percent``: p99 duration as a % of the function's timeout, 1..100 (default 80).
    * ``concurrency_percent``: concurrent executions as a % of the function's cap (reserved
      concurrency or its queue's maximum concurrency), 1..100 (default 80).
    * ``api_5xx_percent``: share of API responses that are 5xx, 1..100 % (default 5).
    * ``api_latency_ms``: p99 API latency, 100..30,000 ms (default 5,000; HTTP APIs stop at 30 s).
    * ``queue_age_seconds``: age of the oldest waiting job, 60..1,209,600 s (default 900).
    * ``proxy_connections_percent``: RDS Proxy client connections as a % of the connection
      budget, 1..100 (default 80).
    * ``period_seconds``: one of 60, 300, 900, 3600 (default 300).
    * ``evaluation_periods``: periods over threshold before alarming, 1..24 (default 1).
    """

    errors: int = 1
    throttles: int = 1
    duration_percent: int = 80
    concurrency_percent: int = 80
    api_5xx_percent: int = 5
    api_latency_ms: int = 5_000
    queue_age_seconds: int = 900
    proxy_connections_percent: int = 80
    period_seconds: int = 300
    evaluation_periods: int = 1

    def __post_init__(self) -> None:
        where = "AlarmThresholds"
        for prop, low, high, unit in (
            ("errors", 1, 100_000, "errors per period"),
            ("throttles", 1, 100_000, "throttles per period"),
            ("duration_percent", 1, 100, "% of the timeout"),
            ("concurrency_percent", 1, 100, "% of the cap"),
            ("api_5xx_percent", 1, 100, "% of requests"),
            ("api_latency_ms", 100, 30_000, "ms"),
            ("queue_age_seconds", 60, 1_209_600, "seconds"),
            ("proxy_connections_percent", 1, 100, "% of the budget"),
            ("evaluation_periods", 1, 24, "periods"),
        ):
            check_int(where, prop, getattr(self, prop), low, high, unit=unit)
        if self.period_seconds not in PERIODS or isinstance(self.period_seconds, bool):
            raise config_error(where, "period_seconds", self.period_seconds,
                               f"must be one of {list(PERIODS)} seconds",
                               "pass 300 (five minutes) or 60 for faster alerts", kind="choice")


def check_thresholds(where: str, value: Any, prop: str = "alarm_thresholds") -> AlarmThresholds:
    """``value`` if it is an AlarmThresholds; ``None`` gives the defaults."""
    if value is None:
        return AlarmThresholds()
    if not isinstance(value, AlarmThresholds):
        raise config_error(where, prop, value, "must be an AlarmThresholds",
                           f"pass {prop}=AlarmThresholds(errors=5, ...)", kind="type")
    return value


def check_emails(value: Any, prop: str = "alarm_emails") -> tuple[str, ...]:
    """A list of e-mail addresses (tokens pass: known only at apply)."""
    try:
        return _check_list(value, prop, _EMAIL, "ops@example.com")
    except ConfigurationError as error:  # the same rule, under this construct's name
        raise config_error(WHERE, prop, error.value, error.rule, error.fix,
                           kind=error.code.rsplit(".", 1)[-1]) from None


class Monitoring(Construct):
    """Alarms on an encrypted SNS topic, and one CloudWatch dashboard, for one app.

    ``functions`` (at least one) are watched from the start; ``api=`` adds the HTTP API;
    ``watch_function``, ``watch_queue(worker)`` and ``watch_proxy(proxy)`` add more later.
    ``alarm_emails`` are subscribed to the topic (each address must confirm);
    ``thresholds`` is an ``AlarmThresholds`` (defaults in its docstring).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Sequence[PhpFunction],
        api: HttpApi | None = None,
        alarm_emails: Sequence[str] = (),
        thresholds: AlarmThresholds | None = None,
    ) -> None:
        functions = check_functions(WHERE, "functions", functions)
        if not functions:
            raise config_error(WHERE, "functions", [], "must name at least one function",
                               "pass functions=[web, console]", kind="empty")
        if api is not None and not isinstance(api, HttpApi):
            raise config_error(WHERE, "api", api, "must be an HttpApi", "pass the app's HttpApi",
                               kind="type")
        emails = check_emails(alarm_emails)
        self.thresholds = check_thresholds(WHERE, thresholds, "thresholds")
        self.region = region_of(scope, None, WHERE)
        super().__init__(scope, id)
        self.prefix = resource_name(self, "", MAX_ALARM_NAME - 64)
        self._partition = partition_of(self.region)
        self._account = account_of(functions[0].arn)
        self._widgets: list[dict[str, Any]] = []
        self.alarms: dict[str, Any] = {}
        self._watched: set[str] = set()
        self._topic(emails)
        self.dashboard = cdk.aws("cloudwatch_dashboard").CloudwatchDashboard(
            self, "dashboard", dashboard_name=resource_name(self, "", 255),
            dashboard_body=self._body(),
        )
        for function in functions:
            self.watch_function(function)
        if api is not None:
            self.watch_api(api)

    @property
    def topic_arn(self) -> str:
        """The topic every alarm notifies (subscribe pagers or chat here)."""
        return self.topic.arn

    def _topic(self, emails: tuple[str, ...]) -> None:
        """A customer managed key (rotated) only this app's alarms may use, and the topic."""
        alarms = (f"arn:{self._partition}:cloudwatch:{self.region}:{self._account}:alarm:"
                  f"{self.prefix}-*")
        from_alarms = [
            {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [self._account]},
            {"test": "ArnLike", "variable": "aws:SourceArn", "values": [alarms]},
        ]
        cloudwatch = [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}]
        account = [{"type": "AWS",
                    "identifiers": [f"arn:{self._partition}:iam::{self._account}:root"]}]
        # In a key policy the resource can only ever be the key itself; naming it by the
        # account's key ARN pattern (the key's own ARN would be circular) says so explicitly.
        this_key = f"arn:{self._partition}:kms:{self.region}:{self._account}:key/*"
        key_policy = policy_document(self, "key-policy", [
            {"sid": "AccountAdministersKey", "effect": "Allow",
             "actions": list(KEY_ADMIN_ACTIONS), "resources": [this_key], "principals": account},
            {"sid": "AccountPublishesThroughSns", "effect": "Allow",
             "actions": list(PUBLISH_KEY_ACTIONS), "resources": [this_key], "principals": account,
             "condition": [{"test": "StringEquals", "variable": "kms:ViaService",
                            "values": [f"sns.{self.region}.amazonaws.com"]}]},
            {"sid": "AlarmsPublish", "effect": "Allow", "actions": list(PUBLISH_KEY_ACTIONS),
             "resources": [this_key], "principals": cloudwatch, "condition": from_alarms},
        ])
        self.key = cdk.aws("kms_key").KmsKey(
            self, "key", description=f"Encrypts the alarm topic {self.prefix}-alarms",
            enable_key_rotation=True, deletion_window_in_days=30, policy=key_policy.json,
        )
        self.topic = cdk.aws("sns_topic").SnsTopic(
            self, "topic", name=f"{self.prefix[:249]}-alarms", kms_master_key_id=self.key.arn,
        )
        topic_policy = policy_document(self, "topic-policy-document", [
            {"sid": "AlarmsPublish", "effect": "Allow", "actions": ["sns:Publish"],
             "resources": [self.topic.arn], "principals": cloudwatch, "condition": from_alarms},
            deny_insecure_transport("sns:Publish", [self.topic.arn]),
        ])
        self.topic_policy = cdk.aws("sns_topic_policy").SnsTopicPolicy(
            self, "topic-policy", arn=self.topic.arn, policy=topic_policy.json,
        )
        for index, email in enumerate(emails):
            cdk.aws("sns_topic_subscription").SnsTopicSubscription(
                self, f"email-{index}", topic_arn=self.topic.arn, protocol="email",
                endpoint=email,
            )

    def _alarm(self, id: str, description: str, *, threshold: float, operator: str,
               metric: dict[str, Any] | None = None, queries: list[Any] | None = None) -> Any:
        """One alarm named ``<prefix>-<id>``, notifying the topic on alarm and on recovery."""
        name = f"{self.prefix}-{id}"
        if len(name) > MAX_ALARM_NAME:
            raise config_error(WHERE, "alarm name", name, f"must be at most {MAX_ALARM_NAME} "
                               "characters", "use shorter construct ids", kind="length")
        t = self.thresholds
        alarm = cdk.aws("cloudwatch_metric_alarm").CloudwatchMetricAlarm(
            self, id, alarm_name=name, alarm_description=description,
            comparison_operator=operator, threshold=threshold,
            evaluation_periods=t.evaluation_periods, treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn], ok_actions=[self.topic.arn],
            metric_query=queries, **(metric or {}),
            depends_on=[self.topic_policy],
        )
        self.alarms[id] = alarm
        return alarm

    def _metric(self, namespace: str, name: str, dimensions: dict[str, str],
                statistic: str) -> dict[str, Any]:
        stat = {"extended_statistic": statistic} if statistic.startswith("p") \
            else {"statistic": statistic}
        return {"namespace": namespace, "metric_name": name, "dimensions": dimensions,
                "period": self.thresholds.period_seconds, **stat}

    def _once(self, key: str) -> bool:
        """Whether ``key`` is watched for the first time (watching twice adds nothing)."""
        if key in self._watched:
            return False
        self._watched.add(key)
        return True

    def watch_function(self, function: PhpFunction) -> None:
        """Errors, throttles, p99 duration against the timeout, concurrency against the cap."""
        check_functions(WHERE, "function", [function])
        if not self._once(function.function_name):
            return
        t = self.thresholds
        name = function.function_name
        id = _slug(cdk.relative_path(function))
        dims = {"FunctionName": name}
        lam = "AWS/Lambda"
        self._alarm(f"{id}-errors", f"{name}: {t.errors}+ errors in {t.period_seconds} s",
                    threshold=t.errors, operator="GreaterThanOrEqualToThreshold",
                    metric=self._metric(lam, "Errors", dims, "Sum"))
        self._alarm(f"{id}-throttles", f"{name}: {t.throttles}+ throttled invocations",
                    threshold=t.throttles, operator="GreaterThanOrEqualToThreshold",
                    metric=self._metric(lam, "Throttles", dims, "Sum"))
        limit = function.timeout * 1000 * t.duration_percent // 100
        self._alarm(f"{id}-duration", f"{name}: p99 duration above {t.duration_percent} % of "
                    f"its {function.timeout} s timeout", threshold=limit,
                    operator="GreaterThanThreshold",
                    metric=self._metric(lam, "Duration", dims, "p99"))
        metrics: list[list[Any]] = [[lam, m, "FunctionName", name] for m in
                                    ("Invocations", "Errors", "Throttles")]
        cap = consumer_of(function).cap
        if cap:
            busy = max(1, cap * t.concurrency_percent // 100)
            self._alarm(f"{id}-concurrency", f"{name}: {busy}+ concurrent executions "
                        f"({t.concurrency_percent} % of its cap of {cap})", threshold=busy,
                        operator="GreaterThanOrEqualToThreshold",
                        metric=self._metric(lam, "ConcurrentExecutions", dims, "Maximum"))
        provisioned = getattr(function, "provisioned_concurrency", 0)
        if provisioned:
            self._alarm(f"{id}-spillover", f"{name}: invocations beyond its {provisioned} "
                        "provisioned environments (cold starts)", threshold=1,
                        operator="GreaterThanOrEqualToThreshold",
                        metric=self._metric(lam, "ProvisionedConcurrencySpilloverInvocations",
                                            {**dims, "Resource": f"{name}:{LIVE_ALIAS}"},
                                            "Sum"))
        self._add_widgets(f"Function {name}", [
            {"metrics": metrics, "stat": "Sum"},
            {"metrics": [[lam, "Duration", "FunctionName", name, {"stat": "p99"}],
                         [lam, "Duration", "FunctionName", name, {"stat": "p50"}]],
             "annotations": {"horizontal": [{"label": "alarm", "value": limit}]}},
            {"metrics": [[lam, "ConcurrentExecutions", "FunctionName", name]],
             "stat": "Maximum",
             **({"annotations": {"horizontal": [{"label": "cap", "value": cap}]}}
                if cap else {})},
        ])

    def watch_api(self, api: HttpApi) -> None:
        """5xx share of requests (metric math on ``5xx`` / ``Count``) and p99 ``Latency``."""
        if not isinstance(api, HttpApi):
            raise config_error(WHERE, "api", api, "must be an HttpApi", "pass the app's HttpApi",
                               kind="type")
        if not self._once(api.node.path):
            return
        t = self.thresholds
        id = _slug(cdk.relative_path(api))
        dims = {"ApiId": api.api_id, "Stage": "$default"}
        gw = "AWS/ApiGateway"
        queries = [
            cdk.struct("cloudwatch_metric_alarm", "CloudwatchMetricAlarmMetricQuery",
                       id=key, return_data=False,
                       metric=cdk.struct("cloudwatch_metric_alarm",
                                         "CloudwatchMetricAlarmMetricQueryMetric",
                                         namespace=gw, metric_name=metric, dimensions=dims,
                                         period=t.period_seconds, stat="Sum"))
            for key, metric in (("errors", "5xx"), ("requests", "Count"))
        ]
        queries.append(cdk.struct(
            "cloudwatch_metric_alarm", "CloudwatchMetricAlarmMetricQuery", id="rate",
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            label="5xx % of requests", return_data=True))
        self._alarm(f"{id}-5xx-rate", f"{api.name}: {t.api_5xx_percent} %+ of responses are "
                    "5xx", threshold=t.api_5xx_percent,
                    operator="GreaterThanOrEqualToThreshold", queries=queries)
        self._alarm(f"{id}-latency", f"{api.name}: p99 latency above {t.api_latency_ms} ms",
                    threshold=t.api_latency_ms, operator="GreaterThanThreshold",
                    metric=self._metric(gw, "Latency", dims, "p99"))
        api_id = api.api_id
        self._add_widgets(f"HTTP API {api.name}", [
            {"metrics": [[gw, m, "ApiId", api_id, "Stage", "$default"]
                         for m in ("Count", "4xx", "5xx")], "stat": "Sum"},
            {"metrics": [[gw, "Latency", "ApiId", api_id, "Stage", "$default", {"stat": s}]
                         for s in ("p50", "p99")],
             "annotations": {"horizontal": [{"label": "alarm", "value": t.api_latency_ms}]}},
        ])

    def watch_queue(self, worker: Any) -> None:
        """A ``QueueWorker`` or ``JobQueue``: any dead letter, and the oldest job's age."""
        queue_name = getattr(worker, "sqs_queue_name", None)
        if not isinstance(queue_name, str) or not hasattr(worker, "dead_letter_queue"):
            raise config_error(WHERE, "worker", worker, "must be a QueueWorker or JobQueue",
                               "pass the construct that owns the queue and its DLQ", kind="type")
        if not self._once(f"queue:{queue_name}"):
            return
        t = self.thresholds
        id = _slug(cdk.relative_path(worker))
        sqs = "AWS/SQS"
        dlq = f"{queue_name}-dlq"
        self._alarm(f"{id}-dead-letters", f"{dlq}: failed jobs are waiting in the dead-letter "
                    "queue: inspect them, then redrive them to the queue", threshold=0,
                    operator="GreaterThanThreshold",
                    metric=self._metric(sqs, "ApproximateNumberOfMessagesVisible",
                                        {"QueueName": dlq}, "Maximum"))
        self._alarm(f"{id}-oldest-job", f"{queue_name}: a job has waited "
                    f"{t.queue_age_seconds}+ s (workers too few or failing)",
                    threshold=t.queue_age_seconds, operator="GreaterThanOrEqualToThreshold",
                    metric=self._metric(sqs, "ApproximateAgeOfOldestMessage",
                                        {"QueueName": queue_name}, "Maximum"))
        self._add_widgets(f"Queue {queue_name}", [
            {"metrics": [[sqs, "ApproximateNumberOfMessagesVisible", "QueueName", q]
                         for q in (queue_name, dlq)], "stat": "Maximum"},
            {"metrics": [[sqs, "ApproximateAgeOfOldestMessage", "QueueName", queue_name]],
             "stat": "Maximum",
             "annotations": {"horizontal": [{"label": "alarm", "value": t.queue_age_seconds}]}},
        ])

    def watch_proxy(self, proxy: Any, budget: int | None = None) -> None:
        """RDS Proxy ``ClientConnections`` (dimension ``ProxyName``) against ``budget``:
        1..262,143 connections, default the proxy's limit (max_connections x
        max_connections_percent), beyond which clients wait to borrow a connection."""
        limit = _proxy_limit(proxy)
        budget = limit if budget is None else check_int(
            WHERE, "budget", budget, 1, 262_143, "pass the connections the app may open")
        name = proxy.proxy.name
        if not self._once(proxy.node.path):
            return
        t = self.thresholds
        id = _slug(cdk.relative_path(proxy))
        busy = max(1, budget * t.proxy_connections_percent // 100)
        rds = "AWS/RDS"
        self._alarm(f"{id}-client-connections", f"RDS Proxy: {busy}+ client connections "
                    f"({t.proxy_connections_percent} % of the budget of {budget})",
                    threshold=busy, operator="GreaterThanOrEqualToThreshold",
                    metric=self._metric(rds, "ClientConnections", {"ProxyName": name},
                                        "Maximum"))
        self._add_widgets("RDS Proxy", [
            {"metrics": [[rds, m, "ProxyName", name] for m in
                         ("ClientConnections", "DatabaseConnections")], "stat": "Maximum",
             "annotations": {"horizontal": [{"label": "budget", "value": budget}]}},
        ])

    def _add_widgets(self, title: str, graphs: list[dict[str, Any]]) -> None:
        """A text header and one row of graphs (8 columns each) on the dashboard."""
        y = max((w["y"] + w["height"] for w in self._widgets), default=0)
        self._widgets.append({"type": "text", "x": 0, "y": y, "width": 24, "height": 1,
                              "properties": {"markdown": f"## {title}"}})
        for index, graph in enumerate(graphs):
            self._widgets.append({
                "type": "metric", "x": index * 8, "y": y + 1, "width": 8, "height": 6,
                "properties": {"region": self.region, "view": "timeSeries",
                               "period": self.thresholds.period_seconds, **graph},
            })
        self.dashboard.dashboard_body = self._body()

    def _body(self) -> str:
        return json.dumps({"widgets": self._widgets}, separators=(",", ":"))


def _proxy_limit(proxy: Any) -> int:
    """The connections ``proxy`` (a DatabaseProxy) may open to the database."""
    budget = getattr(proxy, "budget", None)
    if not callable(budget) or not hasattr(proxy, "proxy"):
        raise config_error(WHERE, "proxy", proxy, "must be a DatabaseProxy",
                           "pass the app's DatabaseProxy", kind="type")
    return int(budget().limit)


def _slug(path: str) -> str:
    """A construct path as an alarm-name part (``laravel/web`` -> ``laravel-web``)."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", path).strip("-").lower()

"""``ScheduledTask``: EventBridge Scheduler running ``php artisan schedule:run`` as a one-off
Fargate task every minute.

The schedule's role may run exactly this task definition, in exactly this cluster, and pass
exactly its two roles to ECS tasks; failed starts (after the schedule's own retries) go to an
encrypted dead-letter queue. ``schedule:run`` takes a minute's jobs; Laravel's
``withoutOverlapping()`` (through the cache's locks) keeps a slow run and the next apart.
"""

from __future__ import annotations

import shlex

from ... import cdk
from ...cdk import Construct
from ...checks import check_bool, check_int, check_kms_key_arn
from ...errors import ConfigurationError, config_error
from ..iam import Condition, PolicyStatement, ServiceRole
from ..naming import resource_name
from ..scheduler import _TIMEZONE, EVENT_AGE, RETRY_ATTEMPTS, check_schedule_expression
from ..wiring import tls_only_queue_policy
from .cluster import FargateCluster
from .service import AppTask, check_common
from .task import TASKS_SERVICE, PhpContainer, TaskOptions, check_task_options, php_spec


class ScheduledTask(AppTask):
    """A one-off Fargate task running an artisan command on a schedule (default
    ``schedule:run`` every minute), in private subnets without a public IP.

    Props: ``cluster``; ``php``; ``task`` (default 256 CPU units, 512 MiB);
    ``schedule_expression`` (default ``rate(1 minute)``); ``timezone`` (IANA, default UTC);
    ``command`` (an artisan command line, default ``schedule:run``); ``maximum_retry_attempts``
    (0..185, default 2: retries of a failed RunTask call) and ``maximum_event_age`` (60..86,400
    s, default 60: a run that cannot start within a minute is dropped, the next minute's run
    is the retry); ``enabled`` (default on); ``kms_key_arn`` (schedule and DLQ; default AWS
    keys); ``dead_letter_retention_days`` (1..14, default 14).
    """

    where = "ScheduledTask"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: FargateCluster,
        php: PhpContainer,
        task: TaskOptions | None = None,
        schedule_expression: str = "rate(1 minute)",
        timezone: str = "UTC",
        command: str = "schedule:run",
        maximum_retry_attempts: int = 2,
        maximum_event_age: int = 60,
        enabled: bool = True,
        kms_key_arn: str | None = None,
        dead_letter_retention_days: int = 14,
    ) -> None:
        where = self.where
        check_common(where, cluster, php)
        options = check_task_options(where, task, 256, 512)
        try:
            check_schedule_expression(schedule_expression)
        except ConfigurationError as error:
            raise config_error(where, "schedule_expression", schedule_expression, error.rule,
                               error.fix, kind="shape") from None
        if not isinstance(timezone, str) or not _TIMEZONE.match(timezone):
            raise config_error(where, "timezone", timezone, "must be an IANA time zone name",
                               "pass e.g. 'UTC' or 'Europe/Paris'", kind="shape")
        arguments = self._check_command(command)
        check_int(where, "maximum_retry_attempts", maximum_retry_attempts, *RETRY_ATTEMPTS,
                  "pass 0..185 (EventBridge Scheduler's range)")
        check_int(where, "maximum_event_age", maximum_event_age, *EVENT_AGE,
                  "pass 60..86400 seconds (EventBridge Scheduler's range)")
        check_bool(where, "enabled", enabled)
        check_kms_key_arn(where, kms_key_arn)
        check_int(where, "dead_letter_retention_days", dead_letter_retention_days, 1, 14,
                  "pass 1..14 days (SQS's range)")

        super().__init__(scope, id)
        self.command = command
        self.kms_key_arn = kms_key_arn
        spec = php_spec(php, cluster.region, ["php", f"{php.app_root}/artisan", *arguments])
        self._build_task(cluster, php, options, [spec], 1, None)
        self.dead_letter_queue = cdk.aws("sqs_queue").SqsQueue(
            self, "dead-letter-queue", name=resource_name(self, "", 80, "-dlq"),
            message_retention_seconds=dead_letter_retention_days * 86_400,
            **({"kms_master_key_id": kms_key_arn} if kms_key_arn
               else {"sqs_managed_sse_enabled": True}),
        )
        self.dead_letter_queue_policy = tls_only_queue_policy(
            self, "dead-letter-queue-policy", self.dead_letter_queue)
        self.scheduler_role = ServiceRole(self, "scheduler-role",
                                          service="scheduler.amazonaws.com",
                                          statements=self._scheduler_statements())
        self.schedule = self._schedule(schedule_expression, timezone, maximum_retry_attempts,
                                       maximum_event_age, enabled)

    def _check_command(self, command: object) -> list[str]:
        """An artisan command line, split as a shell would (no shell runs it)."""
        try:
            arguments = shlex.split(command) if isinstance(command, str) else []
        except ValueError:
            arguments = []
        if not arguments or arguments[0] in ("php", "artisan"):
            raise config_error(
                self.where, "command", command,
                "must be an artisan command line, without 'php artisan'",
                "pass e.g. 'schedule:run'", kind="shape")
        return arguments

    def _scheduler_statements(self) -> list[PolicyStatement]:
        """Run this task definition in this cluster; pass its two roles to ECS tasks only."""
        statements = [
            PolicyStatement(
                sid="RunTheTask", actions=("ecs:RunTask",), resources=(self.task.arn,),
                conditions=(Condition("ArnEquals", "ecs:cluster", (self.cluster.arn,)),)),
            PolicyStatement(
                sid="PassTheTaskRoles", actions=("iam:PassRole",),
                resources=(self.task.role.arn, self.task.execution.arn),
                conditions=(Condition("StringEquals", "iam:PassedToService",
                                      (TASKS_SERVICE,)),)),
            PolicyStatement(sid="SendToDeadLetterQueue", actions=("sqs:SendMessage",),
                            resources=(self.dead_letter_queue.arn,)),
        ]
        if self.kms_key_arn:
            statements.append(PolicyStatement(
                sid="UseKey", actions=("kms:Decrypt", "kms:GenerateDataKey"),
                resources=(self.kms_key_arn,)))
        return statements

    def _schedule(self, expression: str, timezone: str, attempts: int, age: int,
                  enabled: bool) -> object:
        """No flexible window: ``schedule:run`` expects to run at the top of each minute."""
        return cdk.aws("scheduler_schedule").SchedulerSchedule(
            self, "schedule", name=resource_name(self, "", 64),
            description=f"php artisan {self.command} on Fargate"[:512],
            schedule_expression=expression, schedule_expression_timezone=timezone,
            state="ENABLED" if enabled else "DISABLED", kms_key_arn=self.kms_key_arn,
            flexible_time_window={"mode": "OFF"},
            target={
                "arn": self.cluster.arn,
                "role_arn": self.scheduler_role.arn,
                "ecs_parameters": {
                    "task_definition_arn": self.task.arn, "launch_type": "FARGATE",
                    "platform_version": "LATEST", "task_count": 1,
                    "network_configuration": self._network(),
                },
                "retry_policy": {"maximum_retry_attempts": attempts,
                                 "maximum_event_age_in_seconds": age},
                "dead_letter_config": {"arn": self.dead_letter_queue.arn},
            },
            depends_on=[self.scheduler_role.policy],
        )


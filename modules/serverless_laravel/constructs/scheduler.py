"""``Scheduler``: EventBridge Scheduler running ``php artisan schedule:run`` on the console.

Bref's console runtime takes the artisan command line as the event: a JSON string.

EventBridge Scheduler invokes Lambda asynchronously, so two retry layers apply: the schedule's
own (when the Invoke call itself fails, e.g. throttled) and Lambda's asynchronous one (when the
function fails, or while the event waits in Lambda's queue). Lambda's defaults (2 retries,
events kept up to 6 hours) would run ``schedule:run`` late or twice, so the console function
gets an event invoke config: no retry, events older than a minute dropped, and failures sent
to the scheduler's dead-letter queue.
"""

from __future__ import annotations

import json
import re
import weakref

from .. import cdk
from ..cdk import Construct
from ..checks import (
    DANGEROUS_ARTISAN_COMMANDS,
    check_bool,
    check_int,
    check_kms_key_arn,
    dangerous_artisan_command,
)
from ..errors import config_error
from .iam import Condition, PolicyStatement, ServiceRole, grant_sid
from .php_function import PhpFunction
from .stack import partition_of
from .wiring import account_of, resource_name, tls_only_queue_policy

WHERE = "Scheduler"
RETRY_ATTEMPTS = (0, 185)
EVENT_AGE = (60, 86_400)
LAMBDA_RETRY_ATTEMPTS = (0, 2)
LAMBDA_EVENT_AGE = (60, 21_600)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(\S+( \S+){5}\)$")
_AT = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")
_SHELL = re.compile(r"[;&|$`<>\\'\"\n\r(){}*?\[\]~#]")
_TIMEZONE = re.compile(r"^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$")


def check_schedule_expression(expression: object) -> str:
    """A Scheduler expression: ``rate(N unit)`` (singular for 1), ``cron(6 fields)``, ``at()``."""
    text = expression if isinstance(expression, str) else ""
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value >= 1 and (value == 1) == (not unit.endswith("s")):
            return text
    elif _CRON.match(text) or _AT.match(text):
        return text
    raise config_error(
        WHERE, "schedule_expression", expression,
        "must be rate(1 minute), rate(N minutes|hours|days), cron(6 fields) or "
        "at(yyyy-mm-ddThh:mm:ss)",
        "e.g. 'rate(1 minute)' (singular for 1) or 'cron(0 3 * * ? *)'",
    )


# The Scheduler that owns each console function's event invoke config (Lambda allows one per
# function and qualifier), and the settings it was created with.
_INVOKE_CONFIGS: weakref.WeakKeyDictionary[PhpFunction, tuple[str, int, int]] = \
    weakref.WeakKeyDictionary()


class _RoleGrantee:
    """Lets a ServiceRole receive ``grant_*`` statements (the Grantable protocol)."""

    def __init__(self, role: ServiceRole) -> None:
        self.role = role

    def add_to_role_policy(self, statement: PolicyStatement) -> None:
        self.role.add(statement)

    @property
    def role_arn(self) -> str:
        return self.role.arn


class Scheduler(Construct):
    """A schedule invoking the console function with ``"schedule:run"``, exactly on time.

    Its role may invoke that function only and send failed invocations to its own encrypted DLQ.
    The first Scheduler on a console function also sets that function's async invoke config
    (``lambda_retry_attempts``, ``lambda_event_age``, failures to this DLQ); later ones on the
    same function must agree with it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        console: PhpFunction,
        schedule_expression: str = "rate(1 minute)",
        timezone: str = "UTC",
        command: str = "schedule:run",
        maximum_retry_attempts: int = 2,
        maximum_event_age: int = 60,
        lambda_retry_attempts: int = 0,
        lambda_event_age: int = 60,
        kms_key_arn: str | None = None,
        enabled: bool = True,
        dead_letter_retention_days: int = 14,
    ) -> None:
        if not isinstance(console, PhpFunction) or console.runtime != "console":
            raise config_error(
                WHERE, "console", getattr(console, "runtime", console),
                "must be a PhpFunction with runtime='console' (Bref runs artisan there)",
                "pass the console function, e.g. PhpFunction(..., runtime='console')",
            )
        check_schedule_expression(schedule_expression)
        if not isinstance(timezone, str) or not _TIMEZONE.match(timezone):
            raise config_error(WHERE, "timezone", timezone, "must be an IANA time zone name",
                               "pass e.g. 'UTC' or 'Europe/Paris'")
        if not isinstance(command, str) or not command.strip():
            raise config_error(
                WHERE, "command", command, "must be a non-empty artisan command line",
                "pass e.g. 'schedule:run'",
            )
        if _SHELL.search(command):
            raise config_error(
                WHERE, "command", command,
                "Bref runs the console payload through /bin/sh, so shell syntax (; & | $ ` < > "
                "quotes, newlines) would run more than one artisan command",
                "schedule one artisan command line of plain words, e.g. 'schedule:run'",
                kind="shell",
            )
        name = next((word for word in command.split() if not word.startswith("-")), "")
        denied = dangerous_artisan_command(name)
        if denied is not None:
            raise config_error(
                WHERE, "command", command,
                f"runs `{denied}` on a schedule: {DANGEROUS_ARTISAN_COMMANDS[denied]}",
                "schedule schedule:run and let Laravel's scheduler decide; run one-off "
                "commands with serverless-laravel artisan", kind="dangerous",
            )
        check_int(WHERE, "maximum_retry_attempts", maximum_retry_attempts, *RETRY_ATTEMPTS,
                  "pass 0..185 (EventBridge Scheduler's range)")
        check_int(WHERE, "maximum_event_age", maximum_event_age, *EVENT_AGE,
                  "pass 60..86400 seconds (EventBridge Scheduler's range)")
        check_int(WHERE, "lambda_retry_attempts", lambda_retry_attempts, *LAMBDA_RETRY_ATTEMPTS,
                  "pass 0 (a failed run is not repeated), 1 or 2 (Lambda's async range)")
        check_int(WHERE, "lambda_event_age", lambda_event_age, *LAMBDA_EVENT_AGE,
                  "pass 60..21600 seconds (Lambda's async range); 60 drops runs a minute late")
        check_int(WHERE, "dead_letter_retention_days", dead_letter_retention_days, 1, 14,
                  "pass 1..14 days (SQS's range)")
        check_kms_key_arn(WHERE, kms_key_arn)
        check_bool(WHERE, "enabled", enabled)
        owner = _INVOKE_CONFIGS.get(console)
        if owner is not None and owner[1:] != (lambda_retry_attempts, lambda_event_age):
            raise config_error(
                WHERE, "lambda_retry_attempts/lambda_event_age",
                {"lambda_retry_attempts": lambda_retry_attempts,
                 "lambda_event_age": lambda_event_age},
                f"{console.node.id} already has an async invoke config from {owner[0]} "
                f"(retries {owner[1]}, event age {owner[2]} s); Lambda allows one per function",
                "pass the same values as the first Scheduler on this console function",
            )

        super().__init__(scope, id)
        self.console = console
        self.payload = json.dumps(command)
        self.kms_key_arn = kms_key_arn
        encryption: dict[str, object] = (
            {"kms_master_key_id": kms_key_arn} if kms_key_arn
            else {"sqs_managed_sse_enabled": True}
        )
        self.dead_letter_queue = cdk.aws("sqs_queue").SqsQueue(
            self, "dead-letter-queue", name=resource_name(self, "", 80, "-dlq"),
            message_retention_seconds=dead_letter_retention_days * 86_400, **encryption,
        )
        self.dead_letter_queue_policy = tls_only_queue_policy(
            self, "dead-letter-queue-policy", self.dead_letter_queue)
        account = account_of(console.arn)
        self.role = ServiceRole(
            self, "role", service="scheduler.amazonaws.com",
            statements=self._statements(kms_key_arn),
            trust_conditions=(
                Condition("StringEquals", "aws:SourceAccount", (account,)),
                Condition("ArnEquals", "aws:SourceArn", (
                    f"arn:{partition_of(console.region)}:scheduler:{console.region}:{account}:"
                    "schedule-group/default",)),
            ),
        )
        console.grant_invoke(_RoleGrantee(self.role))
        if console.audit is not None:
            console.audit.expect(self.role.arn)
        self.invoke_config = None if owner is not None else self._invoke_config(
            lambda_retry_attempts, lambda_event_age)
        self.schedule = self._schedule(schedule_expression, timezone, maximum_retry_attempts,
                                       maximum_event_age, kms_key_arn, enabled)

    def _invoke_config(self, attempts: int, age: int) -> object:
        """Lambda's async handling of the console: no late or repeated runs, failures to the DLQ.

        Lambda sends the failure record with the function's own role, so that role may send to
        this DLQ (and use its key).
        """
        self.console.add_to_role_policy(PolicyStatement(
            sid=grant_sid("ReportFailedRunsTo", self), actions=("sqs:SendMessage",),
            resources=(self.dead_letter_queue.arn,),
        ))
        if self.kms_key_arn:
            self.console.add_to_role_policy(PolicyStatement(
                sid=grant_sid("EncryptFailedRunsFor", self),
                actions=("kms:Decrypt", "kms:GenerateDataKey"), resources=(self.kms_key_arn,),
            ))
        _INVOKE_CONFIGS[self.console] = (self.node.path, attempts, age)
        return cdk.aws("lambda_function_event_invoke_config").LambdaFunctionEventInvokeConfig(
            self, "console-invoke-config",
            function_name=self.console.function.function_name,
            qualifier=self.console.alias.name,
            maximum_retry_attempts=attempts,
            maximum_event_age_in_seconds=age,
            destination_config={"on_failure": {"destination": self.dead_letter_queue.arn}},
            depends_on=[self.console.role.policy],
        )

    def _statements(self, kms_key_arn: str | None) -> list[PolicyStatement]:
        statements = [PolicyStatement(
            sid="SendToDeadLetterQueue", actions=("sqs:SendMessage",),
            resources=(self.dead_letter_queue.arn,),
        )]
        if kms_key_arn:
            statements.append(PolicyStatement(
                sid="UseKey", actions=("kms:Decrypt", "kms:GenerateDataKey"),
                resources=(kms_key_arn,),
            ))
        return statements

    def _schedule(self, expression: str, timezone: str, attempts: int, age: int,
                  kms_key_arn: str | None, enabled: bool) -> object:
        """The schedule: no flexible window (``schedule:run`` expects to run each minute)."""
        return cdk.aws("scheduler_schedule").SchedulerSchedule(
            self, "schedule",
            name=resource_name(self, "", 64),
            description=f"php artisan {json.loads(self.payload)} on {self.console.function_name}",
            schedule_expression=expression,
            schedule_expression_timezone=timezone,
            state="ENABLED" if enabled else "DISABLED",
            kms_key_arn=kms_key_arn,
            flexible_time_window={"mode": "OFF"},
            target={
                "arn": self.console.live_arn,
                "role_arn": self.role.arn,
                "input": self.payload,
                "retry_policy": {"maximum_retry_attempts": attempts,
                                 "maximum_event_age_in_seconds": age},
                "dead_letter_config": {"arn": self.dead_letter_queue.arn},
            },
            depends_on=[self.role.policy],
        )

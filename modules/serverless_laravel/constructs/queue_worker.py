"""``QueueWorker``: an SQS queue, its dead-letter queue and a Bref worker running Laravel jobs;
``JobQueue``: the same queue and dead-letter queue alone, for workers that are not Lambda
functions (the Fargate baseline's ``php artisan queue:work``).

Laravel's SQS driver sends jobs (``sendMessage``) and reads the queue size
(``getQueueAttributes``); Bref's ``QueueHandler`` runs each job, deletes it when done and, when a
job is released for a retry, deletes the message and sends it again with an attempt counter.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from .. import cdk
from ..analysis.connection_budget import register_event_source
from ..cdk import Construct
from ..checks import check_int, check_kms_key_arn
from ..errors import ConfigurationError, config_error
from .fargate.environment import ContainerConsumer, ContainerEnvironment
from .function_options import FunctionOptions, check_options, merge_deprecated
from .iam import (
    Grantable,
    PolicyStatement,
    deny_insecure_transport,
    grant_sid,
    policy_document,
    statement_struct,
)
from .php_function import DEFAULT_TIMEOUTS, PhpFunction, VpcConfig
from .wiring import check_functions, resource_name, set_environment, tls_only_queue_policy

QUEUE_HANDLER = "Bref\\LaravelBridge\\Queue\\QueueHandler"
WHERE = "QueueWorker"
JOB_QUEUE = "JobQueue"
DEFAULT_JOB_VISIBILITY = 120
VISIBILITY_FACTOR = 6
MAX_VISIBILITY = 43_200
MAX_BATCHING_WINDOW = 300
DAY = 86_400
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
OPTION_FIELDS = frozenset(f.name for f in fields(FunctionOptions))


def check_queue_name(where: str, name: str | None) -> None:
    """A queue name Laravel can use in ``SQS_QUEUE_<NAME>``: lowercase, digits and '_'."""
    if name is not None and (not isinstance(name, str) or not _NAME.match(name)):
        raise config_error(
            where, "name", name, "must be 1..40 lowercase letters, digits or '_', "
            "starting with a letter", "pass e.g. name='emails'",
        )


def check_retention(where: str, max_receive_count: int, message_retention_days: int,
                    dead_letter_retention_days: int, kms_key_arn: str | None) -> None:
    """Receives before the DLQ, how long both queues keep messages, the key."""
    check_int(where, "max_receive_count", max_receive_count, 1, 1000,
              "pass how many receives a message gets before the DLQ, e.g. 3")
    for prop, days in (("message_retention_days", message_retention_days),
                       ("dead_letter_retention_days", dead_letter_retention_days)):
        check_int(where, prop, days, 1, 14, "pass 1..14 days (SQS's range)")
    check_kms_key_arn(where, kms_key_arn)


def required_visibility_timeout(function_timeout: int, batching_window: int = 0) -> int:
    """AWS's rule for a Lambda-polled queue: six times the function timeout plus the window."""
    return VISIBILITY_FACTOR * function_timeout + batching_window


class _SqsQueues:
    """The queue and its dead-letter queue, their grants and Laravel's variables: what
    ``QueueWorker`` and ``JobQueue`` share (same resources, same ids, same statements)."""

    sqs_queue_name: str
    visibility_timeout: int
    max_receive_count: int
    kms_key_arn: str | None
    queue_name: str | None

    def _queues(self, retention_days: int, dead_letter_days: int) -> None:
        """The DLQ, the queue redriving to it after ``max_receive_count``, the allow-list, and
        on both queues a policy refusing any request not made over TLS."""
        sqs = cdk.aws("sqs_queue").SqsQueue
        base = self.sqs_queue_name
        self.dead_letter_queue = sqs(
            self, "dead-letter-queue", name=f"{base}-dlq",
            message_retention_seconds=dead_letter_days * DAY, **self._encryption(),
        )
        self.queue = sqs(
            self, "queue", name=base,
            visibility_timeout_seconds=self.visibility_timeout,
            message_retention_seconds=retention_days * DAY,
            redrive_policy=cdk.Fn.jsonencode({
                "deadLetterTargetArn": self.dead_letter_queue.arn,
                "maxReceiveCount": self.max_receive_count,
            }),
            **self._encryption(),
        )
        self.redrive_allow_policy = cdk.aws("sqs_queue_redrive_allow_policy") \
            .SqsQueueRedriveAllowPolicy(
                self, "redrive-allow-policy", queue_url=self.dead_letter_queue.url,
                redrive_allow_policy=cdk.Fn.jsonencode({
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [self.queue.arn],
                }),
            )
        self._senders: list[str] = []
        self._queue_policy_document = policy_document(
            self, "queue-policy-document", self._queue_statements())
        self.queue_policy = cdk.aws("sqs_queue_policy").SqsQueuePolicy(
            self, "queue-policy", queue_url=self.queue.url,
            policy=self._queue_policy_document.json,
        )
        self.dead_letter_queue_policy = tls_only_queue_policy(
            self, "dead-letter-queue-policy", self.dead_letter_queue)
        self.arn: str = self.queue.arn
        self.url: str = self.queue.url
        self.prefix: str = cdk.Fn.element(cdk.Fn.regex("^(.*)/[^/]+$", self.url), 0)
        """``https://sqs.<region>.amazonaws.com/<account>``: the queue URL without its name."""

    def _queue_statements(self) -> list[dict[str, object]]:
        """TLS only; and SendMessage refused to every principal but the allowed senders.

        Laravel's worker unserializes job payloads, so whoever can send to the queue can run
        code as the worker: identity policies elsewhere in the account must not be enough.
        """
        deny_send: dict[str, object] = {
            "sid": "DenySendExceptProducers", "effect": "Deny", "actions": ["sqs:SendMessage"],
            "resources": [self.queue.arn], "principals": [{"type": "*", "identifiers": ["*"]}],
        }
        if self._senders:
            deny_send["condition"] = [{"test": "ArnNotEquals", "variable": "aws:PrincipalArn",
                                       "values": list(self._senders)}]
        return [deny_insecure_transport("sqs:*", [self.queue.arn]), deny_send]

    def allow_sender(self, role_arn: str) -> None:
        """Let the role ``role_arn`` past the queue policy's send guard (an operator role that
        redrives the DLQ, say); it still needs ``sqs:SendMessage`` from its own policy."""
        if role_arn not in self._senders:
            self._senders.append(role_arn)
            self._queue_policy_document.put_statement(
                [statement_struct(block) for block in self._queue_statements()])

    def _encryption(self) -> dict[str, object]:
        if self.kms_key_arn:
            return {"kms_master_key_id": self.kms_key_arn,
                    "kms_data_key_reuse_period_seconds": 300}
        return {"sqs_managed_sse_enabled": True}

    def grant_consume(self, worker: Grantable) -> None:
        """Poll, delete and extend visibility; send too, because Bref releases a job by resending.

        Bref's SqsJob::release() deletes the message and sends it again with ``attempts + 1``;
        Laravel's ``queue:work`` releases by changing the visibility, and sends when a job
        dispatches the next one of a chain.
        """
        worker.add_to_role_policy(PolicyStatement(
            sid=grant_sid("Consume", self),
            actions=("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                     "sqs:ChangeMessageVisibility"),
            resources=(self.arn,),
        ))
        worker.add_to_role_policy(PolicyStatement(
            sid=grant_sid("Release", self), actions=("sqs:SendMessage",), resources=(self.arn,),
        ))
        self.allow_sender(worker.role_arn)
        self._grant_key(worker, "Consume", ("kms:Decrypt", "kms:GenerateDataKey"))

    def grant_send(self, grantee: Grantable) -> None:
        """Let ``grantee`` dispatch jobs: send, and read the queue size; nothing else."""
        grantee.add_to_role_policy(PolicyStatement(
            sid=grant_sid("Send", self),
            actions=("sqs:SendMessage", "sqs:GetQueueAttributes"),
            resources=(self.arn,),
        ))
        self.allow_sender(grantee.role_arn)
        self._grant_key(grantee, "Send", ("kms:Decrypt", "kms:GenerateDataKey"))

    def _grant_key(self, grantee: Grantable, access: str, actions: tuple[str, ...]) -> None:
        if self.kms_key_arn:
            grantee.add_to_role_policy(PolicyStatement(
                sid=grant_sid(f"Key{access}", self), actions=actions, resources=(self.kms_key_arn,),
            ))

    @property
    def environment_key(self) -> str:
        """The variable holding this queue's URL: ``SQS_QUEUE``, or ``SQS_QUEUE_<NAME>``."""
        return "SQS_QUEUE" if self.queue_name is None else f"SQS_QUEUE_{self.queue_name.upper()}"

    def laravel_environment(self, *, worker: bool = False) -> dict[str, str]:
        """Laravel's sqs connection: the default queue's URL and prefix, or a named queue's URL.

        A worker always gets its own queue as ``SQS_QUEUE``.
        """
        variables = {"QUEUE_CONNECTION": "sqs"}
        if worker or self.queue_name is None:
            variables |= {"SQS_QUEUE": self.url, "SQS_PREFIX": self.prefix}
        if self.queue_name is not None:
            variables[self.environment_key] = self.url
        return variables


class QueueWorker(_SqsQueues, Construct):
    """An encrypted SQS queue with a DLQ, drained by a Bref worker function at a bounded rate.

    ``maximum_concurrency`` caps how many worker environments run at once: the guard that keeps
    a burst of jobs from opening thousands of database connections.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        app: str | Path | None = None,
        image_uri: str | None = None,
        name: str | None = None,
        producers: Sequence[PhpFunction] = (),
        batch_size: int = 10,
        maximum_batching_window: int = 0,
        maximum_concurrency: int = 10,
        max_receive_count: int = 3,
        visibility_timeout: int | None = None,
        message_retention_days: int = 4,
        dead_letter_retention_days: int = 14,
        kms_key_arn: str | None = None,
        php_version: str = "8.4",
        vpc: VpcConfig | None = None,
        function: FunctionOptions | None = None,
        timeout: int | None = None,
        memory_size: int | None = None,
        reserved_concurrency: int | None = None,
        environment: Mapping[str, str] | None = None,
        function_options: Mapping[str, Any] | None = None,
    ) -> None:
        producers = check_functions(WHERE, "producers", producers)
        check_queue_name(WHERE, name)
        extra = self._check_options(function_options)
        legacy = {"timeout": ("timeout", timeout), "memory_size": ("memory_size", memory_size),
                  "reserved_concurrency": ("reserved_concurrency", reserved_concurrency),
                  "environment": ("environment", environment)}
        legacy |= {f"function_options[{k!r}]": (k, extra.pop(k)) for k in list(extra)
                   if k in OPTION_FIELDS}
        if extra:
            warnings.warn(f"QueueWorker(function_options=...) is deprecated: pass "
                          f"function=FunctionOptions(...) (its {sorted(extra)} have no "
                          "FunctionOptions field yet and still reach PhpFunction)",
                          DeprecationWarning, stacklevel=2)
        options = merge_deprecated(WHERE, "function", check_options(WHERE, "function", function),
                                   legacy)
        timeout = DEFAULT_TIMEOUTS["function"] if options.timeout is None else options.timeout
        reserved_concurrency = options.reserved_concurrency
        self._check_polling(batch_size, maximum_batching_window, maximum_concurrency,
                            reserved_concurrency)
        check_retention(WHERE, max_receive_count, message_retention_days,
                        dead_letter_retention_days, kms_key_arn)
        self.visibility_timeout = self._visibility(visibility_timeout, timeout,
                                                   maximum_batching_window)
        self.queue_name = name
        self._check_producers(producers)
        super().__init__(scope, id)
        self.kms_key_arn = kms_key_arn
        self.maximum_concurrency = maximum_concurrency
        self.max_receive_count = max_receive_count
        self.sqs_queue_name = resource_name(self, "", 76)
        sizing = {"description": f"Laravel queue worker ({self.sqs_queue_name})",
                  "timeout": timeout} | options.props()
        try:
            self.function = PhpFunction(
                self, "worker", app=app, image_uri=image_uri, runtime="function",
                handler=QUEUE_HANDLER, php_version=php_version, vpc=vpc,
                environment=options.environment, **sizing, **extra,
            )
            self._queues(message_retention_days, dead_letter_retention_days)
            self._event_source(batch_size, maximum_batching_window)
            self.grant_consume(self.function)
            self._wire(self.function, worker=True)
            for producer in producers:
                self.add_producer(producer)
        except ConfigurationError:
            scope.node.try_remove_child(id)
            raise

    def _check_producers(self, producers: Sequence[PhpFunction]) -> None:
        """A producer already pointing its default (or same-named) queue elsewhere is refused."""
        for fn in producers:
            if self.environment_key in fn.environment:
                raise config_error(
                    WHERE, "producers", fn.node.id,
                    f"{fn.node.id} already has {self.environment_key} from another queue",
                    "give this queue a name= (SQS_QUEUE_<NAME>) or wire it to another function",
                )

    @staticmethod
    def _check_polling(batch_size: int, window: int, maximum_concurrency: int,
                       reserved_concurrency: int | None) -> None:
        """Batch size, batching window and the concurrency cap within Lambda's SQS limits."""
        check_int(WHERE, "maximum_batching_window", window, 0, MAX_BATCHING_WINDOW,
                  "pass 0 (no wait) up to 300 seconds")
        check_int(WHERE, "batch_size", batch_size, 1, 10_000, "pass 1..10 (or up to 10000 "
                  "with maximum_batching_window >= 1)")
        if batch_size > 10 and window < 1:
            raise config_error(WHERE, "batch_size", batch_size, "above 10 needs a batching window",
                               "pass maximum_batching_window=1 or more, or batch_size<=10")
        check_int(WHERE, "maximum_concurrency", maximum_concurrency, 2, 1000,
                  "pass 2..1000 (Lambda's range for SQS event sources)")
        if isinstance(reserved_concurrency, int) and 0 < reserved_concurrency \
                < maximum_concurrency:
            raise config_error(
                WHERE, "reserved_concurrency", reserved_concurrency,
                f"is below maximum_concurrency ({maximum_concurrency}), so Lambda would "
                "throttle the event source instead of capping it",
                "omit reserved_concurrency or make it at least maximum_concurrency",
            )

    @staticmethod
    def _check_options(function_options: Mapping[str, Any] | None) -> dict[str, Any]:
        """Extra PhpFunction arguments, none of which QueueWorker sets itself."""
        options = dict(function_options or {})
        clash = sorted(set(options) & {"app", "image_uri", "runtime", "handler", "php_version",
                                       "vpc"})
        if clash:
            raise config_error(
                WHERE, "function_options", clash, "repeat props QueueWorker sets itself",
                "pass them as QueueWorker's own arguments, sizing as function=FunctionOptions()",
            )
        return options

    @staticmethod
    def _visibility(explicit: int | None, timeout: int, window: int) -> int:
        """The queue's visibility timeout: AWS's minimum by default, never below it."""
        required = required_visibility_timeout(timeout, window)
        if required > MAX_VISIBILITY:
            raise config_error(
                WHERE, "timeout", timeout, f"needs a visibility timeout of {required}s, above "
                f"SQS's {MAX_VISIBILITY}s", "lower the worker timeout",
            )
        if explicit is None:
            return required
        if isinstance(explicit, bool) or not isinstance(explicit, int) \
                or not required <= explicit <= MAX_VISIBILITY:
            raise config_error(
                WHERE, "visibility_timeout", explicit,
                f"must be at least {VISIBILITY_FACTOR} x the worker timeout ({timeout}s) plus "
                f"the batching window ({window}s) = {required}s, and at most {MAX_VISIBILITY}s "
                "(else messages are redelivered while a worker still runs them)",
                f"omit it (computed as {required}) or pass {required}..{MAX_VISIBILITY}",
            )
        return explicit

    def _event_source(self, batch_size: int, window: int) -> None:
        """Lambda polls the queue; failed items are reported one by one, not the whole batch."""
        self.event_source = cdk.aws("lambda_event_source_mapping").LambdaEventSourceMapping(
            self, "event-source", event_source_arn=self.arn,
            function_name=self.function.live_arn, batch_size=batch_size,
            maximum_batching_window_in_seconds=window or None,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config={"maximum_concurrency": self.maximum_concurrency},
            depends_on=[self.function.role.policy],
        )
        register_event_source(self.function, self.node.path, self.maximum_concurrency)

    def add_producer(self, fn: PhpFunction) -> None:
        """Let ``fn`` dispatch jobs to this queue and tell Laravel where it is."""
        check_functions(WHERE, "producer", [fn])
        self.grant_send(fn)
        self._wire(fn, worker=False)

    def _wire(self, fn: PhpFunction, *, worker: bool) -> None:
        """Laravel's sqs connection: the default queue's URL and prefix, or a named queue's URL.

        Laravel uses a queue that is a full URL as-is, so ``SQS_QUEUE`` holds the URL and the
        prefix only matters for queue names given without one.
        """
        for key, value in self.laravel_environment(worker=worker).items():
            set_environment(fn, key, value, WHERE)


class JobQueue(_SqsQueues, Construct):
    """An encrypted SQS queue with a DLQ and TLS-only policies, for a worker that is not a Lambda
    function (``WorkerService`` runs ``php artisan queue:work`` on Fargate).

    Props: ``name`` (a named queue, ``SQS_QUEUE_<NAME>``; default the app's default queue),
    ``visibility_timeout`` (1..43,200 s, default 120: longer than the worker's job timeout, else
    a job still running is handed to another worker), ``max_receive_count`` (1..1,000, default 3),
    ``message_retention_days`` (1..14, default 4), ``dead_letter_retention_days`` (1..14,
    default 14), ``kms_key_arn`` (default SQS-managed keys).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str | None = None,
        visibility_timeout: int = DEFAULT_JOB_VISIBILITY,
        max_receive_count: int = 3,
        message_retention_days: int = 4,
        dead_letter_retention_days: int = 14,
        kms_key_arn: str | None = None,
    ) -> None:
        check_queue_name(JOB_QUEUE, name)
        check_int(JOB_QUEUE, "visibility_timeout", visibility_timeout, 1, MAX_VISIBILITY,
                  "pass more seconds than the worker's job timeout, e.g. 120", unit="seconds",
                  why="SQS's range")
        check_retention(JOB_QUEUE, max_receive_count, message_retention_days,
                        dead_letter_retention_days, kms_key_arn)
        super().__init__(scope, id)
        self.queue_name = name
        self.visibility_timeout = visibility_timeout
        self.max_receive_count = max_receive_count
        self.kms_key_arn = kms_key_arn
        self.sqs_queue_name = resource_name(self, "", 76)
        self._queues(message_retention_days, dead_letter_retention_days)

    def container_environment(self, consumer: ContainerConsumer) -> ContainerEnvironment:
        """A producer: its task role may send (and read the queue size); Laravel's variables."""
        self.grant_send(consumer.task_role)
        return ContainerEnvironment(variables=self.laravel_environment())

    def worker_environment(self, consumer: ContainerConsumer) -> ContainerEnvironment:
        """The worker: its task role may consume (and send, for releases and chains)."""
        self.grant_consume(consumer.task_role)
        return ContainerEnvironment(variables=self.laravel_environment(worker=True))

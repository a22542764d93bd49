"""``ConsoleAudit``: every invocation of the console function is recorded, and the unexpected
ones raise an alert.

Bref's console runtime hands its payload to ``/bin/sh``: whoever may invoke the console
function runs commands with the app's credentials. This construct records each invocation as a
CloudTrail data event (a trail of its own, or the account's organization trail) and sends an
EventBridge match to an SNS topic when the caller is not one of the expected roles (the deploy
pipeline's, the scheduler's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .. import cdk
from ..cdk import Construct
from ..checks import check_bool, check_int, check_kms_key_arn, check_optional_bool
from ..errors import config_error
from .buckets import PrivateBucket
from .function_options import LOG_RETENTION_DAYS
from .iam import Condition, PolicyStatement, ServiceRole, policy_document
from .php_function import PhpFunction, default_function_name
from .stack import partition_of
from .wiring import account_of

WHERE = "ConsoleAudit"
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConsoleAudit(Construct):
    """A CloudTrail data-event trail for one function, and an alert on unexpected callers.

    * ``trail``: create the trail (default ``True``); pass ``False`` when an organization trail
      already logs Lambda data events for this function (the alert still works: EventBridge
      receives the events of any trail in the account).
    * ``expected_callers``: role ARNs allowed to invoke without an alert (the deploy role); the
      roles passed to ``expect(...)`` (schedules) are added.
    * ``alert_emails``: addresses subscribed to the alert topic (each must confirm).
    * ``kms_key_arn``: a key for the trail's log files (default SSE-S3).
    * ``retention_days``: 1..3650 days the trail's files are kept (default 365).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: PhpFunction,
        trail: bool = True,
        expected_callers: Sequence[str] = (),
        alert_emails: Sequence[str] = (),
        kms_key_arn: str | None = None,
        retention_days: int = 365,
        force_destroy: bool | None = None,
    ) -> None:
        if not isinstance(function, PhpFunction):
            raise config_error(WHERE, "function", function, "must be a PhpFunction",
                               "pass the console function", kind="type")
        callers, emails = self.check(trail=trail, expected_callers=expected_callers,
                                     alert_emails=alert_emails, kms_key_arn=kms_key_arn,
                                     retention_days=retention_days, force_destroy=force_destroy)
        super().__init__(scope, id)
        self.function = function
        function.audit = self
        self._region = function.region
        self._account = account_of(function.arn)
        stack = cdk.TerraformStack.of(self)
        self._name = default_function_name(stack.node.id, cdk.relative_path(self))
        self._callers: list[str] = list(callers)
        self._retention_days = retention_days
        if trail:
            self._trail(kms_key_arn, retention_days, force_destroy)
        self._alert(emails)

    @staticmethod
    def check(*, trail: object = True, expected_callers: object = (),
              alert_emails: object = (), kms_key_arn: object = None,
              retention_days: object = 365,
              force_destroy: object = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Every rule on the props, before anything exists (composites call it first)."""
        check_bool(WHERE, "trail", trail)
        check_optional_bool(WHERE, "force_destroy", force_destroy)
        callers = _check_list(expected_callers, "expected_callers", _ROLE_ARN,
                              "arn:aws:iam::<account>:role/<name>")
        emails = _check_list(alert_emails, "alert_emails", _EMAIL, "ops@example.com")
        check_kms_key_arn(WHERE, kms_key_arn)
        check_int(WHERE, "retention_days", retention_days, 1, 3650,
                  "pass the days trail files are kept, e.g. 365")
        return callers, emails

    def expect(self, role_arn: str) -> None:
        """Invocations by ``role_arn`` (a schedule's role) are expected: no alert for them."""
        if role_arn not in self._callers:
            self._callers.append(role_arn)
            self.rule.event_pattern = self._pattern()

    def _trail(self, kms_key_arn: str | None, retention_days: int,
               force_destroy: bool | None) -> None:
        """The trail's bucket (written by CloudTrail for this trail only) and the trail."""
        partition = partition_of(self._region)
        name = f"{self._name[:120]}-console"
        trail_arn = f"arn:{partition}:cloudtrail:{self._region}:{self._account}:trail/{name}"
        self.bucket = PrivateBucket(self, "bucket", bucket_prefix="laravel-audit-",
                                    kms_key_arn=kms_key_arn, force_destroy=force_destroy,
                                    expire_after_days=retention_days)
        condition = [{"test": "StringEquals", "variable": "aws:SourceArn",
                      "values": [trail_arn]}]
        service = [{"type": "Service", "identifiers": ["cloudtrail.amazonaws.com"]}]
        self.bucket.add_to_resource_policy({
            "sid": "CloudTrailReadsAcl", "effect": "Allow", "actions": ["s3:GetBucketAcl"],
            "resources": [self.bucket.arn], "principals": service, "condition": condition,
        })
        self.bucket.add_to_resource_policy({
            "sid": "CloudTrailWrites", "effect": "Allow", "actions": ["s3:PutObject"],
            "resources": [f"{self.bucket.arn}/AWSLogs/{self._account}/*"],
            "principals": service,
            "condition": [*condition, {"test": "StringEquals", "variable": "s3:x-amz-acl",
                                       "values": ["bucket-owner-full-control"]}],
        })
        self._trail_outputs(name, trail_arn)
        module = "cloudtrail"
        self.trail = cdk.aws(module).Cloudtrail(
            self, "trail", name=name, s3_bucket_name=self.bucket.name,
            # Only this function's data events are selected (no management events), so a
            # multi-region trail with global service events logs nothing more and costs nothing
            # more; CloudTrail requires the two settings together.
            enable_log_file_validation=True, include_global_service_events=True,
            is_multi_region_trail=True, kms_key_id=kms_key_arn,
            sns_topic_name=self.deliveries.name,
            cloud_watch_logs_group_arn=f"{self.log_group.arn}:*",
            cloud_watch_logs_role_arn=self.logs_role.arn,
            advanced_event_selector=[cdk.struct(
                module, "CloudtrailAdvancedEventSelector",
                name="Invocations of the console function",
                field_selector=[
                    cdk.struct(module, "CloudtrailAdvancedEventSelectorFieldSelector",
                               field="eventCategory", equal_to=["Data"]),
                    cdk.struct(module, "CloudtrailAdvancedEventSelectorFieldSelector",
                               field="resources.type", equal_to=["AWS::Lambda::Function"]),
                    # Invocations of an alias or version carry the qualified ARN.
                    cdk.struct(module, "CloudtrailAdvancedEventSelectorFieldSelector",
                               field="resources.ARN", starts_with=[self.function.arn]),
                ],
            )],
            depends_on=[self.bucket, self.logs_role.policy, self._deliveries_policy],
        )

    def _trail_outputs(self, name: str, trail_arn: str) -> None:
        """A log group the trail also writes to (searchable with Logs Insights), its role, and a
        topic announcing each delivered log file (for integrity monitoring)."""
        self.log_group = cdk.aws("cloudwatch_log_group").CloudwatchLogGroup(
            self, "trail-logs", name=f"/serverless-laravel/{name}",
            retention_in_days=min(d for d in (*LOG_RETENTION_DAYS, 3653)
                                  if d >= self._retention_days),
        )
        self.logs_role = ServiceRole(
            self, "trail-logs-role", service="cloudtrail.amazonaws.com",
            statements=[PolicyStatement(
                sid="WriteTrailLogs", actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                resources=(f"{self.log_group.arn}:log-stream:*",))],
            trust_conditions=(Condition("StringEquals", "aws:SourceArn", (trail_arn,)),),
        )
        self.deliveries = cdk.aws("sns_topic").SnsTopic(
            self, "deliveries", name=f"{name[:230]}-deliveries",
        )
        self._deliveries_policy = _publish_policy(
            self, "deliveries-policy", self.deliveries, "cloudtrail.amazonaws.com", trail_arn)

    def _alert(self, emails: tuple[str, ...]) -> None:
        """An encrypted topic, a rule matching unexpected callers, and the topic's policy."""
        # Not encrypted with a key: EventBridge can publish to an encrypted topic only with a
        # customer managed key whose policy admits it (the AWS-managed aws/sns key's policy
        # cannot), and the messages are invocation metadata, sent over TLS.
        self.topic = cdk.aws("sns_topic").SnsTopic(
            self, "alerts", name=f"{self._name[:230]}-alerts",
        )
        for index, email in enumerate(emails):
            cdk.aws("sns_topic_subscription").SnsTopicSubscription(
                self, f"email-{index}", topic_arn=self.topic.arn, protocol="email",
                endpoint=email,
            )
        self.rule = cdk.aws("cloudwatch_event_rule").CloudwatchEventRule(
            self, "unexpected-invocation", name=f"{self._name[:48]}-console-invoked",
            description="The console function was invoked by an unexpected caller",
            event_pattern=self._pattern(),
        )
        cdk.aws("cloudwatch_event_target").CloudwatchEventTarget(
            self, "notify", rule=self.rule.name, arn=self.topic.arn,
        )
        _publish_policy(self, "alerts-policy", self.topic, "events.amazonaws.com", self.rule.arn)

    def _pattern(self) -> str:
        """Invoke calls on the function whose caller's role is not an expected one."""
        detail: dict[str, object] = {
            "eventSource": ["lambda.amazonaws.com"],
            "eventName": [{"prefix": "Invoke"}],
            "requestParameters": {"functionName": [
                {"prefix": self.function.function_name}, {"prefix": self.function.arn}]},
        }
        if self._callers:
            # A role session other than the expected ones, or any caller that is not a role
            # session at all (IAM users, root: they carry no sessionIssuer).
            detail["$or"] = [
                {"userIdentity": {"sessionContext": {"sessionIssuer": {
                    "arn": [{"anything-but": list(self._callers)}]}}}},
                {"userIdentity": {"type": [{"anything-but": ["AssumedRole"]}]}},
            ]
        return cdk.Fn.jsonencode({
            "source": ["aws.lambda"], "detail-type": ["AWS API Call via CloudTrail"],
            "detail": detail,
        })

    @property
    def topic_arn(self) -> str:
        return self.topic.arn


def _publish_policy(scope: Construct, id: str, topic: object, service: str,
                    source_arn: str) -> object:
    """A topic policy letting one service publish, for one source resource only."""
    document = policy_document(scope, f"{id}-document", [{
        "sid": "ServicePublishes", "effect": "Allow", "actions": ["sns:Publish"],
        "resources": [topic.arn],  # type: ignore[attr-defined]
        "principals": [{"type": "Service", "identifiers": [service]}],
        "condition": [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [source_arn]}],
    }])
    return cdk.aws("sns_topic_policy").SnsTopicPolicy(
        scope, id, arn=topic.arn, policy=document.json,  # type: ignore[attr-defined]
    )


def _check_list(value: object, prop: str, pattern: re.Pattern[str],
                example: str) -> tuple[str, ...]:
    """A list of strings each matching ``pattern`` (tokens pass: known only at apply)."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise config_error(WHERE, prop, value, "must be a list", f"pass {prop}=[{example!r}]",
                           kind="type")
    bad = [v for v in value if not (cdk.is_token(v) or (isinstance(v, str) and pattern.match(v)))]
    if bad:
        raise config_error(WHERE, prop, bad, f"each must look like {example!r}",
                           f"pass e.g. {prop}=[{example!r}]", kind="shape")
    return tuple(value)

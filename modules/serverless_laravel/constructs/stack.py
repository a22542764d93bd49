"""The stack a Laravel deployment lives in: one AWS provider in one concrete region."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

from .. import cdk
from ..cdk import Construct
from ..checks import check_bool, check_endpoint, check_kms_key_arn
from ..errors import LocalStateWarning, config_error

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


def partition_of(region: str) -> str:
    """The AWS partition of a region name (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso-"):
        return "aws-iso"
    return "aws"


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check_region(region: Any, where: str = "LaravelStack") -> str:
    """A concrete region name; a token or a malformed name is an error (layers are per region)."""
    if cdk.is_token(region) or not isinstance(region, str) or not _REGION.match(region):
        raise config_error(
            where,
            "region",
            region,
            "must be a concrete AWS region name known at synth time (Bref layer ARNs and "
            "IAM resource ARNs are per region)",
            "pass a literal such as region='eu-west-1', not a variable or token", kind="shape",
        )
    return region


@dataclass(frozen=True)
class S3State:
    """Terraform state in S3: encrypted, locked with S3's lock file (no DynamoDB table; needs
    Terraform 1.10 or later).

    * ``bucket``: an existing bucket (3..63 lowercase letters, digits, dots and hyphens).
    * ``key``: the state object (default ``<stack id>/terraform.tfstate``).
    * ``region``: the bucket's region (default: the stack's).
    * ``kms_key_arn``: a customer managed key for the state (default: SSE-S3).
    """

    bucket: str
    key: str | None = None
    region: str | None = None
    kms_key_arn: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.bucket, str) or not _BUCKET.match(self.bucket):
            raise config_error("S3State", "bucket", self.bucket,
                               "must be an S3 bucket name (3..63 lowercase letters, digits, "
                               "dots and hyphens)", "pass the name of the state bucket",
                               kind="shape")
        if self.key is not None and (not isinstance(self.key, str) or not self.key.strip("/")
                                     or self.key.startswith("/")):
            raise config_error("S3State", "key", self.key,
                               "must be a non-empty object key without a leading '/'",
                               "pass e.g. 'laravel/prod/terraform.tfstate'", kind="shape")
        if self.region is not None:
            check_region(self.region, "S3State")
        check_kms_key_arn("S3State", self.kms_key_arn)


CONTEXT_EPHEMERAL = "serverless-laravel:ephemeral"
CONTEXT_ENDPOINT = "serverless-laravel:endpoint"
# Every service the library's constructs call, by the provider's endpoint name: the emulator
# gets them all (acm and route53 for custom domains, sts for the provider itself).
ENDPOINT_SERVICES = (
    "acm", "apigatewayv2", "appautoscaling", "cloudfront", "cloudtrail", "cloudwatch", "ec2",
    "ecr", "ecs", "elasticache", "elbv2", "events", "iam", "kms", "lambda", "logs", "rds",
    "route53", "s3", "scheduler", "secretsmanager", "sns", "sqs", "ssm", "sts", "wafv2",
)
EMULATOR_CREDENTIALS = {"access_key": "test", "secret_key": "test"}


def context_flag(scope: Construct, key: str, where: str = "LaravelStack") -> bool:
    """A ``"true"``/``"false"`` context value (``App(context=...)``, ``CDKTF_CONTEXT_JSON``)."""
    value = scope.node.try_get_context(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise config_error(where, f"context {key!r}", value, "must be 'true' or 'false'",
                       f"pass --context {key}=true, or leave it out (false)", kind="shape")


def emulator_provider(endpoint: str) -> dict[str, Any]:
    """AWS provider arguments that send every call to ``endpoint`` with dummy credentials."""
    services = {("lambda_" if s == "lambda" else s): endpoint for s in ENDPOINT_SERVICES}
    return {
        **EMULATOR_CREDENTIALS,
        "skip_credentials_validation": True, "skip_requesting_account_id": True,
        "skip_metadata_api_check": "true", "s3_use_path_style": True,
        "endpoints": [cdk.struct("provider", "AwsProviderEndpoints", **services)],
    }


class LaravelStack(cdk.TerraformStack):
    """A TerraformStack with the AWS provider in a concrete region and default tags.

    The provider constraint admits the 5.100 line as well as the 6.x line the bindings
    were generated from, so stacks validate offline and deploy on current providers.
    ``state`` keeps the Terraform state in S3; without it the state is a local file, which
    holds the generated values (cache password, origin secret) in plain text, so the stack
    warns at synth (``LocalStateWarning``) unless ``allow_local_state=True``.

    ``ephemeral`` (default False; context ``serverless-laravel:ephemeral`` = ``"true"`` turns
    it on for every stack) makes a preview or CI environment that one ``destroy`` removes:
    constructs that find it with ``LaravelStack.of`` drop deletion protection and final
    snapshots, recover secrets in 0 days and empty buckets on destroy, unless their own props
    say otherwise. ``endpoint`` (context ``serverless-laravel:endpoint``) points the provider
    at an emulator (every service in ``ENDPOINT_SERVICES``, dummy credentials, path-style S3)
    and keeps the state in ``terraform.tfstate`` beside the stack, whatever ``state`` says.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        region: str,
        tags: dict[str, str] | None = None,
        state: S3State | None = None,
        allow_local_state: bool = False,
        ephemeral: bool = False,
        endpoint: str | None = None,
        **provider_options: Any,
    ) -> None:
        check_region(region)
        if state is not None and not isinstance(state, S3State):
            raise config_error("LaravelStack", "state", state, "must be an S3State",
                               "pass state=S3State(bucket='my-terraform-state')", kind="type")
        check_bool("LaravelStack", "allow_local_state", allow_local_state)
        check_bool("LaravelStack", "ephemeral", ephemeral)
        if tags is not None and (not isinstance(tags, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        )):
            raise config_error("LaravelStack", "tags", tags,
                               "must map strings to strings (AWS tags are strings)",
                               "pass e.g. tags={'Team': 'platform', 'CostCenter': '42'}")
        endpoint = check_endpoint("LaravelStack", "endpoint", endpoint) \
            if endpoint is not None else check_endpoint(
                "LaravelStack", f"context {CONTEXT_ENDPOINT!r}",
                scope.node.try_get_context(CONTEXT_ENDPOINT))
        ephemeral = ephemeral or context_flag(scope, CONTEXT_EPHEMERAL)
        super().__init__(scope, id)
        self.region = region
        self.partition = partition_of(region)
        self.ephemeral: bool = ephemeral
        self.endpoint: str | None = endpoint
        all_tags = {"ManagedBy": "serverless-laravel", "Stack": id, **(tags or {})}
        if endpoint is not None:
            provider_options = {**provider_options, **emulator_provider(endpoint)}
        self.provider = cdk.aws("provider").AwsProvider(
            self, "aws", region=region, default_tags=[{"tags": all_tags}], **provider_options
        )
        self.add_override("terraform.required_providers.aws.version", cdk.AWS_PROVIDER_CONSTRAINT)
        self.state = state
        if endpoint is not None:
            self.state = None
            cdk.core.LocalBackend(self, path="terraform.tfstate")
        elif state is not None:
            cdk.core.S3Backend(
                self, bucket=state.bucket, key=state.key or f"{id}/terraform.tfstate",
                region=state.region or region, encrypt=True, kms_key_id=state.kms_key_arn,
            )
            self.add_override("terraform.backend.s3.use_lockfile", True)
        elif not allow_local_state:
            cdk.add_check(self, self._warn_local_state)

    def _warn_local_state(self) -> None:
        """Warn, at synth, when no backend was configured by any means."""
        if not any(isinstance(c, cdk.core.TerraformBackend) for c in self.node.children):
            warnings.warn(
                f"{self.node.id}: Terraform state stays in a local file, which holds generated "
                "secrets (cache password, origin secret) in plain text; pass "
                "state=S3State(bucket=...) (encrypted, locked), or allow_local_state=True for "
                "throwaway stacks", LocalStateWarning, stacklevel=2)

    @staticmethod
    def of(construct: Construct) -> LaravelStack | None:
        """The LaravelStack ``construct`` is in, or None (a plain TerraformStack, no stack)."""
        for scope in reversed(construct.node.scopes):
            if isinstance(scope, LaravelStack):
                return scope
        return None


def is_ephemeral(construct: Construct) -> bool:
    """Whether ``construct`` lives in an ephemeral (preview, CI) LaravelStack."""
    stack = LaravelStack.of(construct)
    return bool(stack is not None and stack.ephemeral)


def region_of(construct: Construct, explicit: str | None = None, where: str = "") -> str:
    """The concrete region a construct deploys to: explicit, else its stack's default provider."""
    if explicit is not None:
        return check_region(explicit, where)
    stack = cdk.TerraformStack.of(construct)
    region = getattr(stack, "region", None)
    if region is None:
        provider_cls = cdk.aws("provider").AwsProvider
        providers = [
            c for c in stack.node.children
            if isinstance(c, provider_cls) and not getattr(c, "alias", None)
        ]
        region = providers[0].region if providers else None
    if region is None:
        raise config_error(
            where,
            "region",
            None,
            "the stack has no AWS provider with a region and none was passed",
            "build the stack with LaravelStack(app, id, region='eu-west-1') or pass region=",
            kind="missing",
        )
    return check_region(region, where)

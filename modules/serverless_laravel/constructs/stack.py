"""The stack a Laravel deployment lives in: one AWS provider in one concrete region."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

from .. import cdk
from ..cdk import Construct
from ..checks import check_bool, check_kms_key_arn
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


class LaravelStack(cdk.TerraformStack):
    """A TerraformStack with the AWS provider in a concrete region and default tags.

    The provider constraint admits the 5.100 line as well as the 6.x line the bindings
    were generated from, so stacks validate offline and deploy on current providers.
    ``state`` keeps the Terraform state in S3; without it the state is a local file, which
    holds the generated values (cache password, origin secret) in plain text, so the stack
    warns at synth (``LocalStateWarning``) unless ``allow_local_state=True``.
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
        **provider_options: Any,
    ) -> None:
        check_region(region)
        if state is not None and not isinstance(state, S3State):
            raise config_error("LaravelStack", "state", state, "must be an S3State",
                               "pass state=S3State(bucket='my-terraform-state')", kind="type")
        check_bool("LaravelStack", "allow_local_state", allow_local_state)
        if tags is not None and (not isinstance(tags, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        )):
            raise config_error("LaravelStack", "tags", tags,
                               "must map strings to strings (AWS tags are strings)",
                               "pass e.g. tags={'Team': 'platform', 'CostCenter': '42'}")
        super().__init__(scope, id)
        self.region = region
        self.partition = partition_of(region)
        all_tags = {"ManagedBy": "serverless-laravel", "Stack": id, **(tags or {})}
        self.provider = cdk.aws("provider").AwsProvider(
            self, "aws", region=region, default_tags=[{"tags": all_tags}], **provider_options
        )
        self.add_override("terraform.required_providers.aws.version", cdk.AWS_PROVIDER_CONSTRAINT)
        self.state = state
        if state is not None:
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

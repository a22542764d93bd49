"""The stack a Laravel deployment lives in: one AWS provider in one concrete region."""

from __future__ import annotations

import re
from typing import Any

from .. import cdk
from ..cdk import Construct
from ..errors import config_error

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


def partition_of(region: str) -> str:
    """The AWS partition of a region name (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


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


class LaravelStack(cdk.TerraformStack):
    """A TerraformStack with the AWS provider in a concrete region and default tags.

    The provider constraint admits the 5.100 line as well as the 6.x line the bindings
    were generated from, so stacks validate offline and deploy on current providers.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        region: str,
        tags: dict[str, str] | None = None,
        **provider_options: Any,
    ) -> None:
        check_region(region)
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

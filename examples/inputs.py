"""What differs from one account to the next, as Terraform variables of the example stacks.

The team's VPC, subnets and security groups, the APP_KEY parameter, the deploy role, the domain
and its certificate, the images: each example stack declares the variables it uses (no default,
so a stack is never planned against made-up ids), and Terraform checks the shape of every value
before it plans. Give the values in a tfvars file (``terraform apply -var-file=example.tfvars``;
each example folder has an ``example.tfvars`` with fake values to copy) or as ``TF_VAR_<name>``.

``STACK_INPUTS`` names the variables of each stack and ``example_values`` gives the fake values
of ``example.tfvars``, for tests and the emulator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serverless_laravel import S3State
from serverless_laravel.cdk import Construct, TerraformVariable, core

EXAMPLES = Path(__file__).resolve().parent
_HEX_ID = "[0-9a-f]{8,17}"
_ACCOUNT = "[0-9]{12}"
# Names as AWS allows them, never an IAM wildcard: these ARNs become policy resources.
_PARAMETER_NAME = "[A-Za-z0-9_./-]+"
_SECRET_NAME = "[A-Za-z0-9/_+=.@-]+"


@dataclass(frozen=True)
class Input:
    """One variable: its HCL type, what it is, the regex each value must match, and a fake
    value for ``example.tfvars`` (a list for ``list(string)``)."""

    name: str
    description: str
    pattern: str
    example: str | tuple[str, ...]
    minimum: int = 1

    @property
    def is_list(self) -> bool:
        return isinstance(self.example, tuple)

    @property
    def type(self) -> str:
        return "list(string)" if self.is_list else "string"

    def condition(self) -> str:
        """The validation condition Terraform evaluates (a JSON template expression)."""
        regex = json.dumps(self.pattern)
        if not self.is_list:
            return f"${{can(regex({regex}, var.{self.name}))}}"
        return (f"${{length(var.{self.name}) >= {self.minimum} && "
                f"length(distinct(var.{self.name})) == length(var.{self.name}) && "
                f"alltrue([for v in var.{self.name} : can(regex({regex}, v))])}}")

    def error_message(self) -> str:
        if not self.is_list:
            return f"{self.name} must match {self.pattern}, e.g. {self.example}."
        return (f"{self.name} must list at least {self.minimum} distinct values, each matching "
                f"{self.pattern}, e.g. {self.example[0]}.")

    def declare(self, scope: Construct) -> Any:
        """The variable in ``scope`` (a stack); its value as a token (a list token for lists)."""
        variable = TerraformVariable(
            scope, self.name, type=self.type, description=self.description, nullable=False,
            validation=[core.TerraformVariableValidationConfig(
                condition=self.condition(), error_message=self.error_message())])
        return tuple(variable.list_value) if self.is_list else variable.string_value


def _ids(prefix: str, *examples: str, minimum: int = 1, what: str) -> Input:
    name = what.split(":", 1)[0]
    return Input(name, what.split(":", 1)[1].strip(), f"^{prefix}-{_HEX_ID}$",
                 tuple(examples), minimum)


INPUTS: dict[str, Input] = {i.name: i for i in (
    Input("vpc_id", "The existing VPC the stack runs in.", f"^vpc-{_HEX_ID}$",
          "vpc-0a1b2c3d4e5f67890"),
    _ids("subnet", "subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", minimum=2,
         what="private_subnet_ids: Private subnets of that VPC, in 2 or more Availability "
              "Zones (functions, tasks, cache, database, proxy)."),
    _ids("subnet", "subnet-0b1c2d3e4f5a60718", "subnet-0e1d2c3b4a5f69788", minimum=2,
         what="public_subnet_ids: Public subnets (a route to an internet gateway) in 2 or more "
              "Availability Zones, for the load balancer."),
    _ids("sg", "sg-0123456789abcdef0",
         what="function_security_group_ids: Existing security groups of the functions: their "
              "egress (443 to AWS APIs through a NAT gateway or VPC endpoints)."),
    _ids("sg", "sg-0123456789abcdef0",
         what="task_security_group_ids: Existing security groups of the Fargate tasks: their "
              "egress (443 to AWS APIs and ECR through a NAT gateway or VPC endpoints)."),
    _ids("sg", "sg-0123456789abcdef0",
         what="egress_security_group_ids: Existing security groups of the test runner: 443 out "
              "to the VPC endpoints (S3, Secrets Manager, SSM) or a NAT gateway."),
    Input("app_key_parameter_arn", "ARN of the SSM SecureString parameter holding APP_KEY.",
          f"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:{_ACCOUNT}:parameter/{_PARAMETER_NAME}$",
          "arn:aws:ssm:us-east-1:123456789012:parameter/example-laravel/app-key"),
    Input("testing_app_key_parameter_arn",
          "ARN of the SSM SecureString parameter holding the test suite's APP_KEY.",
          f"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:{_ACCOUNT}:parameter/{_PARAMETER_NAME}$",
          "arn:aws:ssm:eu-west-1:123456789012:parameter/example-laravel/testing-app-key"),
    Input("deploy_role_name", "Name (not ARN) of the existing IAM role the deploy pipeline "
          "runs as; it runs the database's bootstrap SQL once.", "^[A-Za-z0-9+=,.@_-]{1,64}$",
          "example-laravel-deploy"),
    Input("domain_name", "The public name of the app (its DNS record is yours to create).",
          "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", "app.example.com"),
    Input("certificate_arn", "ACM certificate for domain_name (CloudFront and the load balancer "
          "take it from us-east-1, where these examples run).",
          f"^arn:aws[a-z-]*:acm:us-east-1:{_ACCOUNT}:certificate/[0-9a-f-]{{36}}$",
          "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8899-aabbccddeeff"),
    Input("php_image_uri", "The app's php-fpm image in ECR, by tag or digest.",
          "^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+"
          "(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$",
          "123456789012.dkr.ecr.us-east-1.amazonaws.com/example-laravel/php:1.0.0"),
    Input("nginx_image_uri", "The nginx image in front of php-fpm, in ECR.",
          "^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+"
          "(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$",
          "123456789012.dkr.ecr.us-east-1.amazonaws.com/example-laravel/nginx:1.0.0"),
    Input("image_tag", "Tag of the test runner image pushed to the stack's ECR repository.",
          "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", "2026-11-30-3f1c2a9"),
    Input("test_database", "Identifier of the existing RDS instance kept for tests.",
          "^[a-zA-Z][a-zA-Z0-9-]{0,62}$", "laravel-testing"),
    Input("test_database_security_group_id", "Security group of that test database (the "
          "stack adds one ingress rule from its proxy).", f"^sg-{_HEX_ID}$",
          "sg-0fedcba9876543210"),
    Input("app_secret_arn", "Secrets Manager secret of the test database's app user.",
          f"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:{_ACCOUNT}:secret:"
          f"{_SECRET_NAME}-[A-Za-z0-9]{{6}}$",
          "arn:aws:secretsmanager:eu-west-1:123456789012:secret:laravel-testing/app-AbC123"),
    Input("migration_secret_arn", "Secrets Manager secret of the test database's migration "
          "user (the test suite runs migrations).",
          f"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:{_ACCOUNT}:secret:"
          f"{_SECRET_NAME}-[A-Za-z0-9]{{6}}$",
          "arn:aws:secretsmanager:eu-west-1:123456789012:secret:laravel-testing/migrator-DeF456"),
)}

STACK_INPUTS: dict[str, tuple[str, ...]] = {
    "web-function": (),
    "serverless-laravel": ("vpc_id", "private_subnet_ids", "function_security_group_ids",
                           "app_key_parameter_arn", "deploy_role_name", "domain_name",
                           "certificate_arn"),
    "fargate-baseline": ("vpc_id", "private_subnet_ids", "public_subnet_ids",
                         "task_security_group_ids", "app_key_parameter_arn", "deploy_role_name",
                         "domain_name", "certificate_arn", "php_image_uri", "nginx_image_uri"),
    "test-runner": ("vpc_id", "private_subnet_ids", "egress_security_group_ids",
                    "testing_app_key_parameter_arn", "image_tag", "test_database",
                    "test_database_security_group_id", "app_secret_arn",
                    "migration_secret_arn"),
}
"""The variables each example stack declares, by stack id."""

TFVARS: dict[str, Path] = {
    "serverless-laravel": EXAMPLES / "serverless_laravel" / "example.tfvars",
    "fargate-baseline": EXAMPLES / "fargate_baseline" / "example.tfvars",
    "test-runner": EXAMPLES / "test_runner" / "example.tfvars",
}
"""The example tfvars file of each stack that has variables."""


def declare(scope: Construct, stack_id: str) -> dict[str, Any]:
    """Declare the variables of ``stack_id`` in ``scope``; their values (tokens) by name."""
    return {name: INPUTS[name].declare(scope) for name in STACK_INPUTS[stack_id]}


def example_values(stack_id: str) -> dict[str, str | list[str]]:
    """The fake values of ``stack_id``'s ``example.tfvars``, by variable name."""
    return {name: list(v) if isinstance(v := INPUTS[name].example, tuple) else v
            for name in STACK_INPUTS[stack_id]}


@dataclass(frozen=True)
class StackOptions:
    """What ``main.py`` decides for every example stack: the environment it is (a tag) and
    where its Terraform state lives (``state(stack_id)``; None keeps today's local state)."""

    environment: str | None = None
    state: Callable[[str], S3State | None] | None = None

    def stack_args(self, stack_id: str, tags: dict[str, str]) -> dict[str, Any]:
        """``LaravelStack`` keyword arguments for ``stack_id`` with its own ``tags``."""
        env_tag = {"Environment": self.environment} if self.environment else {}
        return {"tags": {**tags, **env_tag},
                "state": self.state(stack_id) if self.state is not None else None}


DEFAULT_OPTIONS = StackOptions()

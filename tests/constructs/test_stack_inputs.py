"""Ids known only at apply time (Terraform variables, list variables) pass the constructs' checks;
a literal with the wrong shape is still refused before anything is created."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_laravel import (
    Database,
    FargateCluster,
    LaravelStack,
    PhpFunction,
    PublicLoadBalancer,
    RedisCache,
    SecretRef,
    VpcConfig,
    cdk,
)
from serverless_laravel.cdk import App, TerraformVariable
from serverless_laravel.checks import check_subnet_ids, is_list_token, is_token
from serverless_laravel.errors import ConfigurationError
from tests.helpers import SUBNETS, VPC_ID, image_uri
from tests.synth import Stack, synthesize

CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8899-aabbccddeeff"


def variables(stack: LaravelStack) -> dict[str, Any]:
    """A string and three list variables, as the examples declare them."""
    return {
        "vpc": TerraformVariable(stack, "vpc_id", type="string").string_value,
        "subnets": tuple(TerraformVariable(stack, "subnets", type="list(string)").list_value),
        "public": tuple(TerraformVariable(stack, "public", type="list(string)").list_value),
        "groups": tuple(TerraformVariable(stack, "groups", type="list(string)").list_value),
        "role": TerraformVariable(stack, "role", type="string").string_value,
        "parameter": TerraformVariable(stack, "parameter", type="string").string_value,
    }


def build(app: App) -> None:
    stack = LaravelStack(app, "inputs", region="eu-west-1", allow_local_state=True)
    var = variables(stack)
    vpc = VpcConfig(var["subnets"], var["groups"])
    web = PhpFunction(stack, "web", image_uri=image_uri("eu-west-1"), vpc=vpc,
                      reserved_concurrency=10,
                      environment={"APP_KEY": SecretRef.ssm(var["parameter"]).env_value})
    cache = RedisCache(stack, "cache", vpc_id=var["vpc"], subnet_ids=var["subnets"])
    cache.connect(web)
    database = Database(stack, "database", vpc_id=var["vpc"], subnet_ids=var["subnets"])
    database.grant_bootstrap(var["role"])
    FargateCluster(stack, "cluster", vpc_id=var["vpc"], vpc=vpc)
    PublicLoadBalancer(stack, "alb", vpc_id=var["vpc"], subnet_ids=var["public"],
                       certificate_arn=CERTIFICATE)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    return synthesize(tmp_path_factory, "inputs", build)["inputs"]


def test_token_checks_never_recurse_and_see_list_tokens() -> None:
    stack = LaravelStack(App(), "tokens", region="eu-west-1", allow_local_state=True)
    var = variables(stack)
    assert is_token(var["vpc"]) and not is_token("vpc-0a1b2c3d4e5f67890")
    assert is_list_token(var["subnets"]) and not is_list_token(SUBNETS)
    assert not is_list_token((var["vpc"],))
    assert check_subnet_ids("Database", var["subnets"], minimum=2) == var["subnets"]


def test_list_variables_become_one_rule_per_group(stack: Stack) -> None:
    rules = stack.resources("aws_vpc_security_group_ingress_rule")
    from_functions = [r for r in rules.values() if r.get("for_each")]
    assert {r["for_each"] for r in from_functions} == {"${toset(var.groups)}"}
    assert {r["referenced_security_group_id"] for r in from_functions} == {"${each.value}"}


def test_eni_grants_name_every_subnet_and_group_of_the_variables(stack: Stack) -> None:
    statements = stack.role_statements("web/role")
    create = statements["CreateInterfaces"]["resources"]
    assert create.startswith("${concat([") and "network-interface/*" in create
    assert 'formatlist("arn:aws:ec2:eu-west-1:&{aws:PrincipalAccount}:subnet/%s", var.subnets)' \
        in create
    assert "security-group/%s\", var.groups)" in create
    condition = statements["ManageInterfaces"]["condition"][0]["values"]
    assert condition.startswith("${formatlist(") and "var.subnets" in condition


def test_resources_take_the_variables_whole(stack: Stack) -> None:
    database = stack.by_path("aws_db_subnet_group", "database/subnet-group")
    assert database["subnet_ids"] == "${var.subnets}"
    assert stack.by_path("aws_lb", "alb/load-balancer")["subnets"] == "${var.public}"
    policy = stack.by_path("aws_iam_role_policy", "database/bootstrap-var-role")
    assert policy["role"] == "${var.role}"


def test_a_token_parameter_arn_gives_its_name_through_terraform(stack: Stack) -> None:
    value = stack.by_path("aws_lambda_function", "web/function")["environment"]["variables"]
    assert value["APP_KEY"].startswith("bref-ssm:${replace(replace(var.parameter, ")


@pytest.mark.parametrize(
    ("build_bad", "code"),
    [
        (lambda s: Database(s, "db", vpc_id="vpc-nothex", subnet_ids=SUBNETS),
         "database.vpc_id.shape"),
        (lambda s: Database(s, "db", vpc_id=VPC_ID, subnet_ids=SUBNETS[:1]),
         "database.subnet_ids.shape"),
        (lambda s: VpcConfig(("subnet-zz",), ("sg-0123456789abcdef0",)),
         "vpc_config.vpc_subnet_ids.shape"),
        (lambda s: VpcConfig(SUBNETS, ("group-1",)), "vpc_config.vpc_security_group_ids.shape"),
        (lambda s: FargateCluster(s, "cluster", vpc_id=VPC_ID,
                                  vpc=VpcConfig(SUBNETS[:1], ("sg-0123456789abcdef0",))),
         "fargate_cluster.vpc_subnet_ids.count"),
        (lambda s: PublicLoadBalancer(s, "alb", vpc_id=VPC_ID, subnet_ids=SUBNETS[:1],
                                      certificate_arn=CERTIFICATE),
         "public_load_balancer.subnet_ids.shape"),
        (lambda s: Database(s, "db", vpc_id=VPC_ID, subnet_ids=SUBNETS).grant_bootstrap(
            "arn:aws:iam::123456789012:role/deploy"), "database.grant_bootstrap.shape"),
        (lambda s: SecretRef.ssm(TerraformVariable(s, "p", type="string").string_value,
                                 name="not a name"), "secret_ref.name.shape"),
    ],
)
def test_literal_values_are_still_checked(build_bad: Any, code: str) -> None:
    stack = LaravelStack(App(), "bad", region="eu-west-1", allow_local_state=True)
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        build_bad(stack)
    assert error.value.code == code
    if code != "database.grant_bootstrap.shape":
        assert len(stack.node.children) in (before, before + 1)  # at most the variable


def test_plain_lists_stay_plain() -> None:
    assert cdk.expand_lists(["a", "b%"]) == ["a", "b%"]

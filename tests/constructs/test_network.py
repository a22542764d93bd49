"""Connections: security-group paths opened by ``x.connections.allow_from(y, port)``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from serverless_laravel import (
    Connectable,
    Connections,
    Database,
    DatabaseProxy,
    LaravelStack,
    PhpFunction,
    RedisCache,
    VpcConfig,
    cdk,
)
from serverless_laravel.cdk import App
from serverless_laravel.constructs.network import PrivateSecurityGroup
from serverless_laravel.errors import ConfigurationError
from tests.helpers import SUBNETS, VPC_ID, image_uri

IMAGE = image_uri("eu-west-1")
WEB_SG = "sg-0123456789abcdef0"
SERVICE_SG = "sg-0fedcba9876543210"


class FargateLikeService:
    """Any construct with security groups is Connectable: here, a service from another stack."""

    def __init__(self) -> None:
        self.connections = Connections("service", security_group_ids=(SERVICE_SG,))


@pytest.fixture
def stack() -> LaravelStack:
    return LaravelStack(App(), "network", region="eu-west-1")


def ingress(stack: LaravelStack) -> list[tuple[str, int, str]]:
    """(source group, port, description) of every ingress rule in the stack."""
    doc = json.loads(cdk.Testing.synth(stack))
    rules: dict[str, Any] = doc["resource"].get("aws_vpc_security_group_ingress_rule", {})
    return sorted((r["referenced_security_group_id"], r["from_port"], r["description"])
                  for r in rules.values())


def test_any_connectable_reaches_the_cache_and_the_proxy_with_one_call(stack: LaravelStack) -> None:
    service = FargateLikeService()
    web = PhpFunction(stack, "web", image_uri=IMAGE, vpc=VpcConfig(SUBNETS, (WEB_SG,)))
    cache = RedisCache(stack, "cache", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    database = Database(stack, "db", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, database=database)
    assert isinstance(service, Connectable) and isinstance(web, Connectable)

    cache.connections.allow_from(service)
    proxy.connections.allow_from(service)
    web.connections.allow_to(cache, 6379)

    rules = ingress(stack)
    assert (SERVICE_SG, 6379, "service to the cache") in rules
    assert (SERVICE_SG, 6380, "service to the cache") in rules
    assert (SERVICE_SG, 5432, "service to RDS Proxy") in rules
    assert (WEB_SG, 6379, "web to the cache") in rules
    assert (WEB_SG, 6380, "web to the cache") not in rules


def test_the_same_path_twice_is_one_rule(stack: LaravelStack) -> None:
    cache = RedisCache(stack, "cache", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    service = FargateLikeService()
    cache.connections.allow_from(service, 6379)
    cache.allow_from(service)
    assert [r for r in ingress(stack) if r[1] == 6379] == [(SERVICE_SG, 6379,
                                                             "service to the cache")]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c, f: c.connections.allow_from("sg-0123456789abcdef0"),
         "connections.other.type"),
        (lambda c, f: c.connections.allow_from(f, port=0), "connections.port.range"),
        (lambda c, f: c.connections.allow_from(f, port=True), "connections.port.range"),
        (lambda c, f: f.connections.allow_from(c, 443), "connections.target.not_owned"),
        (lambda c, f: FargateLikeService().connections.allow_to(f), "connections.target.not_owned"),
    ],
)
def test_bad_paths_are_refused_before_any_rule(stack: LaravelStack, call: Any, code: str) -> None:
    cache = RedisCache(stack, "cache", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    web = PhpFunction(stack, "web", image_uri=IMAGE, vpc=VpcConfig(SUBNETS, (WEB_SG,)))
    with pytest.raises(ConfigurationError) as error:
        call(cache, web)
    assert error.value.code == code
    assert ingress(stack) == []


def test_a_function_outside_the_vpc_names_itself(stack: LaravelStack) -> None:
    cache = RedisCache(stack, "cache", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    lonely = PhpFunction(stack, "lonely", image_uri=IMAGE)
    with pytest.raises(ConfigurationError, match="lonely runs outside the VPC") as error:
        cache.connections.allow_from(lonely)
    assert error.value.code == "connections.vpc.outside_vpc"
    assert "VpcConfig" in error.value.fix


def test_a_port_is_required_where_the_target_has_no_default(stack: LaravelStack) -> None:
    group = PrivateSecurityGroup(stack, "bare", vpc_id=VPC_ID, description="no default port")
    bare = Connections("bare", owned=group)
    with pytest.raises(ConfigurationError) as error:
        bare.allow_from(FargateLikeService())
    assert error.value.code == "connections.port.missing"
    bare.allow_from(FargateLikeService(), 8080)
    assert ingress(stack) == [(SERVICE_SG, 8080, "service to bare")]

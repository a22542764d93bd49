"""Deploy ``test_runner`` on the emulator: a proxy in front of the existing test database, the
runner as an image function and a Fargate task, its results bucket."""

from __future__ import annotations

from tests.deploy.lifecycle import (
    Deployed,
    deployed_fixture,
    destroy_leaves_nothing,
    marks,
    second_plan_proposes_only_listed_quirks,
)

pytestmark = marks()
deployed = deployed_fixture("test_runner")
PREFIX = "test-runner"


def test_runner_function_is_the_tagged_image_in_the_vpc(deployed: Deployed) -> None:
    network = deployed.deployment.account.networks["eu-west-1"]
    outputs = deployed.outputs()
    config = deployed.client("lambda").get_function(FunctionName=outputs["function_name"])[
        "Configuration"]
    assert config["PackageType"] == "Image"
    assert config["Timeout"] == 900
    assert sorted(config["VpcConfig"]["SubnetIds"]) == sorted(network.private_subnet_ids)
    code = deployed.client("lambda").get_function(FunctionName=outputs["function_name"])["Code"]
    assert code["ImageUri"] == f"{outputs['repository_url']}:2026-11-30-3f1c2a9"


def test_repository_tags_are_immutable(deployed: Deployed) -> None:
    (repository,) = deployed.client("ecr").describe_repositories(
        repositoryNames=[f"{PREFIX}-runner"])["repositories"]
    assert repository["imageTagMutability"] == "IMMUTABLE"


def test_fargate_task_is_defined_in_the_cluster(deployed: Deployed) -> None:
    outputs = deployed.outputs()
    task = deployed.client("ecs").describe_task_definition(
        taskDefinition=outputs["task_definition_arn"])["taskDefinition"]
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert (task["cpu"], task["memory"]) == ("1024", "2048")
    assert outputs["cluster_arn"].endswith(f":cluster/{PREFIX}-cluster")


def test_proxy_fronts_the_existing_database_with_its_users_secrets(deployed: Deployed) -> None:
    account = deployed.deployment.account
    rds = deployed.client("rds")
    (proxy,) = rds.describe_db_proxies(DBProxyName=f"{PREFIX}-proxy")["DBProxies"]
    assert proxy["RequireTLS"] is True
    assert sorted(a["SecretArn"] for a in proxy["Auth"]) == sorted(
        [account.secret_arns["eu-west-1:app"], account.secret_arns["eu-west-1:migrator"]])
    targets = rds.describe_db_proxy_targets(DBProxyName=f"{PREFIX}-proxy")["Targets"]
    assert [t.get("RdsResourceId") for t in targets] == ["laravel-testing"]


def test_results_bucket_blocks_public_access(deployed: Deployed) -> None:
    bucket = deployed.outputs()["results_bucket"]
    block = deployed.emulator.client("s3", "eu-west-1").get_public_access_block(Bucket=bucket)
    assert set(block["PublicAccessBlockConfiguration"].values()) == {True}


test_second_plan_proposes_only_listed_quirks = second_plan_proposes_only_listed_quirks
test_destroy_leaves_nothing = destroy_leaves_nothing

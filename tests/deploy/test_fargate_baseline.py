"""Deploy ``fargate_baseline`` on the emulator: ALB (+ WAF) to nginx/php-fpm on Fargate, a
worker service, ``schedule:run`` as a scheduled task, Valkey, PostgreSQL behind RDS Proxy."""

from __future__ import annotations

import json

from tests.deploy.lifecycle import (
    Deployed,
    deployed_fixture,
    destroy_leaves_nothing,
    marks,
    second_plan_proposes_only_listed_quirks,
)

pytestmark = marks()
deployed = deployed_fixture("fargate_baseline")
PREFIX = "fargate-baseline"


def test_task_definitions_are_fargate_tasks_of_the_given_images(deployed: Deployed) -> None:
    ecs = deployed.client("ecs")
    web = ecs.describe_task_definition(taskDefinition=f"{PREFIX}-web-task")["taskDefinition"]
    assert web["requiresCompatibilities"] == ["FARGATE"]
    assert (web["networkMode"], web["cpu"], web["memory"]) == ("awsvpc", "512", "1024")
    images = {c["name"]: c["image"] for c in web["containerDefinitions"]}
    assert sorted(images.values()) == sorted([
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/example-laravel/php:1.0.0",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/example-laravel/nginx:1.0.0"])
    assert web["taskRoleArn"] != web["executionRoleArn"]
    for family in ("worker", "scheduler"):
        task = ecs.describe_task_definition(taskDefinition=f"{PREFIX}-{family}-task")
        assert task["taskDefinition"]["requiresCompatibilities"] == ["FARGATE"]


def test_services_run_in_the_private_subnets(deployed: Deployed) -> None:
    network = deployed.deployment.account.networks["us-east-1"]
    ecs = deployed.client("ecs")
    services = ecs.describe_services(cluster=f"{PREFIX}-cluster",
                                     services=[f"{PREFIX}-web", f"{PREFIX}-worker"])["services"]
    assert {s["serviceName"]: s["desiredCount"] for s in services} == {
        f"{PREFIX}-web": 2, f"{PREFIX}-worker": 1}
    for service in services:
        vpc = service["networkConfiguration"]["awsvpcConfiguration"]
        assert sorted(vpc["subnets"]) == sorted(network.private_subnet_ids)
        assert vpc.get("assignPublicIp", "DISABLED") == "DISABLED"


def test_load_balancer_serves_https_and_redirects_http(deployed: Deployed) -> None:
    elbv2 = deployed.client("elbv2")
    (balancer,) = elbv2.describe_load_balancers(Names=[f"{PREFIX}-alb"])["LoadBalancers"]
    assert balancer["Type"] == "application"
    listeners = {listener["Port"]: listener for listener in elbv2.describe_listeners(
        LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]}
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == (
        deployed.deployment.account.certificate_arn)
    assert listeners[80]["DefaultActions"][0]["Type"] == "redirect"


def test_scheduled_task_runs_schedule_run(deployed: Deployed) -> None:
    schedule = deployed.client("scheduler").get_schedule(Name=f"{PREFIX}-scheduler")
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    assert schedule["Target"]["Arn"].endswith(f":cluster/{PREFIX}-cluster")
    assert schedule["Target"]["EcsParameters"]["TaskDefinitionArn"].split("/")[-1].startswith(
        f"{PREFIX}-scheduler-task:")


def test_queue_redrives_and_buckets_block_public_access(deployed: Deployed) -> None:
    sqs = deployed.client("sqs")
    urls = sqs.list_queues(QueueNamePrefix=PREFIX)["QueueUrls"]
    redriven = [json.loads(attributes["RedrivePolicy"]) for attributes in (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for url in urls) if "RedrivePolicy" in attributes]
    assert len(redriven) == 1 and redriven[0]["maxReceiveCount"] > 0
    s3 = deployed.emulator.client("s3", "us-east-1")
    for bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert set(block.values()) == {True}, bucket


def test_proxy_requires_tls(deployed: Deployed) -> None:
    (proxy,) = deployed.client("rds").describe_db_proxies(DBProxyName=f"{PREFIX}-proxy")[
        "DBProxies"]
    assert proxy["RequireTLS"] is True
    assert {a["AuthScheme"] for a in proxy["Auth"]} == {"SECRETS"}


test_second_plan_proposes_only_listed_quirks = second_plan_proposes_only_listed_quirks
test_destroy_leaves_nothing = destroy_leaves_nothing

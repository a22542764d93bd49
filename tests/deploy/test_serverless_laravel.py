"""Deploy ``serverless_laravel`` on the emulator: CloudFront + WAF + HTTP API, the web, console
and worker functions in the VPC, queue, schedule, Valkey, PostgreSQL behind RDS Proxy."""

from __future__ import annotations

import json
from typing import Any

from tests.deploy.lifecycle import (
    Deployed,
    deployed_fixture,
    destroy_leaves_nothing,
    marks,
    second_plan_proposes_only_listed_quirks,
)

pytestmark = marks()
deployed = deployed_fixture("serverless_laravel")
PREFIX = "serverless-laravel"
ACCOUNT = "123456789012"
LAYER = "arn:aws:lambda:us-east-1:873528684822:layer:php-84:21"


def function(deployed: Deployed, name: str) -> dict[str, Any]:
    return deployed.client("lambda").get_function(FunctionName=f"{PREFIX}-{name}")[
        "Configuration"]


def test_functions_run_php_on_brefs_layer_in_the_vpc(deployed: Deployed) -> None:
    network = deployed.deployment.account.networks["us-east-1"]
    handlers = {"laravel-web": "public/index.php", "laravel-console": "artisan",
                "jobs-worker": "Bref\\LaravelBridge\\Queue\\QueueHandler"}
    for name, handler in handlers.items():
        config = function(deployed, name)
        assert (config["Runtime"], config["Handler"]) == ("provided.al2023", handler)
        assert [layer["Arn"] for layer in config["Layers"]] == [LAYER]
        assert sorted(config["VpcConfig"]["SubnetIds"]) == sorted(network.private_subnet_ids)
        assert network.function_security_group_ids[0] in config["VpcConfig"]["SecurityGroupIds"]
        variables = config["Environment"]["Variables"]
        assert variables["APP_KEY"] == "bref-ssm:/example-laravel/app-key"
        assert variables["QUEUE_CONNECTION"] == "sqs"
        assert variables["DB_HOST"] == deployed.outputs()["database_proxy_endpoint"]


def test_queue_redrives_to_its_dead_letter_queue_and_is_encrypted(deployed: Deployed) -> None:
    sqs = deployed.client("sqs")
    attributes = {name: sqs.get_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName=f"{PREFIX}-{name}")["QueueUrl"],
        AttributeNames=["All"])["Attributes"] for name in ("jobs", "jobs-dlq")}
    dlq_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-jobs-dlq"
    assert json.loads(attributes["jobs"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
    assert json.loads(attributes["jobs-dlq"]["RedriveAllowPolicy"]) == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-jobs"]}
    assert {a["SqsManagedSseEnabled"] for a in attributes.values()} == {"true"}
    assert attributes["jobs"]["VisibilityTimeout"] == "360"
    assert "DenyInsecureTransport" in attributes["jobs"]["Policy"]


def test_worker_consumes_the_queue_through_its_live_alias(deployed: Deployed) -> None:
    (mapping,) = deployed.client("lambda").list_event_source_mappings(
        EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-jobs")["EventSourceMappings"]
    assert mapping["FunctionArn"].endswith(f":function:{PREFIX}-jobs-worker:live")
    assert mapping["State"] == "Enabled"


def test_api_routes_everything_to_the_web_alias(deployed: Deployed) -> None:
    api = deployed.client("apigatewayv2")
    (item,) = [a for a in api.get_apis()["Items"] if a["Name"] == f"{PREFIX}-laravel-api"]
    assert item["ProtocolType"] == "HTTP"
    (route,) = api.get_routes(ApiId=item["ApiId"])["Items"]
    (integration,) = api.get_integrations(ApiId=item["ApiId"])["Items"]
    assert (route["RouteKey"], route["Target"]) == (
        "$default", f"integrations/{integration['IntegrationId']}")
    assert route["AuthorizationType"] == "CUSTOM"
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert f":function:{PREFIX}-laravel-web:live/" in integration["IntegrationUri"]


def test_schedule_runs_schedule_run_on_the_console_every_minute(deployed: Deployed) -> None:
    schedule = deployed.client("scheduler").get_schedule(Name=f"{PREFIX}-scheduler")
    assert schedule["ScheduleExpression"] == "rate(1 minute)"
    assert schedule["Target"]["Arn"].endswith(f":function:{PREFIX}-laravel-console:live")
    assert json.loads(schedule["Target"]["Input"]) == "schedule:run"
    assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith(f":{PREFIX}-scheduler-dlq")


def test_function_logs_keep_30_days(deployed: Deployed) -> None:
    groups = deployed.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{PREFIX}-")["logGroups"]
    assert len(groups) == 4
    assert {g["retentionInDays"] for g in groups} == {30}


def test_worker_role_consumes_only_its_queue(deployed: Deployed) -> None:
    iam = deployed.emulator.client("iam", "us-east-1")
    role = function(deployed, "jobs-worker")["Role"].rsplit("/", 1)[-1]
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["ConsumeJobs"]["Resource"] == (
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-jobs")
    assert all("*" not in str(s["Action"]) for s in statements.values())


def test_every_bucket_blocks_public_access(deployed: Deployed) -> None:
    s3 = deployed.emulator.client("s3", "us-east-1")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert len(buckets) == 4
    for bucket in buckets:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert set(block.values()) == {True}, bucket


def test_proxy_requires_tls_and_reads_three_users_secrets(deployed: Deployed) -> None:
    rds = deployed.client("rds")
    (proxy,) = rds.describe_db_proxies(DBProxyName=f"{PREFIX}-proxy")["DBProxies"]
    assert proxy["RequireTLS"] is True
    assert len(proxy["Auth"]) == 3
    assert {a["AuthScheme"] for a in proxy["Auth"]} == {"SECRETS"}
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier=f"{PREFIX}-database")[
        "DBInstances"]
    assert instance["StorageEncrypted"] is True
    assert instance["DeletionProtection"] is False  # ephemeral: a preview tears down


def test_cache_is_valkey_behind_its_user_group(deployed: Deployed) -> None:
    elasticache = deployed.client("elasticache")
    (cache,) = elasticache.describe_serverless_caches(
        ServerlessCacheName=f"{PREFIX}-cache")["ServerlessCaches"]
    assert (cache["Engine"], cache["UserGroupId"]) == ("valkey", f"{PREFIX}-cache")
    (group,) = elasticache.describe_user_groups(UserGroupId=f"{PREFIX}-cache")["UserGroups"]
    assert sorted(group["UserIds"]) == [f"{PREFIX}-cache-app", f"{PREFIX}-cache-off"]


def test_cloudfront_serves_the_domain_with_a_published_function(deployed: Deployed) -> None:
    cloudfront = deployed.emulator.client("cloudfront", "us-east-1")
    distribution = cloudfront.get_distribution(Id=deployed.outputs()["laravel_distribution_id"])
    config = distribution["Distribution"]["DistributionConfig"]
    assert config["Aliases"]["Items"] == ["app.example.com"]
    assert config["WebACLId"]
    function_name = f"{PREFIX}-laravel-assets-forward-host"
    live = cloudfront.describe_function(Name=function_name, Stage="LIVE")
    assert live["FunctionSummary"]["FunctionMetadata"]["Stage"] == "LIVE"


test_second_plan_proposes_only_listed_quirks = second_plan_proposes_only_listed_quirks
test_destroy_leaves_nothing = destroy_leaves_nothing

"""What exists in the emulator, by kind: compared before apply and after destroy to prove a
destroy left nothing behind (and that a second apply starts from the same account)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.server import Emulator

Lister = Callable[[Any], list[str]]

# (service, kind, lister); regional services are listed in every region given, global once.
REGIONAL: tuple[tuple[str, str, Lister], ...] = (
    ("lambda", "functions", lambda c: [f["FunctionName"] for f in c.list_functions()["Functions"]]),
    ("lambda", "event source mappings",
     lambda c: [m["UUID"] for m in c.list_event_source_mappings()["EventSourceMappings"]]),
    ("logs", "log groups",
     lambda c: [g["logGroupName"] for g in c.describe_log_groups()["logGroups"]]),
    ("sqs", "queues", lambda c: c.list_queues().get("QueueUrls", [])),
    ("sns", "topics", lambda c: [t["TopicArn"] for t in c.list_topics()["Topics"]]),
    ("ec2", "security groups", lambda c: [
        g["GroupId"] for g in c.describe_security_groups()["SecurityGroups"]]),
    ("rds", "instances", lambda c: [
        d["DBInstanceIdentifier"] for d in c.describe_db_instances()["DBInstances"]]),
    ("rds", "proxies", lambda c: [p["DBProxyName"] for p in c.describe_db_proxies()["DBProxies"]]),
    ("rds", "parameter groups", lambda c: [
        g["DBParameterGroupName"] for g in c.describe_db_parameter_groups()["DBParameterGroups"]]),
    ("rds", "subnet groups", lambda c: [
        g["DBSubnetGroupName"] for g in c.describe_db_subnet_groups()["DBSubnetGroups"]]),
    ("elasticache", "users", lambda c: [u["UserId"] for u in c.describe_users()["Users"]]),
    ("elasticache", "user groups", lambda c: [
        g["UserGroupId"] for g in c.describe_user_groups()["UserGroups"]]),
    ("elasticache", "serverless caches", lambda c: [
        s["ServerlessCacheName"] for s in c.describe_serverless_caches()["ServerlessCaches"]]),
    ("secretsmanager", "secrets", lambda c: [s["Name"] for s in c.list_secrets()["SecretList"]]),
    ("ssm", "parameters", lambda c: [p["Name"] for p in c.describe_parameters()["Parameters"]]),
    ("apigatewayv2", "APIs", lambda c: [a["Name"] for a in c.get_apis()["Items"]]),
    ("scheduler", "schedules", lambda c: [s["Name"] for s in c.list_schedules()["Schedules"]]),
    ("events", "rules", lambda c: [r["Name"] for r in c.list_rules()["Rules"]]),
    ("cloudtrail", "trails", lambda c: [t["Name"] for t in c.describe_trails()["trailList"]]),
    ("cloudwatch", "alarms", lambda c: [
        a["AlarmName"] for a in c.describe_alarms()["MetricAlarms"]]),
    ("cloudwatch", "dashboards", lambda c: [
        d["DashboardName"] for d in c.list_dashboards()["DashboardEntries"]]),
    ("kms", "customer managed keys", lambda c: _customer_keys(c)),
    ("ecs", "clusters", lambda c: c.list_clusters()["clusterArns"]),
    ("ecs", "task definitions", lambda c: c.list_task_definitions(status="ACTIVE")[
        "taskDefinitionArns"]),
    ("ecr", "repositories", lambda c: [
        r["repositoryName"] for r in c.describe_repositories()["repositories"]]),
    ("elbv2", "load balancers", lambda c: [
        b["LoadBalancerName"] for b in c.describe_load_balancers()["LoadBalancers"]]),
    ("elbv2", "target groups", lambda c: [
        g["TargetGroupName"] for g in c.describe_target_groups()["TargetGroups"]]),
    ("application-autoscaling", "scalable targets", lambda c: [
        t["ResourceId"] for t in c.describe_scalable_targets(ServiceNamespace="ecs")[
            "ScalableTargets"]]),
    ("wafv2", "web ACLs (regional)", lambda c: [
        a["Name"] for a in c.list_web_acls(Scope="REGIONAL")["WebACLs"]]),
)
GLOBAL: tuple[tuple[str, str, Lister], ...] = (
    ("iam", "roles", lambda c: [r["RoleName"] for r in c.list_roles()["Roles"]]),
    ("s3", "buckets", lambda c: [b["Name"] for b in c.list_buckets()["Buckets"]]),
    ("cloudfront", "distributions", lambda c: [
        d["Id"] for d in c.list_distributions()["DistributionList"].get("Items", [])]),
    ("cloudfront", "functions", lambda c: [
        f["Name"] for f in c.list_functions()["FunctionList"].get("Items", [])]),
    ("cloudfront", "origin access controls", lambda c: [
        o["Id"] for o in c.list_origin_access_controls()["OriginAccessControlList"].get(
            "Items", [])]),
    ("wafv2", "web ACLs (CloudFront)", lambda c: [
        a["Name"] for a in c.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]]),
)


def _customer_keys(kms: Any) -> list[str]:
    """Keys not pending deletion, without the AWS managed ones (``alias/aws/...``), which AWS
    creates on first use (e.g. by Secrets Manager for an RDS managed password) and keeps."""
    managed = {a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]
               if a["AliasName"].startswith("alias/aws/")}
    return [k["KeyId"] for k in kms.list_keys()["Keys"] if k["KeyId"] not in managed
            and kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"]


def inventory(emulator: Emulator, regions: list[str]) -> dict[str, set[str]]:
    """Every listed resource, keyed ``"<region> <service> <kind>"``."""
    found: dict[str, set[str]] = {}
    for region in regions:
        for service, kind, lister in REGIONAL:
            found[f"{region} {service} {kind}"] = set(lister(emulator.client(service, region)))
    for service, kind, lister in GLOBAL:
        found[f"global {service} {kind}"] = set(lister(emulator.client(service, "us-east-1")))
    return found


def left_behind(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, set[str]]:
    """What ``after`` holds that ``before`` did not, by kind (empty when nothing was left)."""
    return {kind: after[kind] - before.get(kind, set())
            for kind in after if after[kind] - before.get(kind, set())}

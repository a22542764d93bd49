"""The Fargate baseline (cluster, load balancer, web and worker services, scheduled task),
synthesized once per module and asserted on the Terraform JSON; bad props leave nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from serverless_laravel import (
    Database,
    DatabaseProxy,
    FargateCluster,
    JobQueue,
    LaravelStack,
    PhpContainer,
    PrivateBucket,
    PublicLoadBalancer,
    RedisCache,
    ScheduledTask,
    SecretRef,
    TaskOptions,
    VpcConfig,
    WebService,
    WorkerService,
)
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError
from tests.helpers import SUBNETS, VPC_ID, image_uri, kms_key, ref
from tests.synth import Stack, synthesize

REGION = "eu-west-1"
PHP_IMAGE = image_uri(REGION)
NGINX_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/nginx@sha256:" + "a" * 64
PUBLIC = ("subnet-0b1c2d3e4f5a60718", "subnet-0e1d2c3b4a5f69788")
EGRESS_SG = "sg-0123456789abcdef0"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
APP_KEY = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/app-key"
MAIL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/mail-AbC123"
KEY = kms_key(REGION)
WEB_ACL = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shared/0a1b2c3d-4e5f-6789"
DB_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbC123"
DB_APP_SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-app-DeF456"
BUILT: dict[str, Any] = {}


def php(**changes: Any) -> PhpContainer:
    props: dict[str, Any] = {
        "image_uri": PHP_IMAGE,
        "secrets": {"APP_KEY": SecretRef.ssm(APP_KEY),
                    "MAIL_PASSWORD": SecretRef.secrets_manager(MAIL, kms_key_arn=KEY)},
        "environment": {"APP_ENV": "production"},
    }
    return PhpContainer(**(props | changes))


def build(app: App) -> None:
    stack = LaravelStack(app, "fargate", region=REGION)
    storage = PrivateBucket(stack, "storage", bucket_prefix="laravel-storage-")
    jobs = JobQueue(stack, "jobs", kms_key_arn=KEY, visibility_timeout=300)
    cache = RedisCache(stack, "cache", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    database = Database(stack, "database", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, database=database)
    cluster = FargateCluster(stack, "cluster", vpc_id=VPC_ID, vpc=VpcConfig(SUBNETS, (EGRESS_SG,)))
    alb = PublicLoadBalancer(stack, "alb", vpc_id=VPC_ID, subnet_ids=PUBLIC,
                             certificate_arn=CERTIFICATE, waf_rate_limit=2000,
                             ip_address_type="dualstack")
    web = WebService(stack, "web", cluster=cluster, load_balancer=alb, php=php(),
                     nginx_image_uri=NGINX_IMAGE, min_tasks=2, max_tasks=8,
                     requests_per_target=1000, php_fpm_max_children=12)
    worker = WorkerService(stack, "worker", cluster=cluster, php=php(), queue=jobs,
                           task=TaskOptions(cpu=1024, memory=2048, architecture="arm64"),
                           max_tasks=4, job_timeout=240)
    scheduler = ScheduledTask(stack, "scheduler", cluster=cluster, php=php())
    for service in (web, worker, scheduler):
        cache.connections.allow_from(service)
        proxy.connections.allow_from(service)
        service.wire(cache, proxy)
        storage.grant_read_write(service)
    web.wire(jobs)
    BUILT.update(proxy=proxy, web=web, worker=worker, scheduler=scheduler, alb=alb)

    other = LaravelStack(app, "options", region=REGION)
    cluster = FargateCluster(other, "cluster", vpc_id=VPC_ID, vpc=VpcConfig(SUBNETS, (EGRESS_SG,)),
                             container_insights="enhanced")
    alb = PublicLoadBalancer(other, "alb", vpc_id=VPC_ID, subnet_ids=PUBLIC,
                             certificate_arn=CERTIFICATE, web_acl_arn=WEB_ACL,
                             security_headers=False, deletion_protection=False,
                             ssl_policy="ELBSecurityPolicy-TLS13-1-3-2021-06")
    web = WebService(other, "web", cluster=cluster, load_balancer=alb,
                     php=php(user=None, read_only_root_filesystem=False),
                     nginx_image_uri=NGINX_IMAGE, cpu_target=None, requests_per_target=500,
                     task=TaskOptions(enable_execute_command=True, log_retention_days=90,
                                      kms_key_arn=KEY))
    proxy = DatabaseProxy(other, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, engine="mysql",
                          db_cluster_identifier="legacy", secret_arn=DB_SECRET,
                          app_secret_arn=DB_APP_SECRET,
                          database_name="shop", username="shop", max_connections=1000,
                          iam_auth=True)
    proxy.connections.allow_from(web)
    web.wire(proxy)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "fargate", build)


@pytest.fixture(scope="module")
def stack(stacks: dict[str, Stack]) -> Stack:
    return stacks["fargate"]


@pytest.fixture(scope="module")
def options(stacks: dict[str, Stack]) -> Stack:
    return stacks["options"]


# Readers.

# A Terraform interpolation inside the container definitions' JSON text; its own string
# literals carry unescaped quotes until Terraform evaluates it.
_EXPRESSION = re.compile(r'\$\{(?:[^{}"]|"(?:[^"\\]|\\.)*")*\}')


def containers(stack: Stack, path: str) -> dict[str, dict[str, Any]]:
    """The container definitions of the task at ``<path>/task``, by container name."""
    text = stack.by_path("aws_ecs_task_definition", f"{path}/task/definition")[
        "container_definitions"]
    valid = _EXPRESSION.sub(lambda m: m.group(0).replace('"', '\\"'), text)
    return {c["name"]: c for c in json.loads(valid)}


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v["value"] for v in container["environment"]}


def secrets_of(container: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v["valueFrom"] for v in container["secrets"]}


def group(stack: Stack, path: str) -> str:
    return ref(stack, "aws_security_group", f"{path}/security-group/group", "id")


def rules(stack: Stack, kind: str, group_ref: str) -> list[tuple[Any, ...]]:
    """(source or target, port) of every ``kind`` rule on the group ``group_ref``."""
    return sorted(
        (r.get("referenced_security_group_id") or r.get("cidr_ipv4") or r.get("cidr_ipv6"),
         r["from_port"], r["to_port"], r["ip_protocol"])
        for r in stack.resources(f"aws_vpc_security_group_{kind}_rule").values()
        if r["security_group_id"] == group_ref)


def statements(stack: Stack, role_path: str) -> dict[str, dict[str, Any]]:
    return {sid: {k: v for k, v in s.items() if k != "sid"}
            for sid, s in stack.role_statements(role_path).items()}


# The load balancer.

def test_https_listener_uses_a_tls13_policy_and_the_certificate(stack: Stack) -> None:
    https = stack.by_path("aws_lb_listener", "alb/https")
    assert https["port"] == 443 and https["protocol"] == "HTTPS"
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    assert https["certificate_arn"] == CERTIFICATE
    assert https["load_balancer_arn"] == ref(stack, "aws_lb", "alb/load-balancer", "arn")
    assert https["default_action"] == [{
        "type": "forward",
        "target_group_arn": ref(stack, "aws_lb_target_group", "web/target-group", "arn")}]


def test_http_listener_only_redirects_to_https(stack: Stack) -> None:
    http = stack.by_path("aws_lb_listener", "alb/http")
    assert http["port"] == 80 and http["protocol"] == "HTTP"
    assert http["default_action"] == [{"type": "redirect", "redirect": {
        "port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}]
    assert len(stack.resources("aws_lb_listener")) == 2


def test_security_headers_on_every_response(stack: Stack, options: Stack) -> None:
    https = stack.by_path("aws_lb_listener", "alb/https")
    assert https["routing_http_response_strict_transport_security_header_value"] \
        == "max-age=31536000"
    assert https["routing_http_response_x_content_type_options_header_value"] == "nosniff"
    assert https["routing_http_response_x_frame_options_header_value"] == "SAMEORIGIN"
    plain = options.by_path("aws_lb_listener", "alb/https")
    assert not any(k.startswith("routing_http_response") for k in plain)
    assert plain["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-3-2021-06"


def test_load_balancer_is_public_hardened_and_protected(stack: Stack, options: Stack) -> None:
    lb = stack.by_path("aws_lb", "alb/load-balancer")
    assert lb["internal"] is False and lb["load_balancer_type"] == "application"
    assert lb["subnets"] == list(PUBLIC)
    assert lb["drop_invalid_header_fields"] is True
    assert lb["enable_deletion_protection"] is True
    assert lb["desync_mitigation_mode"] == "defensive"
    assert lb["ip_address_type"] == "dualstack"
    assert lb["security_groups"] == [group(stack, "alb")]
    assert options.by_path("aws_lb", "alb/load-balancer")["enable_deletion_protection"] is False


def test_access_logs_go_to_a_private_sse_s3_bucket_elb_may_write(stack: Stack) -> None:
    lb = stack.by_path("aws_lb", "alb/load-balancer")
    bucket = stack.address_of("aws_s3_bucket", "alb/access-logs/bucket")
    assert lb["access_logs"] == {"bucket": f"${{{bucket}.bucket}}", "prefix": "alb",
                                 "enabled": True}
    policy = stack.address_of("aws_s3_bucket_policy", "alb/access-logs/policy")
    assert policy in lb["depends_on"]
    sse = stack.by_path("aws_s3_bucket_server_side_encryption_configuration",
                        "alb/access-logs/encryption")
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    block = stack.by_path("aws_s3_bucket_public_access_block",
                          "alb/access-logs/public-access-block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))
    lifecycle = stack.by_path("aws_s3_bucket_lifecycle_configuration", "alb/access-logs/lifecycle")
    assert lifecycle["rule"][0]["expiration"] == [{"days": 90}]
    document = stack.by_path("aws_iam_policy_document", "alb/access-logs/policy-document",
                             data=True)
    delivery = [s for s in document["statement"] if s.get("sid") == "ElbAccessLogDelivery"]
    sg = stack.address_of("aws_security_group", "alb/security-group/group")
    assert delivery == [{
        "sid": "ElbAccessLogDelivery", "effect": "Allow", "actions": ["s3:PutObject"],
        "resources": [f'${{{bucket}.arn}}/alb/AWSLogs/${{element(split(":", {sg}.arn), 4)}}/*'],
        "principals": [{"type": "Service",
                        "identifiers": ["logdelivery.elasticloadbalancing.amazonaws.com"]}],
    }]
    assert any(s.get("sid") == "DenyInsecureTransport" for s in document["statement"])


def test_waf_web_acl_is_regional_logged_and_associated(stack: Stack, options: Stack) -> None:
    acl = stack.by_path("aws_wafv2_web_acl", "alb/web-acl")
    assert acl["scope"] == "REGIONAL"
    rate = acl["rule"][0]
    assert rate["statement"]["rate_based_statement"]["limit"] == 2000
    assert [r["name"] for r in acl["rule"][1:]] == [
        "AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesPHPRuleSet"]
    association = stack.by_path("aws_wafv2_web_acl_association", "alb/web-acl-association")
    assert association == {**association,
                           "resource_arn": ref(stack, "aws_lb", "alb/load-balancer", "arn"),
                           "web_acl_arn": ref(stack, "aws_wafv2_web_acl", "alb/web-acl", "arn")}
    logging = stack.by_path("aws_wafv2_web_acl_logging_configuration", "alb/waf-logging")
    assert [f["single_header"]["name"] for f in logging["redacted_fields"]] == [
        "authorization", "cookie"]
    existing = options.by_path("aws_wafv2_web_acl_association", "alb/web-acl-association")
    assert existing["web_acl_arn"] == WEB_ACL and not options.resources("aws_wafv2_web_acl")


# Security groups.

def test_only_the_load_balancer_is_open_to_the_world_on_443_and_80(stack: Stack,
                                                                   options: Stack) -> None:
    assert rules(stack, "ingress", group(stack, "alb")) == [
        ("0.0.0.0/0", 80, 80, "tcp"), ("0.0.0.0/0", 443, 443, "tcp"),
        ("::/0", 80, 80, "tcp"), ("::/0", 443, 443, "tcp")]
    assert rules(options, "ingress", group(options, "alb")) == [
        ("0.0.0.0/0", 80, 80, "tcp"), ("0.0.0.0/0", 443, 443, "tcp")]
    for each in (stack, options):
        world = [r for r in each.resources("aws_vpc_security_group_ingress_rule").values()
                 if "cidr_ipv4" in r or "cidr_ipv6" in r]
        assert {r["security_group_id"] for r in world} == {group(each, "alb")}
        for sg in each.resources("aws_security_group").values():
            assert "ingress" not in sg and "egress" not in sg


def test_load_balancer_reaches_only_the_web_tasks(stack: Stack) -> None:
    alb, web = group(stack, "alb"), group(stack, "web")
    assert rules(stack, "egress", alb) == [(web, 8080, 8080, "tcp")]
    assert rules(stack, "ingress", web) == [(alb, 8080, 8080, "tcp")]
    for path in ("worker", "scheduler"):
        assert rules(stack, "ingress", group(stack, path)) == []


def test_cache_and_proxy_admit_exactly_the_three_tasks(stack: Stack) -> None:
    tasks = sorted(group(stack, p) for p in ("web", "worker", "scheduler"))
    cache = rules(stack, "ingress", group(stack, "cache"))
    assert cache == sorted((g, port, port, "tcp") for g in tasks for port in (6379, 6380))
    assert rules(stack, "ingress", group(stack, "proxy")) == [
        (g, 5432, 5432, "tcp") for g in tasks]
    assert rules(stack, "ingress", group(stack, "database")) == [
        (group(stack, "proxy"), 5432, 5432, "tcp")]


# Cluster and services.

def test_cluster_has_container_insights(stack: Stack, options: Stack) -> None:
    cluster = stack.by_path("aws_ecs_cluster", "cluster/cluster")
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    assert "configuration" not in cluster  # ECS Exec is off: no exec logging to configure
    assert options.by_path("aws_ecs_cluster", "cluster/cluster")["setting"][0]["value"] \
        == "enhanced"


@pytest.mark.parametrize("path", ["web", "worker"])
def test_services_run_in_private_subnets_without_public_ips(stack: Stack, path: str) -> None:
    service = stack.by_path("aws_ecs_service", f"{path}/service")
    assert service["network_configuration"] == {
        "subnets": list(SUBNETS), "security_groups": [group(stack, path), EGRESS_SG],
        "assign_public_ip": False}
    assert service["launch_type"] == "FARGATE" and service["platform_version"] == "LATEST"
    assert service["enable_execute_command"] is False
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert service["lifecycle"] == {"ignore_changes": ["desired_count"]}
    assert service["cluster"] == ref(stack, "aws_ecs_cluster", "cluster/cluster", "arn")
    assert service["task_definition"] == ref(stack, "aws_ecs_task_definition",
                                             f"{path}/task/definition", "arn")


def test_web_service_is_registered_behind_the_load_balancer(stack: Stack) -> None:
    service = stack.by_path("aws_ecs_service", "web/service")
    assert service["load_balancer"] == [{
        "target_group_arn": ref(stack, "aws_lb_target_group", "web/target-group", "arn"),
        "container_name": "nginx", "container_port": 8080}]
    assert service["desired_count"] == 2 and service["health_check_grace_period_seconds"] == 60
    listener = stack.address_of("aws_lb_listener", "alb/https")
    assert listener in service["depends_on"]
    target = stack.by_path("aws_lb_target_group", "web/target-group")
    assert target["target_type"] == "ip" and target["port"] == 8080
    assert target["protocol"] == "HTTP" and target["deregistration_delay"] == "30"
    assert target["health_check"]["path"] == "/up" and target["health_check"]["matcher"] == "200"


def test_web_scales_on_cpu_and_requests_per_target(stack: Stack) -> None:
    target = stack.by_path("aws_appautoscaling_target", "web/scaling-target")
    assert target["min_capacity"] == 2 and target["max_capacity"] == 8
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"
    cluster = stack.address_of("aws_ecs_cluster", "cluster/cluster")
    service = stack.address_of("aws_ecs_service", "web/service")
    assert target["resource_id"] == f"service/${{{cluster}.name}}/${{{service}.name}}"
    cpu = stack.by_path("aws_appautoscaling_policy", "web/scale-on-cpu")
    config = cpu["target_tracking_scaling_policy_configuration"]
    assert config["target_value"] == 60
    assert config["predefined_metric_specification"] == {
        "predefined_metric_type": "ECSServiceAverageCPUUtilization"}
    requests = stack.by_path("aws_appautoscaling_policy", "web/scale-on-requests")
    metric = requests["target_tracking_scaling_policy_configuration"]
    lb = stack.address_of("aws_lb", "alb/load-balancer")
    tg = stack.address_of("aws_lb_target_group", "web/target-group")
    assert metric["target_value"] == 1000
    assert metric["predefined_metric_specification"] == {
        "predefined_metric_type": "ALBRequestCountPerTarget",
        "resource_label": f"${{{lb}.arn_suffix}}/${{{tg}.arn_suffix}}"}


def test_worker_scales_on_backlog_per_task(stack: Stack) -> None:
    policy = stack.by_path("aws_appautoscaling_policy", "worker/scale-on-backlog")
    config = policy["target_tracking_scaling_policy_configuration"]
    assert config["target_value"] == 20
    metrics = {m["id"]: m for m in config["customized_metric_specification"]["metrics"]}
    assert metrics["backlog_per_task"]["expression"] == "visible / tasks"
    assert metrics["backlog_per_task"]["return_data"] is True
    visible = metrics["visible"]["metric_stat"]["metric"]
    assert visible["metric_name"] == "ApproximateNumberOfMessagesVisible"
    assert visible["dimensions"] == [{"name": "QueueName", "value": ref(
        stack, "aws_sqs_queue", "jobs/queue", "name")}]
    tasks = metrics["tasks"]["metric_stat"]["metric"]
    assert tasks["namespace"] == "ECS/ContainerInsights"
    assert tasks["metric_name"] == "RunningTaskCount"
    target = stack.by_path("aws_appautoscaling_target", "worker/scaling-target")
    assert target["min_capacity"] == 1 and target["max_capacity"] == 4


# Task definitions and containers.

@pytest.mark.parametrize(("path", "cpu", "memory", "arch"), [
    ("web", "512", "1024", "X86_64"), ("worker", "1024", "2048", "ARM64"),
    ("scheduler", "256", "512", "X86_64")])
def test_task_definitions_are_awsvpc_fargate_with_two_roles(stack: Stack, path: str, cpu: str,
                                                            memory: str, arch: str) -> None:
    task = stack.by_path("aws_ecs_task_definition", f"{path}/task/definition")
    assert task["network_mode"] == "awsvpc" and task["requires_compatibilities"] == ["FARGATE"]
    assert (task["cpu"], task["memory"]) == (cpu, memory)
    assert task["runtime_platform"] == {"operating_system_family": "LINUX",
                                        "cpu_architecture": arch}
    execution = ref(stack, "aws_iam_role", f"{path}/task/execution-role/role", "arn")
    role = ref(stack, "aws_iam_role", f"{path}/task/task-role/role", "arn")
    assert task["execution_role_arn"] == execution and task["task_role_arn"] == role
    for role_path in ("execution-role", "task-role"):
        trust = stack.deref(stack.by_path("aws_iam_role", f"{path}/task/{role_path}/role")[
            "assume_role_policy"])["statement"][0]
        assert trust["principals"] == [{"type": "Service",
                                        "identifiers": ["ecs-tasks.amazonaws.com"]}]


def test_containers_are_read_only_unprivileged_and_log_to_their_groups(stack: Stack) -> None:
    web = containers(stack, "web")
    assert set(web) == {"php", "nginx"}
    for name, container in web.items():
        assert container["readonlyRootFilesystem"] is True and container["essential"] is True
        group_name = f"/ecs/fargate-web-task/{name}"
        assert container["logConfiguration"] == {"logDriver": "awslogs", "options": {
            "awslogs-group": group_name, "awslogs-region": REGION,
            "awslogs-stream-prefix": name}}
        logs = stack.by_path("aws_cloudwatch_log_group", f"web/task/logs-{name}")
        assert logs["name"] == group_name and logs["retention_in_days"] == 30
    assert web["php"]["user"] == "www-data" and web["nginx"]["user"] == "101"
    assert web["nginx"]["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]
    assert web["php"]["portMappings"] == []
    assert web["nginx"]["dependsOn"] == [{"containerName": "php", "condition": "START"}]
    assert [m["containerPath"] for m in web["php"]["mountPoints"]] == [
        "/tmp", "/var/www/html/storage", "/var/www/html/bootstrap/cache"]
    assert [m["containerPath"] for m in web["nginx"]["mountPoints"]] == [
        "/tmp", "/var/cache/nginx", "/var/run"]
    volumes = stack.by_path("aws_ecs_task_definition", "web/task/definition")["volume"]
    assert {v["name"] for v in volumes} == {
        m["sourceVolume"] for c in web.values() for m in c["mountPoints"]}


def test_secrets_reach_containers_as_secrets_never_as_environment(stack: Stack) -> None:
    app_user = ref(stack, "aws_secretsmanager_secret", "database/app-user", "arn")
    cache_secret = ref(stack, "aws_secretsmanager_secret", "cache/password", "arn")
    for path in ("web", "worker", "scheduler"):
        app = containers(stack, path)["php"]
        assert secrets_of(app) == {
            "APP_KEY": APP_KEY, "MAIL_PASSWORD": MAIL, "REDIS_PASSWORD": cache_secret,
            "DB_PASSWORD": f"{app_user}:password::"}
        variables = env_of(app)
        assert not {"APP_KEY", "MAIL_PASSWORD", "REDIS_PASSWORD", "DB_PASSWORD",
                    "DB_SECRET"} & set(variables)
        assert not any(v.startswith("bref-ssm:") for v in variables.values())


def test_app_environment_is_wired_from_the_resources(stack: Stack) -> None:
    variables = env_of(containers(stack, "web")["php"])
    host = f"${{{stack.address_of('aws_elasticache_serverless_cache', 'cache/cache')}" \
           ".endpoint[0].address}"
    queue = stack.address_of("aws_sqs_queue", "jobs/queue")
    expected = {
        "APP_ENV": "production", "LOG_CHANNEL": "stderr", "AWS_DEFAULT_REGION": REGION,
        "DB_CONNECTION": "pgsql", "DB_HOST": ref(stack, "aws_db_proxy", "proxy/proxy", "endpoint"),
        "DB_PORT": "5432", "DB_DATABASE": "laravel", "DB_USERNAME": "laravel_app",
        "REDIS_HOST": host, "REDIS_URL": f"tls://{host}:6379", "REDIS_SCHEME": "tls",
        "REDIS_USERNAME": "laravel", "CACHE_STORE": "redis", "SESSION_DRIVER": "redis",
        "QUEUE_CONNECTION": "sqs", "SQS_QUEUE": f"${{{queue}.url}}",
        "SQS_PREFIX": f'${{element(regex("^(.*)/[^/]+$", {queue}.url), 0)}}',
    }
    assert {k: variables.get(k) for k in expected} == expected
    assert "SQS_QUEUE" not in env_of(containers(stack, "scheduler")["php"])


def test_worker_runs_queue_work_on_its_queue(stack: Stack) -> None:
    worker = containers(stack, "worker")["php"]
    queue = stack.address_of("aws_sqs_queue", "jobs/queue")
    assert worker["command"] == [
        "php", "/var/www/html/artisan", "queue:work", "sqs", f"--queue=${{{queue}.url}}",
        "--timeout=240", "--tries=3", "--sleep=3", "--max-time=3600"]
    assert worker["stopTimeout"] == 120
    assert env_of(worker)["SQS_QUEUE"] == f"${{{queue}.url}}"


def test_options_stack_keeps_the_image_user_and_encrypts_logs(options: Stack) -> None:
    app = containers(options, "web")["php"]
    assert "user" not in app and app["readonlyRootFilesystem"] is False
    assert app["mountPoints"] == []
    logs = options.by_path("aws_cloudwatch_log_group", "web/task/logs-php")
    assert logs["retention_in_days"] == 90 and logs["kms_key_id"] == KEY
    assert options.by_path("aws_ecs_service", "web/service")["enable_execute_command"] is True
    policies = options.resources("aws_appautoscaling_policy").values()
    assert [p["//"]["metadata"]["path"] for p in policies] == ["options/web/scale-on-requests"]


# IAM.

def test_execution_role_pulls_logs_and_reads_exactly_the_injected_secrets(stack: Stack) -> None:
    got = statements(stack, "web/task/execution-role")
    logs = [f"{ref(stack, 'aws_cloudwatch_log_group', f'web/task/logs-{c}', 'arn')}:*"
            for c in ("php", "nginx")]
    assert got == {
        "AuthenticateToEcr": {"effect": "Allow", "actions": ["ecr:GetAuthorizationToken"],
                              "resources": ["*"]},
        "PullImages": {"effect": "Allow", "actions": [
            "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer"], "resources": [
            "arn:aws:ecr:eu-west-1:123456789012:repository/laravel",
            "arn:aws:ecr:eu-west-1:123456789012:repository/nginx"]},
        "WriteContainerLogs": {"effect": "Allow",
                               "actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
                               "resources": logs},
        "ReadParameterAPPKEY": {"effect": "Allow", "actions": ["ssm:GetParameters"],
                                "resources": [APP_KEY]},
        "ReadSecretMAILPASSWORD": {"effect": "Allow",
                                   "actions": ["secretsmanager:GetSecretValue"],
                                   "resources": [MAIL]},
        "DecryptSecretMAILPASSWORD": {"effect": "Allow", "actions": ["kms:Decrypt"],
                                      "resources": [KEY]},
        "ReadSecretCache": {"effect": "Allow", "actions": ["secretsmanager:GetSecretValue"],
                            "resources": [ref(stack, "aws_secretsmanager_secret",
                                              "cache/password", "arn")]},
        "ReadSecretProxy": {"effect": "Allow", "actions": ["secretsmanager:GetSecretValue"],
                            "resources": [ref(stack, "aws_secretsmanager_secret",
                                              "database/app-user", "arn")]},
    }


def test_task_roles_hold_only_what_the_app_was_granted(stack: Stack) -> None:
    queue = ref(stack, "aws_sqs_queue", "jobs/queue", "arn")
    bucket = ref(stack, "aws_s3_bucket", "storage/bucket", "arn")
    web = statements(stack, "web/task/task-role")
    assert set(web) == {"ListStorage", "ReadWriteStorage", "SendJobs", "KeySendJobs"}
    assert web["SendJobs"]["resources"] == [queue]
    assert web["ReadWriteStorage"]["resources"] == [f"{bucket}/*"]
    worker = statements(stack, "worker/task/task-role")
    assert set(worker) == {"ListStorage", "ReadWriteStorage", "ConsumeJobs", "ReleaseJobs",
                           "KeyConsumeJobs"}
    assert worker["ConsumeJobs"]["actions"] == [
        "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage"]
    assert set(statements(stack, "scheduler/task/task-role")) == {"ListStorage",
                                                                  "ReadWriteStorage"}
    for path in ("web", "worker", "scheduler"):
        for statement in statements(stack, f"{path}/task/task-role").values():
            assert not any(a.startswith(("secretsmanager:", "ssm:", "ecr:", "iam:"))
                           for a in statement["actions"])
            assert statement["resources"] != ["*"]


def test_execute_command_adds_only_the_ssm_channels(options: Stack) -> None:
    got = statements(options, "web/task/task-role")
    assert got["ExecuteCommandChannels"]["resources"] == ["*"]
    assert got["ExecuteCommandChannels"]["actions"] == [
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
    logs = ref(options, "aws_cloudwatch_log_group", "web/task/logs-php", "arn")
    assert got["ExecuteCommandLogs"]["resources"] == [f"{logs}:*"]


def test_iam_auth_connects_from_the_task_role_without_a_password(options: Stack) -> None:
    app = containers(options, "web")["php"]
    assert env_of(app)["DB_IAM_AUTH"] == "true"
    assert env_of(app)["MYSQL_ATTR_SSL_CA"] == "/etc/ssl/certs/ca-certificates.crt"
    assert "DB_PASSWORD" not in secrets_of(app)
    assert statements(options, "web/task/task-role")["ConnectProxy"]["actions"] == [
        "rds-db:connect"]
    assert statements(options, "web/task/task-role")["ConnectProxy"]["resources"][0] \
        .endswith("/laravel_app")
    assert not any(s.startswith("ReadSecretProxy")
                   for s in statements(options, "web/task/execution-role"))


# The scheduled task.

def test_schedule_runs_schedule_run_every_minute_as_a_private_task(stack: Stack) -> None:
    schedule = stack.by_path("aws_scheduler_schedule", "scheduler/schedule")
    assert schedule["schedule_expression"] == "rate(1 minute)"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    target = schedule["target"]
    assert target["arn"] == ref(stack, "aws_ecs_cluster", "cluster/cluster", "arn")
    assert target["role_arn"] == ref(stack, "aws_iam_role", "scheduler/scheduler-role/role",
                                     "arn")
    assert target["ecs_parameters"] == {
        "task_definition_arn": ref(stack, "aws_ecs_task_definition",
                                   "scheduler/task/definition", "arn"),
        "launch_type": "FARGATE", "platform_version": "LATEST", "task_count": 1,
        "network_configuration": {"subnets": list(SUBNETS),
                                  "security_groups": [group(stack, "scheduler"), EGRESS_SG],
                                  "assign_public_ip": False}}
    assert target["dead_letter_config"] == {"arn": ref(
        stack, "aws_sqs_queue", "scheduler/dead-letter-queue", "arn")}
    assert containers(stack, "scheduler")["php"]["command"] == [
        "php", "/var/www/html/artisan", "schedule:run"]


def test_scheduler_role_runs_one_task_definition_and_passes_its_two_roles(stack: Stack) -> None:
    got = statements(stack, "scheduler/scheduler-role")
    assert got["RunTheTask"] == {
        "effect": "Allow", "actions": ["ecs:RunTask"],
        "resources": [ref(stack, "aws_ecs_task_definition", "scheduler/task/definition",
                          "arn")],
        "condition": [{"test": "ArnEquals", "variable": "ecs:cluster",
                       "values": [ref(stack, "aws_ecs_cluster", "cluster/cluster", "arn")]}]}
    assert got["PassTheTaskRoles"] == {
        "effect": "Allow", "actions": ["iam:PassRole"],
        "resources": [ref(stack, "aws_iam_role", f"scheduler/task/{r}/role", "arn")
                      for r in ("task-role", "execution-role")],
        "condition": [{"test": "StringEquals", "variable": "iam:PassedToService",
                       "values": ["ecs-tasks.amazonaws.com"]}]}
    assert set(got) == {"RunTheTask", "PassTheTaskRoles", "SendToDeadLetterQueue"}
    trust = stack.deref(stack.by_path("aws_iam_role", "scheduler/scheduler-role/role")[
        "assume_role_policy"])["statement"][0]
    assert trust["principals"] == [{"type": "Service",
                                    "identifiers": ["scheduler.amazonaws.com"]}]


# The job queue.

def test_job_queue_is_encrypted_redrives_and_refuses_plain_http(stack: Stack) -> None:
    queue = stack.by_path("aws_sqs_queue", "jobs/queue")
    dlq = stack.by_path("aws_sqs_queue", "jobs/dead-letter-queue")
    assert queue["kms_master_key_id"] == KEY and dlq["kms_master_key_id"] == KEY
    assert queue["visibility_timeout_seconds"] == 300
    assert "maxReceiveCount" in queue["redrive_policy"]
    for path in ("jobs/queue-policy", "jobs/dead-letter-queue-policy"):
        document = stack.by_path("aws_iam_policy_document", f"{path}-document", data=True)
        assert document["statement"][0]["sid"] == "DenyInsecureTransport"


# The connection budget counts PHP processes.

def test_proxy_budget_counts_the_fargate_processes() -> None:
    budget = BUILT["proxy"].budget()
    caps = {c.name: c.cap for c in budget.consumers}
    assert caps == {"web": 8 * 12, "worker": 4, "scheduler": 1}
    assert budget.total == 101 and not budget.over_budget


# Bad props leave nothing in the tree.

@pytest.fixture
def empty() -> dict[str, Any]:
    stack = LaravelStack(App(), "errors", region=REGION)
    cluster = FargateCluster(stack, "cluster", vpc_id=VPC_ID,
                             vpc=VpcConfig(SUBNETS, (EGRESS_SG,)))
    alb = PublicLoadBalancer(stack, "alb", vpc_id=VPC_ID, subnet_ids=PUBLIC,
                             certificate_arn=CERTIFICATE)
    jobs = JobQueue(stack, "jobs")
    return {"stack": stack, "cluster": cluster, "alb": alb, "jobs": jobs}


def refused(built: dict[str, Any], cls: type, props: dict[str, Any]) -> ConfigurationError:
    stack = built["stack"]
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        cls(stack, "bad", **props)
    assert len(stack.node.children) == before
    return error.value


@pytest.mark.parametrize(("props", "prop", "kind"), [
    ({"subnet_ids": PUBLIC[:1]}, "subnet_ids", "shape"),
    ({"certificate_arn": None}, "certificate_arn", "missing"),
    ({"certificate_arn": CERTIFICATE.replace("eu-west-1", "us-east-1")}, "certificate_arn",
     "region"),
    ({"ssl_policy": "ELBSecurityPolicy-2016-08"}, "ssl_policy", "choice"),
    ({"ssl_policy": "ELBSecurityPolicy-TLS-1-1-2017-01"}, "ssl_policy", "choice"),
    ({"deletion_protection": "yes"}, "deletion_protection", "type"),
    ({"idle_timeout": 0}, "idle_timeout", "range"),
    ({"ip_address_type": "ipv6"}, "ip_address_type", "choice"),
    ({"access_log_retention_days": 0}, "access_log_retention_days", "range"),
    ({"waf_rate_limit": 5}, "waf_rate_limit", "range"),
    ({"waf_rate_limit": 2000, "web_acl_arn": WEB_ACL}, "waf_rate_limit", "conflict"),
    ({"web_acl_arn": WEB_ACL.replace("eu-west-1", "us-east-1")}, "web_acl_arn", "shape"),
    ({"waf_log_retention_days": 2}, "waf_log_retention_days", "choice"),
    ({"vpc_id": "vpc-1"}, "vpc_id", "shape"),
])
def test_bad_load_balancer_props(empty: dict[str, Any], props: dict[str, Any], prop: str,
                                 kind: str) -> None:
    base = {"vpc_id": VPC_ID, "subnet_ids": PUBLIC, "certificate_arn": CERTIFICATE}
    error = refused(empty, PublicLoadBalancer, base | props)
    assert (error.prop, error.code.rsplit(".", 1)[1]) == (prop, kind)


@pytest.mark.parametrize(("props", "prop", "kind"), [
    ({"vpc": VpcConfig(SUBNETS[:1], (EGRESS_SG,))}, "vpc.subnet_ids", "count"),
    ({"vpc": {"subnet_ids": SUBNETS}}, "vpc", "type"),
    ({"container_insights": "disabled"}, "container_insights", "choice"),
])
def test_bad_cluster_props(empty: dict[str, Any], props: dict[str, Any], prop: str,
                           kind: str) -> None:
    base = {"vpc_id": VPC_ID, "vpc": VpcConfig(SUBNETS, (EGRESS_SG,))}
    error = refused(empty, FargateCluster, base | props)
    assert (error.prop, error.code.rsplit(".", 1)[1]) == (prop, kind)


WEB_BAD = [
    ({"nginx_image_uri": "nginx:latest"}, "nginx_image_uri", "shape"),
    ({"nginx_user": "root"}, "nginx_user", "root"),
    ({"nginx_user": "0:0"}, "nginx_user", "root"),
    ({"container_port": 80}, "container_port", "range"),
    ({"task": TaskOptions(cpu=300)}, "task.cpu", "choice"),
    ({"task": TaskOptions(cpu=256, memory=4096)}, "task.memory", "combination"),
    ({"task": TaskOptions(architecture="arm")}, "task.architecture", "choice"),
    ({"task": TaskOptions(log_retention_days=2)}, "task.log_retention_days", "choice"),
    ({"task": TaskOptions(enable_execute_command="no")}, "task.enable_execute_command", "type"),
    ({"task": {"cpu": 512}}, "task", "type"),
    ({"min_tasks": 0}, "min_tasks", "range"),
    ({"min_tasks": 3, "max_tasks": 2}, "max_tasks", "range"),
    ({"cpu_target": 95}, "cpu_target", "range"),
    ({"cpu_target": None}, "cpu_target/requests_per_target", "missing"),
    ({"requests_per_target": 0}, "requests_per_target", "range"),
    ({"php_fpm_max_children": 0}, "php_fpm_max_children", "range"),
    ({"health_check_path": "up"}, "health_check_path", "shape"),
    ({"deregistration_delay": 4000}, "deregistration_delay", "range"),
    ({"php": "php:8.4"}, "php", "type"),
    ({"cluster": None}, "cluster", "type"),
    ({"load_balancer": None}, "load_balancer", "type"),
]


@pytest.mark.parametrize(("props", "prop", "kind"), WEB_BAD)
def test_bad_web_props(empty: dict[str, Any], props: dict[str, Any], prop: str,
                       kind: str) -> None:
    base = {"cluster": empty["cluster"], "load_balancer": empty["alb"], "php": php(),
            "nginx_image_uri": NGINX_IMAGE}
    error = refused(empty, WebService, base | props)
    assert (error.prop, error.code.rsplit(".", 1)[1]) == (prop, kind)


def test_a_load_balancer_forwards_to_one_web_service(empty: dict[str, Any]) -> None:
    base = {"cluster": empty["cluster"], "load_balancer": empty["alb"], "php": php(),
            "nginx_image_uri": NGINX_IMAGE}
    WebService(empty["stack"], "web", **base)
    error = refused(empty, WebService, base)
    assert error.code == "web_service.load_balancer.taken"


@pytest.mark.parametrize(("props", "prop", "kind"), [
    ({"queue": None}, "queue", "type"),
    ({"job_timeout": 120}, "job_timeout", "range"),
    ({"tries": 4}, "tries", "range"),
    ({"tries": 0}, "tries", "range"),
    ({"max_time": 10}, "max_time", "range"),
    ({"backlog_per_task": 0}, "backlog_per_task", "range"),
    ({"cpu_target": 5}, "cpu_target", "range"),
    ({"task": TaskOptions(cpu=512, memory=512)}, "task.memory", "combination"),
])
def test_bad_worker_props(empty: dict[str, Any], props: dict[str, Any], prop: str,
                          kind: str) -> None:
    base = {"cluster": empty["cluster"], "php": php(), "queue": empty["jobs"]}
    error = refused(empty, WorkerService, base | props)
    assert (error.prop, error.code.rsplit(".", 1)[1]) == (prop, kind)


@pytest.mark.parametrize(("props", "prop", "kind"), [
    ({"schedule_expression": "every minute"}, "schedule_expression", "shape"),
    ({"schedule_expression": "rate(1 minutes)"}, "schedule_expression", "shape"),
    ({"timezone": "paris"}, "timezone", "shape"),
    ({"command": "php artisan schedule:run"}, "command", "shape"),
    ({"command": ""}, "command", "shape"),
    ({"maximum_retry_attempts": 200}, "maximum_retry_attempts", "range"),
    ({"maximum_event_age": 30}, "maximum_event_age", "range"),
    ({"enabled": "true"}, "enabled", "type"),
    ({"kms_key_arn": "alias/x"}, "kms_key_arn", "shape"),
    ({"dead_letter_retention_days": 15}, "dead_letter_retention_days", "range"),
])
def test_bad_scheduled_task_props(empty: dict[str, Any], props: dict[str, Any], prop: str,
                                  kind: str) -> None:
    base = {"cluster": empty["cluster"], "php": php()}
    error = refused(empty, ScheduledTask, base | props)
    assert (error.prop, error.code.rsplit(".", 1)[1]) == (prop, kind)


@pytest.mark.parametrize(("props", "prop", "kind"), [
    ({"name": "Emails"}, "name", "invalid"),
    ({"visibility_timeout": 0}, "visibility_timeout", "range"),
    ({"max_receive_count": 0}, "max_receive_count", "range"),
    ({"message_retention_days": 15}, "message_retention_days", "range"),
    ({"kms_key_arn": "alias/x"}, "kms_key_arn", "shape"),
])
def test_bad_job_queue_props(empty: dict[str, Any], props: dict[str, Any], prop: str,
                             kind: str) -> None:
    error = refused(empty, JobQueue, props)
    assert (error.prop, error.code.rsplit(".", 1)[1]) == (prop, kind)


@pytest.mark.parametrize(("props", "prop", "kind"), [
    ({"image_uri": "docker.io/library/php:8.4-fpm"}, "image_uri", "shape"),
    ({"secrets": {}}, "secrets", "required"),
    ({"secrets": {"APP_KEY": "base64:abc"}}, "secrets['APP_KEY']", "type"),
    ({"environment": {"DB_PASSWORD": "hunter2"}}, "environment", "secret"),
    ({"environment": {"AWS_ACCESS_KEY_ID": "AKIA"}}, "environment", "reserved"),
    ({"environment": {"AWS_DEFAULT_REGION": "us-east-1"}}, "environment", "managed"),
    ({"environment": {"APP_DEBUG": False}}, "environment['APP_DEBUG']", "type"),
    ({"environment": {"1X": "a"}}, "environment", "name"),
    ({"user": "root"}, "user", "root"),
    ({"user": "www data"}, "user", "shape"),
    ({"writable_paths": ("tmp",)}, "writable_paths", "shape"),
    ({"app_root": "app"}, "app_root", "shape"),
    ({"read_only_root_filesystem": 1}, "read_only_root_filesystem", "type"),
])
def test_bad_php_container_props(props: dict[str, Any], prop: str, kind: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        php(**props)
    assert (error.value.prop, error.value.code.rsplit(".", 1)[1]) == (prop, kind)


def test_wiring_refuses_a_variable_set_twice(empty: dict[str, Any]) -> None:
    stack = empty["stack"]
    database = Database(stack, "database", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, database=database)
    worker = WorkerService(stack, "worker", cluster=empty["cluster"],
                           php=php(environment={"DB_HOST": "db.internal"}), queue=empty["jobs"])
    with pytest.raises(ConfigurationError) as error:
        worker.wire(proxy)
    assert error.value.code == "worker_service.environment.conflict"
    with pytest.raises(ConfigurationError) as error:
        worker.wire(object())
    assert error.value.code == "worker_service.resources.type"

"""The same Laravel app as ``serverless_laravel``, run the way the team runs it today: ECS Fargate
behind an Application Load Balancer, built to the same standard, for an honest comparison.

Same region, VPC, private subnets, egress security groups, APP_KEY parameter, cache, database,
proxy and queue settings as the serverless example; public subnets for the load balancer.
Every id, ARN and image here is a placeholder: put yours. Web, worker and the scheduled
``schedule:run`` connect as the app user (DML only); a migration task would take the migration
user (``task.wire(proxy.migrations)``); only the proxy and the deploy role, which runs the
bootstrap SQL once, may read the master user's secret.
"""

from __future__ import annotations

from examples.serverless_laravel.stack import (
    APP_KEY_PARAMETER,
    DEPLOY_ROLE_NAME,
    FUNCTION_SECURITY_GROUP_IDS,
    PRIVATE_SUBNET_IDS,
    REGION,
    VPC_ID,
)
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
from serverless_laravel.cdk import Construct, TerraformOutput

PUBLIC_SUBNET_IDS = ("subnet-0b1c2d3e4f5a60718", "subnet-0e1d2c3b4a5f69788",
                     "subnet-0fedcba9876543210")
TASK_SECURITY_GROUP_IDS = FUNCTION_SECURITY_GROUP_IDS
DOMAIN_NAME = "app.example.com"
CERTIFICATE_ARN = ("arn:aws:acm:us-east-1:123456789012:certificate/"
                   "0a1b2c3d-4e5f-6789-abcd-ef0123456789")
PHP_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/example-laravel/php:1.0.0"
NGINX_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/example-laravel/nginx:1.0.0"

WEB_MAX_TASKS = 10
PHP_FPM_MAX_CHILDREN = 10
WORKER_MAX_TASKS = 5


class FargateBaselineStack(LaravelStack):
    """ALB (+ WAF) -> nginx/php-fpm service; queue:work service; schedule:run every minute;
    the same Valkey cache, PostgreSQL behind RDS Proxy, SQS queue and storage bucket."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, region=REGION, tags={"Example": "fargate_baseline"})
        self.storage = PrivateBucket(self, "storage", bucket_prefix="laravel-storage-")
        self.jobs = JobQueue(self, "jobs")
        self.cache = RedisCache(self, "cache", vpc_id=VPC_ID, subnet_ids=PRIVATE_SUBNET_IDS)
        self.database = Database(self, "database", vpc_id=VPC_ID,
                                 subnet_ids=PRIVATE_SUBNET_IDS, instance_class="db.t4g.medium")
        self.proxy = DatabaseProxy(self, "proxy", vpc_id=VPC_ID, subnet_ids=PRIVATE_SUBNET_IDS,
                                   database=self.database)
        self.database.grant_bootstrap(DEPLOY_ROLE_NAME)
        self.cluster = FargateCluster(self, "cluster", vpc_id=VPC_ID,
                                      vpc=VpcConfig(PRIVATE_SUBNET_IDS, TASK_SECURITY_GROUP_IDS))
        self.load_balancer = PublicLoadBalancer(
            self, "alb", vpc_id=VPC_ID, subnet_ids=PUBLIC_SUBNET_IDS,
            certificate_arn=CERTIFICATE_ARN, waf_rate_limit=2000)
        php = PhpContainer(
            image_uri=PHP_IMAGE,
            secrets={"APP_KEY": SecretRef.ssm(APP_KEY_PARAMETER)},
            environment={"APP_NAME": "example-laravel", "APP_ENV": "production",
                         "APP_URL": f"https://{DOMAIN_NAME}", "FILESYSTEM_DISK": "s3",
                         "AWS_BUCKET": self.storage.name},
        )
        self.web = WebService(
            self, "web", cluster=self.cluster, load_balancer=self.load_balancer, php=php,
            nginx_image_uri=NGINX_IMAGE, task=TaskOptions(cpu=512, memory=1024),
            min_tasks=2, max_tasks=WEB_MAX_TASKS, cpu_target=60, requests_per_target=1000,
            php_fpm_max_children=PHP_FPM_MAX_CHILDREN,
        )
        self.worker = WorkerService(self, "worker", cluster=self.cluster, php=php,
                                    queue=self.jobs, max_tasks=WORKER_MAX_TASKS)
        self.scheduler = ScheduledTask(self, "scheduler", cluster=self.cluster, php=php)
        for service in (self.web, self.worker, self.scheduler):
            self.cache.connections.allow_from(service)
            self.proxy.connections.allow_from(service)
            service.wire(self.cache, self.proxy)
            self.storage.grant_read_write(service)
        self.web.wire(self.jobs)
        self.scheduler.wire(self.jobs)
        outputs = {
            "load_balancer_dns_name": self.load_balancer.dns_name,
            "cluster_name": self.cluster.name,
            "web_service_name": self.web.service.name,
            "worker_service_name": self.worker.service.name,
            "queue_url": self.jobs.url,
            "dead_letter_queue_url": self.jobs.dead_letter_queue.url,
            "storage_bucket": self.storage.name,
            "access_log_bucket": self.load_balancer.access_logs.name,
            "cache_endpoint": self.cache.host,
            "database_proxy_endpoint": self.proxy.endpoint,
            "database_secret_arn": self.database.secret_arn,
            "database_app_secret_arn": self.database.app_secret_arn,
            "database_migration_secret_arn": self.database.migration_secret_arn,
            "database_bootstrap_command": self.database.bootstrap_command,
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)


def build(scope: Construct) -> list[LaravelStack]:
    """The stacks of this example."""
    return [FargateBaselineStack(scope, "fargate-baseline")]

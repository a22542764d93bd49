"""The same Laravel app as ``serverless_laravel``, run the way the team runs it today: ECS Fargate
behind an Application Load Balancer, built to the same standard, for an honest comparison.

Same region, VPC, private subnets, APP_KEY parameter, cache, database, proxy and queue settings
as the serverless example; public subnets for the load balancer, the tasks' egress groups and
the images are its own. Everything account-specific is a Terraform variable
(``examples/inputs.py``; fake values in ``example.tfvars``). Web, worker and the scheduled
``schedule:run`` connect as the app user (DML only); a migration task would take the migration
user (``task.wire(proxy.migrations)``); only the proxy and the deploy role, which runs the
bootstrap SQL once, may read the master user's secret.
"""

from __future__ import annotations

from examples.inputs import DEFAULT_OPTIONS, StackOptions, declare
from examples.serverless_laravel.stack import REGION
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

WEB_MAX_TASKS = 10
PHP_FPM_MAX_CHILDREN = 10
WORKER_MAX_TASKS = 5


class FargateBaselineStack(LaravelStack):
    """ALB (+ WAF) -> nginx/php-fpm service; queue:work service; schedule:run every minute;
    the same Valkey cache, PostgreSQL behind RDS Proxy, SQS queue and storage bucket."""

    def __init__(self, scope: Construct, id: str,
                 options: StackOptions = DEFAULT_OPTIONS) -> None:
        super().__init__(scope, id, region=REGION,
                         **options.stack_args(id, {"Example": "fargate_baseline"}))
        var = self.inputs = declare(self, id)
        vpc_id, subnets = var["vpc_id"], var["private_subnet_ids"]
        self.storage = PrivateBucket(self, "storage", bucket_prefix="laravel-storage-")
        self.jobs = JobQueue(self, "jobs")
        self.cache = RedisCache(self, "cache", vpc_id=vpc_id, subnet_ids=subnets)
        self.database = Database(self, "database", vpc_id=vpc_id,
                                 subnet_ids=subnets, instance_class="db.t4g.medium")
        self.proxy = DatabaseProxy(self, "proxy", vpc_id=vpc_id, subnet_ids=subnets,
                                   database=self.database)
        self.database.grant_bootstrap(var["deploy_role_name"])
        self.cluster = FargateCluster(self, "cluster", vpc_id=vpc_id,
                                      vpc=VpcConfig(subnets, var["task_security_group_ids"]))
        self.load_balancer = PublicLoadBalancer(
            self, "alb", vpc_id=vpc_id, subnet_ids=var["public_subnet_ids"],
            certificate_arn=var["certificate_arn"], waf_rate_limit=2000)
        php = PhpContainer(
            image_uri=var["php_image_uri"],
            secrets={"APP_KEY": SecretRef.ssm(var["app_key_parameter_arn"])},
            environment={"APP_NAME": "example-laravel", "APP_ENV": "production",
                         "APP_URL": f"https://{var['domain_name']}", "FILESYSTEM_DISK": "s3",
                         "AWS_BUCKET": self.storage.name},
        )
        self.web = WebService(
            self, "web", cluster=self.cluster, load_balancer=self.load_balancer, php=php,
            nginx_image_uri=var["nginx_image_uri"], task=TaskOptions(cpu=512, memory=1024),
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


def build(scope: Construct, options: StackOptions = DEFAULT_OPTIONS) -> list[LaravelStack]:
    """The stacks of this example."""
    return [FargateBaselineStack(scope, "fargate-baseline", options)]

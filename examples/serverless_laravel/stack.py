"""The whole example app in the team's existing VPC: ``LaravelApp`` plus its queue, schedule,
cache and database.

us-east-1 is where CloudFront web ACLs live, so the WAF rate limit is part of the stack. The
VPC ids, the APP_KEY parameter ARN and the deploy role's name are placeholders: put yours
here. Every function that reaches the database has a concurrency cap, and the proxy's
connection budget is checked at synth, so 3,000 simultaneous requests queue at Lambda, not at
PostgreSQL. Web and worker connect as the app user (DML only), the console (which runs
``migrate``) as the migration user; only the proxy and the deploy role, which runs the
bootstrap SQL once, may read the master user's secret.
"""

from __future__ import annotations

from pathlib import Path

from examples.paths import LARAVEL_APP
from serverless_laravel import (
    Database,
    DatabaseProxy,
    FunctionOptions,
    LaravelApp,
    LaravelStack,
    QueueWorker,
    RedisCache,
    Scheduler,
    SecretRef,
    VpcConfig,
)
from serverless_laravel.cdk import Construct, TerraformOutput

REGION = "us-east-1"
APP_KEY_PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/example-laravel/app-key"
VPC_ID = "vpc-0a1b2c3d4e5f67890"
PRIVATE_SUBNET_IDS = ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788",
                      "subnet-01234567890abcdef")
FUNCTION_SECURITY_GROUP_IDS = ("sg-0123456789abcdef0",)
# The existing IAM role the deploy pipeline runs as: it runs the database's bootstrap SQL.
DEPLOY_ROLE_NAME = "example-laravel-deploy"

# The public name and its ACM certificate (CloudFront takes certificates from us-east-1 only):
# viewers then need TLS 1.2 (TLSv1.2_2021); without them CloudFront's default certificate
# still accepts TLS 1.0. Placeholders, like the network ids: put yours here.
DOMAIN_NAME = "app.example.com"
CERTIFICATE_ARN = ("arn:aws:acm:us-east-1:123456789012:certificate/"
                   "0f1e2d3c-4b5a-6978-8899-aabbccddeeff")

WEB_CONCURRENCY = 100
CONSOLE_CONCURRENCY = 5
WORKER_CONCURRENCY = 20


class ServerlessLaravelStack(LaravelStack):
    """CloudFront + WAF + HTTP API + web/console/worker functions + schedule + Valkey +
    PostgreSQL behind RDS Proxy, for the example app."""

    def __init__(self, scope: Construct, id: str, *, app: Path = LARAVEL_APP) -> None:
        super().__init__(scope, id, region=REGION, tags={"Example": "serverless_laravel"})
        vpc = VpcConfig(PRIVATE_SUBNET_IDS, FUNCTION_SECURITY_GROUP_IDS)
        self.laravel = LaravelApp(
            self, "laravel", app=app, name="example-laravel", vpc=vpc,
            secrets={"APP_KEY": SecretRef.ssm(APP_KEY_PARAMETER)},
            web=FunctionOptions(reserved_concurrency=WEB_CONCURRENCY),
            console=FunctionOptions(reserved_concurrency=CONSOLE_CONCURRENCY),
            waf_rate_limit=2000, log_retention_days=30,
            domain_name=DOMAIN_NAME, certificate_arn=CERTIFICATE_ARN,
        )
        self.jobs = QueueWorker(
            self, "jobs", app=app, vpc=vpc, maximum_concurrency=WORKER_CONCURRENCY,
            producers=[self.laravel.web, self.laravel.console],
        )
        self.laravel.add_function(self.jobs.function)
        self.scheduler = Scheduler(self, "scheduler", console=self.laravel.console)
        self.cache = RedisCache(self, "cache", vpc_id=VPC_ID, subnet_ids=PRIVATE_SUBNET_IDS)
        self.database = Database(self, "database", vpc_id=VPC_ID,
                                 subnet_ids=PRIVATE_SUBNET_IDS, instance_class="db.t4g.medium")
        self.proxy = DatabaseProxy(self, "proxy", vpc_id=VPC_ID, subnet_ids=PRIVATE_SUBNET_IDS,
                                   database=self.database)
        self.database.grant_bootstrap(DEPLOY_ROLE_NAME)
        for function in self.laravel.functions:
            self.cache.connect(function)
            self.proxy.connect(function, migrations=function is self.laravel.console)
        # Alarms on the queue (dead letters, oldest job) and the proxy's client connections.
        self.laravel.monitoring.watch_queue(self.jobs)
        self.laravel.monitoring.watch_proxy(self.proxy)
        outputs = {
            "worker_function": self.jobs.function.function.function_name,
            "queue_url": self.jobs.url,
            "dead_letter_queue_url": self.jobs.dead_letter_queue.url,
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
    return [ServerlessLaravelStack(scope, "serverless-laravel")]

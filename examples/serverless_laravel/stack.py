"""The whole example app in the team's existing VPC: ``LaravelApp`` plus its queue, schedule,
cache and database.

us-east-1 is where CloudFront web ACLs live, so the WAF rate limit is part of the stack. The
team's VPC, subnets and security groups, the APP_KEY parameter, the deploy role, the domain
and its certificate are Terraform variables (``examples/inputs.py``; fake values in
``example.tfvars``). Viewers need TLS 1.2 on that name (CloudFront takes certificates from
us-east-1 only). Every function that reaches the database has a concurrency cap, and the proxy's
connection budget is checked at synth, so 3,000 simultaneous requests queue at Lambda, not at
PostgreSQL. Web and worker connect as the app user (DML only), the console (which runs
``migrate``) as the migration user; only the proxy and the deploy role, which runs the
bootstrap SQL once, may read the master user's secret.
"""

from __future__ import annotations

from pathlib import Path

from examples.inputs import DEFAULT_OPTIONS, StackOptions, declare
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

WEB_CONCURRENCY = 100
CONSOLE_CONCURRENCY = 5
WORKER_CONCURRENCY = 20


class ServerlessLaravelStack(LaravelStack):
    """CloudFront + WAF + HTTP API + web/console/worker functions + schedule + Valkey +
    PostgreSQL behind RDS Proxy, for the example app."""

    def __init__(self, scope: Construct, id: str, *, app: Path = LARAVEL_APP,
                 options: StackOptions = DEFAULT_OPTIONS) -> None:
        super().__init__(scope, id, region=REGION,
                         **options.stack_args(id, {"Example": "serverless_laravel"}))
        var = self.inputs = declare(self, id)
        vpc_id, subnets = var["vpc_id"], var["private_subnet_ids"]
        vpc = VpcConfig(subnets, var["function_security_group_ids"])
        self.laravel = LaravelApp(
            self, "laravel", app=app, name="example-laravel", vpc=vpc,
            secrets={"APP_KEY": SecretRef.ssm(var["app_key_parameter_arn"])},
            web=FunctionOptions(reserved_concurrency=WEB_CONCURRENCY),
            console=FunctionOptions(reserved_concurrency=CONSOLE_CONCURRENCY),
            waf_rate_limit=2000, log_retention_days=30,
            domain_name=var["domain_name"], certificate_arn=var["certificate_arn"],
        )
        self.jobs = QueueWorker(
            self, "jobs", app=app, vpc=vpc, maximum_concurrency=WORKER_CONCURRENCY,
            producers=[self.laravel.web, self.laravel.console],
        )
        self.laravel.add_function(self.jobs.function)
        self.scheduler = Scheduler(self, "scheduler", console=self.laravel.console)
        self.cache = RedisCache(self, "cache", vpc_id=vpc_id, subnet_ids=subnets)
        self.database = Database(self, "database", vpc_id=vpc_id, subnet_ids=subnets,
                                 instance_class="db.t4g.medium")
        self.proxy = DatabaseProxy(self, "proxy", vpc_id=vpc_id, subnet_ids=subnets,
                                   database=self.database)
        self.database.grant_bootstrap(var["deploy_role_name"])
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


def build(scope: Construct, options: StackOptions = DEFAULT_OPTIONS) -> list[LaravelStack]:
    """The stacks of this example."""
    return [ServerlessLaravelStack(scope, "serverless-laravel", options=options)]

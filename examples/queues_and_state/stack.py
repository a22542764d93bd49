"""A Laravel app in the team's existing VPC with its queue, scheduler, cache and database.

Every function that reaches the database has a concurrency cap, and the proxy's connection
budget is checked at synth: 3,000 simultaneous requests queue at Lambda, not at PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from constructs import Construct

from examples.paths import LARAVEL_APP
from serverless_laravel import (
    Database,
    DatabaseProxy,
    LaravelStack,
    PhpFunction,
    QueueWorker,
    RedisCache,
    Scheduler,
    VpcConfig,
)
from serverless_laravel.cdk import TerraformOutput

REGION = "eu-west-1"
VPC_ID = "vpc-0a1b2c3d4e5f67890"
PRIVATE_SUBNET_IDS = ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788",
                      "subnet-01234567890abcdef")
FUNCTION_SECURITY_GROUP_IDS = ("sg-0123456789abcdef0",)

WEB_CONCURRENCY = 100
CONSOLE_CONCURRENCY = 5
WORKER_CONCURRENCY = 20


class QueuesAndStateStack(LaravelStack):
    """Web, console and worker functions sharing SQS, Valkey and PostgreSQL (via RDS Proxy)."""

    def __init__(self, scope: Construct, id: str, *, app: Path = LARAVEL_APP) -> None:
        super().__init__(scope, id, region=REGION, tags={"Example": "queues_and_state"})
        vpc = VpcConfig(PRIVATE_SUBNET_IDS, FUNCTION_SECURITY_GROUP_IDS)
        env = {"APP_ENV": "production", "LOG_CHANNEL": "stderr"}
        self.web = PhpFunction(self, "web", app=app, vpc=vpc, environment=env,
                               reserved_concurrency=WEB_CONCURRENCY)
        self.console = PhpFunction(self, "console", app=app, runtime="console", vpc=vpc,
                                   environment=env, reserved_concurrency=CONSOLE_CONCURRENCY)
        self.jobs = QueueWorker(self, "jobs", app=app, vpc=vpc, environment=env,
                                producers=[self.web, self.console],
                                maximum_concurrency=WORKER_CONCURRENCY)
        self.scheduler = Scheduler(self, "scheduler", console=self.console)
        self.cache = RedisCache(self, "cache", vpc_id=VPC_ID, subnet_ids=PRIVATE_SUBNET_IDS)
        self.database = Database(self, "database", vpc_id=VPC_ID,
                                 subnet_ids=PRIVATE_SUBNET_IDS, instance_class="db.t4g.medium")
        self.proxy = DatabaseProxy(self, "proxy", vpc_id=VPC_ID, subnet_ids=PRIVATE_SUBNET_IDS,
                                   database=self.database)
        for fn in (self.web, self.console, self.jobs.function):
            self.cache.connect(fn)
            self.proxy.connect(fn)
        self._outputs()

    def _outputs(self) -> None:
        outputs = {
            "web_function": self.web.function.function_name,
            "console_function": self.console.function.function_name,
            "worker_function": self.jobs.function.function.function_name,
            "queue_url": self.jobs.url,
            "dead_letter_queue_url": self.jobs.dead_letter_queue.url,
            "cache_endpoint": self.cache.host,
            "database_proxy_endpoint": self.proxy.endpoint,
            "database_secret_arn": self.database.secret_arn,
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)


def build(scope: Construct) -> list[LaravelStack]:
    """The stacks of this example."""
    return [QueuesAndStateStack(scope, "queues-and-state")]

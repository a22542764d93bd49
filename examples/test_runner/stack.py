"""The Lambda test runner in the team's VPC: Laravel's test suite and API docs generated next
to the existing private PostgreSQL kept for tests (through an RDS Proxy), results in S3; a
Fargate task of the same image for suites longer than Lambda's 15 minutes.

The VPC, database and secret ids, the APP_KEY parameter and the image tag are placeholders: put
yours here. The runner's role writes only under ``runs/`` in its bucket and reads only APP_KEY
and the test database's migration user (tests run migrations); its security group reaches
only the proxy.
"""

from __future__ import annotations

from serverless_laravel import (
    DatabaseProxy,
    FargateCluster,
    LaravelStack,
    RunnerCommand,
    SecretRef,
    TestRunner,
    VpcConfig,
)
from serverless_laravel.cdk import Construct, TerraformOutput
from serverless_laravel.constructs.test_runner import STANDARD_COMMANDS

REGION = "eu-west-1"
VPC_ID = "vpc-0a1b2c3d4e5f67890"
PRIVATE_SUBNET_IDS = ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788")
# An existing group allowing 443 out to the VPC endpoints (S3, Secrets Manager, SSM) or a NAT.
EGRESS_SECURITY_GROUP_IDS = ("sg-0123456789abcdef0",)
APP_KEY_PARAMETER = "arn:aws:ssm:eu-west-1:123456789012:parameter/example-laravel/testing-app-key"
IMAGE_TAG = "2026-11-30-3f1c2a9"
# The existing test database: its instance, security group and the two users' secrets.
TEST_DATABASE = "laravel-testing"
TEST_DATABASE_SECURITY_GROUP = "sg-0fedcba9876543210"
APP_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:laravel-testing/app-AbC123"
MIGRATION_SECRET = ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
                    "laravel-testing/migrator-DeF456")


class TestRunnerStack(LaravelStack):
    """The test database's proxy, the runner (Lambda + Fargate task) and its outputs."""

    __test__ = False  # an example stack, not a pytest class

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, region=REGION, tags={"Example": "test_runner"})
        vpc = VpcConfig(PRIVATE_SUBNET_IDS, EGRESS_SECURITY_GROUP_IDS)
        self.proxy = DatabaseProxy(
            self, "proxy", vpc_id=VPC_ID, subnet_ids=PRIVATE_SUBNET_IDS, engine="postgres",
            db_instance_identifier=TEST_DATABASE, instance_class="db.t4g.medium",
            database_security_group_id=TEST_DATABASE_SECURITY_GROUP, database_name="testing",
            app_secret_arn=APP_SECRET, migration_secret_arn=MIGRATION_SECRET)
        self.cluster = FargateCluster(self, "cluster", vpc_id=VPC_ID, vpc=vpc)
        commands = {**STANDARD_COMMANDS,
                    "route:list": RunnerCommand(options={"json": "flag"})}
        self.runner = TestRunner(
            self, "runner", vpc_id=VPC_ID, vpc=vpc, image_tag=IMAGE_TAG, commands=commands,
            secrets={"APP_KEY": SecretRef.ssm(APP_KEY_PARAMETER)},
            environment={"APP_ENV": "testing", "LOG_CHANNEL": "stderr"},
            cluster=self.cluster,
        )
        self.runner.connect(self.proxy)
        self.runner.wire(self.proxy.migrations)
        outputs = {
            "function_name": self.runner.function.function_name,
            "repository_url": self.runner.repository.repository_url,
            "results_bucket": self.runner.bucket.name,
            "task_definition_arn": self.runner.task.arn if self.runner.task else "",
            "cluster_arn": self.cluster.arn,
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)


def build(scope: Construct) -> list[LaravelStack]:
    """The stacks of this example."""
    return [TestRunnerStack(scope, "test-runner")]

"""The Lambda test runner in the team's VPC: Laravel's test suite and API docs generated next
to the existing private PostgreSQL kept for tests (through an RDS Proxy), results in S3; a
Fargate task of the same image for suites longer than Lambda's 15 minutes.

The VPC, subnets and egress groups, the test database, its security group and users' secrets,
the APP_KEY parameter and the image tag are Terraform variables (``examples/inputs.py``; fake
values in ``example.tfvars``). The runner's role writes only under ``runs/`` in its bucket and
reads only APP_KEY and the test database's migration user (tests run migrations); its security
group reaches only the proxy.
"""

from __future__ import annotations

from examples.inputs import DEFAULT_OPTIONS, StackOptions, declare
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


class TestRunnerStack(LaravelStack):
    """The test database's proxy, the runner (Lambda + Fargate task) and its outputs."""

    __test__ = False  # an example stack, not a pytest class

    def __init__(self, scope: Construct, id: str,
                 options: StackOptions = DEFAULT_OPTIONS) -> None:
        super().__init__(scope, id, region=REGION,
                         **options.stack_args(id, {"Example": "test_runner"}))
        var = self.inputs = declare(self, id)
        vpc_id, subnets = var["vpc_id"], var["private_subnet_ids"]
        vpc = VpcConfig(subnets, var["egress_security_group_ids"])
        self.proxy = DatabaseProxy(
            self, "proxy", vpc_id=vpc_id, subnet_ids=subnets, engine="postgres",
            db_instance_identifier=var["test_database"], instance_class="db.t4g.medium",
            database_security_group_id=var["test_database_security_group_id"],
            database_name="testing", app_secret_arn=var["app_secret_arn"],
            migration_secret_arn=var["migration_secret_arn"])
        self.cluster = FargateCluster(self, "cluster", vpc_id=vpc_id, vpc=vpc)
        commands = {**STANDARD_COMMANDS,
                    "route:list": RunnerCommand(options={"json": "flag"})}
        self.runner = TestRunner(
            self, "runner", vpc_id=vpc_id, vpc=vpc, image_tag=var["image_tag"], commands=commands,
            secrets={"APP_KEY": SecretRef.ssm(var["testing_app_key_parameter_arn"])},
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


def build(scope: Construct, options: StackOptions = DEFAULT_OPTIONS) -> list[LaravelStack]:
    """The stacks of this example."""
    return [TestRunnerStack(scope, "test-runner", options)]

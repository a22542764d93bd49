"""``TestRunner``: a Lambda function from a container image, in the VPC next to the database,
that runs allow-listed artisan commands (the test suite, doc generators) and stores their
results in S3; with ``cluster=``, the same image as a one-off Fargate task for longer runs.

The handler (``runtime/test_runner.py``) takes ``{"command": "test", "filter": ...}``, never a
command line, and runs PHP without a shell. This construct sets its allow-list
(``commands=``), the secrets it reads into PHP's environment (``secrets=``, ``wire(proxy)``)
and gives its role exactly that: write under ``runs/`` in its own bucket, read the named
secrets. Its security group admits nothing and reaches only what ``connect()`` opens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import cdk
from ..cdk import Construct
from ..checks import check_bool, check_int, check_kms_key_arn, check_vpc_id
from ..errors import config_error
from .buckets import PrivateBucket
from .fargate.cluster import FargateCluster
from .fargate.environment import ContainerEnvironment
from .fargate.task import ContainerSpec, FargateTask, TaskOptions, check_task_options
from .function_options import check_sizing
from .iam import Condition, Grantable, PolicyStatement, ServiceRole, grant_sid, sid_for
from .naming import resource_name
from .network import Connectable, Connections, PrivateSecurityGroup
from .php_function import RESERVED_ENV, VpcConfig, default_function_name, eni_statements
from .secret_refs import SecretRef, is_safe_value
from .stack import is_ephemeral, partition_of, region_of

WHERE = "TestRunner"
DOCKERFILE = Path(__file__).resolve().parent.parent / "docker" / "test-runner" / "Dockerfile"
"""The image's Dockerfile, shipped in the package: ``docker build -f <DOCKERFILE> <app dir>``."""
HANDLER = "serverless_laravel.runtime.test_runner.handler"
ENTRY_POINT = ("python3", "-m", "serverless_laravel.runtime.test_runner")
CONTAINER = "runner"
RESULTS_PREFIX = "runs/"
OPTION_TYPES = ("flag", "value", "int")
# The handler's own variables: set by this construct only.
RUNNER_ENV = frozenset({
    "RESULTS_BUCKET", "APP_ROOT", "PHP_BINARY", "TEST_RUNNER_COMMANDS", "TEST_RUNNER_SECRETS",
    "UPLOAD_MARGIN_SECONDS", "TEST_RUNNER_COPY_APP", "TEST_RUNNER_SHARE_CREDENTIALS",
    "TEST_RUNNER_TIMEOUT_SECONDS", "TEST_RUNNER_CLUSTER", "TEST_RUNNER_TASK_DEFINITION",
    "TEST_RUNNER_CONTAINER", "TEST_RUNNER_TASK_NETWORK", "TEST_RUN_ID", "TEST_RUN_EVENT",
})
ENV_BYTES_LIMIT = 4 * 1024
_COMMAND = re.compile(r"^[a-z][a-z0-9-]*(:[a-z0-9-]+)*$")
_OPTION = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_RELATIVE_DIR = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_SCRIPT = re.compile(r"^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ABSOLUTE = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")


@dataclass(frozen=True)
class RunnerCommand:
    """One allow-listed command of the runner, checked when created.

    * ``options``: option name -> ``"flag"`` (a JSON boolean), ``"value"`` (letters, digits
      and ``_ \\ : . -``, at most 128) or ``"int"`` (1..1000); nothing else reaches PHP.
    * ``junit``: add ``--log-junit <file>`` and report its counts (test suites).
    * ``artifacts``: folders, relative to the app, uploaded after the run (generated docs).
    * ``script``: a PHP script run instead of ``artisan <command>`` (``vendor/bin/phpunit``).
    """

    options: Mapping[str, str] = field(default_factory=dict)
    junit: bool = False
    artifacts: Sequence[str] = ()
    script: str | None = None

    def __post_init__(self) -> None:
        where = "RunnerCommand"
        if not isinstance(self.options, Mapping) or any(
                not isinstance(k, str) or not _OPTION.match(k) or v not in OPTION_TYPES
                for k, v in self.options.items()):
            raise config_error(where, "options", self.options,
                               f"must map lowercase option names to one of {list(OPTION_TYPES)}",
                               "pass e.g. options={'filter': 'value', 'parallel': 'flag'}",
                               kind="shape")
        if "log-junit" in self.options:
            raise config_error(where, "options", "log-junit", "is set by the runner itself",
                               "pass junit=True instead", kind="reserved")
        check_bool(where, "junit", self.junit)
        if isinstance(self.artifacts, str) or not all(
                isinstance(a, str) and _RELATIVE_DIR.match(a) and ".." not in a.split("/")
                for a in self.artifacts):
            raise config_error(where, "artifacts", self.artifacts,
                               "must list folders relative to the app root, inside it",
                               "pass e.g. artifacts=('public/docs',)", kind="shape")
        if self.script is not None and (not isinstance(self.script, str)
                                        or not _SCRIPT.match(self.script)
                                        or ".." in self.script.split("/")):
            raise config_error(where, "script", self.script,
                               "must be a PHP script's path, in the app or absolute",
                               "pass e.g. 'vendor/bin/phpunit'", kind="shape")
        object.__setattr__(self, "options", dict(self.options))
        object.__setattr__(self, "artifacts", tuple(self.artifacts))

    def to_json(self) -> dict[str, Any]:
        """The handler's form of this entry (``TEST_RUNNER_COMMANDS``)."""
        entry: dict[str, Any] = {"options": dict(self.options)}
        if self.junit:
            entry["junit"] = True
        if self.artifacts:
            entry["artifacts"] = list(self.artifacts)
        if self.script:
            entry["script"] = self.script
        return entry


SUITE_OPTIONS = {"filter": "value", "testsuite": "value", "group": "value",
                 "exclude-group": "value"}
STANDARD_COMMANDS: dict[str, RunnerCommand] = {
    "test": RunnerCommand(options={**SUITE_OPTIONS, "parallel": "flag", "processes": "int",
                                   "stop-on-failure": "flag"}, junit=True),
    "phpunit": RunnerCommand(options={**SUITE_OPTIONS, "stop-on-failure": "flag"}, junit=True,
                             script="vendor/bin/phpunit"),
    "scribe:generate": RunnerCommand(options={"force": "flag", "no-extraction": "flag"},
                                     artifacts=("public/docs", "storage/app/scribe")),
    "api:export-markdown": RunnerCommand(artifacts=("storage/app/docs",)),
}
"""What the handler allows by default: ``artisan test`` (collision), PHPUnit itself (for apps
without collision), Scribe and the team's Markdown exporter."""


def _check_commands(commands: object) -> dict[str, RunnerCommand]:
    if commands is None:
        return dict(STANDARD_COMMANDS)
    if not isinstance(commands, Mapping) or not commands:
        raise config_error(WHERE, "commands", commands,
                           "must map command names to RunnerCommand",
                           "pass e.g. commands={'test': RunnerCommand(junit=True)}", kind="type")
    for name, command in commands.items():
        if not isinstance(name, str) or not _COMMAND.match(name):
            raise config_error(WHERE, "commands", name,
                               "names are lowercase artisan command names such as 'test' or "
                               "'scribe:generate'", "rename the entry", kind="name")
        if not isinstance(command, RunnerCommand):
            raise config_error(WHERE, f"commands[{name!r}]", type(command).__name__,
                               "must be a RunnerCommand", "pass RunnerCommand(options={...})",
                               kind="type")
    return dict(commands)


def _check_secrets(secrets: object) -> dict[str, SecretRef]:
    if secrets is None:
        return {}
    if not isinstance(secrets, Mapping):
        raise config_error(WHERE, "secrets", secrets, "must map variable names to SecretRef",
                           "pass secrets={'APP_KEY': SecretRef.ssm(<ARN>)}", kind="type")
    for key, ref in secrets.items():
        _check_key("secrets", key)
        if not isinstance(ref, SecretRef):
            raise config_error(WHERE, f"secrets[{key!r}]", type(ref).__name__,
                               "must be a SecretRef, never the secret's value",
                               "pass SecretRef.ssm(<parameter ARN>) or "
                               "SecretRef.secrets_manager(<secret ARN>)", kind="type")
    return dict(secrets)


def _check_key(prop: str, key: object) -> None:
    if not isinstance(key, str) or not _ENV_KEY.match(key):
        raise config_error(WHERE, prop, key, "keys must be variable names",
                           "rename the variable", kind="name")
    if key in RESERVED_ENV or key in RUNNER_ENV or key.startswith("AWS_"):
        raise config_error(WHERE, prop, key, "is set by Lambda, ECS or the runner itself",
                           "remove it", kind="reserved")


def _check_environment(environment: object) -> dict[str, str]:
    if environment is None:
        return {}
    if not isinstance(environment, Mapping):
        raise config_error(WHERE, "environment", environment,
                           "must map variable names to strings",
                           "pass environment={'APP_ENV': 'testing'}", kind="type")
    for key, value in environment.items():
        _check_key("environment", key)
        if not isinstance(value, str):
            raise config_error(WHERE, f"environment[{key!r}]", value, "values must be strings",
                               f"pass str({value!r})", kind="type")
        if not is_safe_value(key, value):
            raise config_error(
                WHERE, "environment", key,
                "looks like a secret; as a plain variable it would be readable in the "
                "function's configuration and the Terraform state",
                f"pass secrets={{{key!r}: SecretRef.ssm(<parameter ARN>)}}: the runner reads "
                "it into PHP's environment only", kind="secret")
    return dict(environment)


def value_from(ref: SecretRef) -> str:
    """Where the handler reads a secret: the parameter's or the secret's ARN."""
    return ref.arn


def _literal_bytes(variables: Mapping[str, str]) -> int:
    return sum(len(k) + len(v) for k, v in variables.items() if not cdk.is_token(v))


class _Roles:
    """Every role the runner's PHP acts through (the function's, the Fargate task's), as one
    ``Grantable``: a grant reaches both, so the two variants keep the same boundaries."""

    def __init__(self, *roles: ServiceRole) -> None:
        self.roles = list(roles)

    def add_to_role_policy(self, statement: PolicyStatement) -> None:
        for role in self.roles:
            role.add(statement)

    @property
    def role_arn(self) -> str:
        return self.roles[0].arn

    @property
    def arn(self) -> str:
        return self.role_arn


class _RunnerTask(FargateTask):
    """The Fargate task definition, with the image's entry point replaced by the handler's
    ``python -m`` entry (the image's own entry point is Lambda's), pulling from the runner's
    repository."""

    def __init__(self, *args: Any, entry_point: Sequence[str], repository_arn: str,
                 **kwargs: Any) -> None:
        self.entry_point = list(entry_point)
        self.repository_arn = repository_arn
        super().__init__(*args, **kwargs)

    def _execution_statements(self) -> list[PolicyStatement]:
        """Pull from the runner's repository, write the task's log group; no secrets (the
        handler reads them, into PHP's environment only)."""
        return [
            PolicyStatement(sid="AuthenticateToEcr", actions=("ecr:GetAuthorizationToken",),
                            resources=("*",)),
            PolicyStatement(sid="PullImages", actions=(
                "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer"), resources=(self.repository_arn,)),
            PolicyStatement(sid="WriteContainerLogs",
                            actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                            resources=tuple(f"{group.arn}:*"
                                            for group in self.log_groups.values())),
        ]

    def _definition(self, spec: ContainerSpec) -> dict[str, Any]:
        return {**super()._definition(spec), "entryPoint": self.entry_point}

    def set_environment(self, variables: Mapping[str, str]) -> None:
        """Replace the runner container's plain variables and render the definitions again."""
        spec = self._containers[0]
        spec.environment = dict(variables)
        self.definition.container_definitions = self._render()


class TestRunner(Construct):
    """The runner: an ECR repository (immutable tags, scan on push, lifecycle, KMS), a results
    bucket (private, encrypted, TLS-only, expiring), the Lambda function from the image in the
    private subnets with its own security group, and with ``cluster=`` a Fargate task.

    Props (checked before anything is created):

    * ``vpc_id``; ``vpc``: a ``VpcConfig`` of private subnets and the existing groups that give
      the function its egress to AWS APIs (443 to the S3, Secrets Manager and SSM endpoints or a
      NAT gateway); the runner's own group (its identity) is added to them.
    * ``image_tag``: the tag of the image in the runner's repository (immutable: a new build is
      a new tag, e.g. the commit SHA).
    * ``commands``: the allow-list, command -> ``RunnerCommand`` (default ``STANDARD_COMMANDS``).
    * ``secrets``: variable -> ``SecretRef``, read at each run into PHP's environment only.
    * ``environment``: plain variables for PHP (no secret-looking names).
    * ``memory_size`` (128..10,240 MB, default 2,048), ``timeout`` (60..900 s, default 900),
      ``ephemeral_storage_mb`` (512..10,240, default 4,096: the app is copied to /tmp per run),
      ``reserved_concurrency`` (1..100, default 2: runs at once, each may hold a database
      connection), ``architecture`` (default ``x86_64``; the image must match).
    * ``upload_margin_seconds``: time kept for the upload (5..300, default 30; below timeout).
    * ``results_retention_days`` (1..3,650, default 30); ``image_count`` (1..1,000, default
      20 images kept); ``kms_key_arn`` (repository, bucket and log group; default AWS keys);
      ``log_retention_days`` (default 30); ``tracing`` (default on).
    * ``app_root`` (default ``/var/task``) and ``php_binary`` (default ``php``): as in the image.
    * ``cluster``: a ``FargateCluster`` for the task variant; ``task``: its ``TaskOptions``
      (default 1,024 CPU units, 2,048 MiB); ``task_timeout_seconds`` (60..86,400, default
      7,200): the budget of a task run.
    """

    __test__ = False  # a construct, not a pytest class

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc_id: str,
        vpc: VpcConfig,
        image_tag: str,
        commands: Mapping[str, RunnerCommand] | None = None,
        secrets: Mapping[str, SecretRef] | None = None,
        environment: Mapping[str, str] | None = None,
        memory_size: int = 2048,
        timeout: int = 900,
        ephemeral_storage_mb: int = 4096,
        reserved_concurrency: int = 2,
        architecture: str = "x86_64",
        upload_margin_seconds: int = 30,
        results_retention_days: int = 30,
        image_count: int = 20,
        kms_key_arn: str | None = None,
        log_retention_days: int = 30,
        tracing: bool = True,
        app_root: str = "/var/task",
        php_binary: str = "php",
        cluster: FargateCluster | None = None,
        task: TaskOptions | None = None,
        task_timeout_seconds: int = 7200,
    ) -> None:
        check_vpc_id(WHERE, vpc_id)
        if not isinstance(vpc, VpcConfig):
            raise config_error(WHERE, "vpc", vpc, "must be a VpcConfig",
                               "pass vpc=VpcConfig(subnet_ids=(...), security_group_ids=(...))",
                               kind="type")
        if not isinstance(image_tag, str) or not (cdk.is_token(image_tag)
                                                  or _IMAGE_TAG.match(image_tag)):
            raise config_error(WHERE, "image_tag", image_tag,
                               "must be an image tag (1..128 of letters, digits, _ . -)",
                               "pass the tag you pushed, e.g. the commit SHA", kind="shape")
        check_int(WHERE, "timeout", timeout, 60, 900, "pass 60..900 seconds (Lambda's limit "
                  "is 900; longer suites: cluster= and the Fargate task)", unit="seconds")
        check_int(WHERE, "reserved_concurrency", reserved_concurrency, 1, 100,
                  "pass how many runs may go at once, e.g. 2", unit="runs")
        check_sizing(WHERE, memory_size=memory_size, ephemeral_storage_mb=ephemeral_storage_mb,
                     log_retention_days=log_retention_days, tracing=tracing,
                     architecture=architecture)
        check_int(WHERE, "upload_margin_seconds", upload_margin_seconds, 5,
                  min(300, timeout - 30), f"pass 5..{min(300, timeout - 30)} seconds: the "
                  "command needs the rest of the timeout", unit="seconds")
        check_int(WHERE, "results_retention_days", results_retention_days, 1, 3650,
                  "pass the days results are kept, e.g. 30", unit="days")
        check_int(WHERE, "image_count", image_count, 1, 1000,
                  "pass how many images the repository keeps, e.g. 20", unit="images")
        check_kms_key_arn(WHERE, kms_key_arn)
        for prop, value in (("app_root", app_root), ("php_binary", php_binary)):
            if not isinstance(value, str) or not (_ABSOLUTE.match(value) or (
                    prop == "php_binary" and re.match(r"^[a-z0-9._-]+$", value))):
                raise config_error(WHERE, prop, value, "must be an absolute path"
                                   + (" or a program name on PATH" if prop == "php_binary"
                                      else ""), "pass e.g. '/var/task'" if prop == "app_root"
                                   else "pass e.g. 'php' or '/usr/bin/php'", kind="shape")
        self.commands = _check_commands(commands)
        self.secrets = _check_secrets(secrets)
        self._environment = _check_environment(environment)
        if cluster is not None and not isinstance(cluster, FargateCluster):
            raise config_error(WHERE, "cluster", type(cluster).__name__,
                               "must be a FargateCluster", "pass cluster=FargateCluster(...)",
                               kind="type")
        options = check_task_options(WHERE, task, 1024, 2048) if cluster else None
        check_int(WHERE, "task_timeout_seconds", task_timeout_seconds, 60, 86_400,
                  "pass the longest a task run may take, e.g. 7200", unit="seconds")
        self.region = region_of(scope, None, WHERE)
        self.vpc = vpc
        self.reserved_concurrency = reserved_concurrency
        self.max_processes = reserved_concurrency + (1 if cluster else 0)
        self._settings = {
            "APP_ROOT": app_root, "PHP_BINARY": php_binary,
            "UPLOAD_MARGIN_SECONDS": str(upload_margin_seconds),
            "TEST_RUNNER_COMMANDS": json.dumps(
                {name: c.to_json() for name, c in self.commands.items()},
                separators=(",", ":")),
        }
        self._secret_sources = {key: value_from(ref) for key, ref in self.secrets.items()}
        self._check_size()

        super().__init__(scope, id)
        partition = partition_of(self.region)
        self.function_name = default_function_name(cdk.TerraformStack.of(self).node.id,
                                                   cdk.relative_path(self))
        self.repository = self._repository(kms_key_arn, image_count)
        self.image_uri = f"{self.repository.repository_url}:{image_tag}"
        self.bucket = PrivateBucket(self, "results", bucket_prefix="laravel-test-results-",
                                    kms_key_arn=kms_key_arn, noncurrent_version_days=1,
                                    expire_after_days=results_retention_days)
        self.security_group = PrivateSecurityGroup(
            self, "security-group", vpc_id=vpc_id,
            description=f"{cdk.relative_path(self)}: admits nothing, reaches what is connected")
        self.connections = Connections(self.node.id, owned=self.security_group)
        self.log_group = cdk.aws("cloudwatch_log_group").CloudwatchLogGroup(
            self, "logs", name=f"/aws/lambda/{self.function_name}",
            retention_in_days=log_retention_days, kms_key_id=kms_key_arn)
        self.role = ServiceRole(self, "role", service="lambda.amazonaws.com",
                                statements=self._function_statements(tracing, partition))
        self.cluster = cluster
        self.task: _RunnerTask | None = None
        if cluster is not None and options is not None:
            self.task = self._task(cluster, options, task_timeout_seconds)
        self.grantee = _Roles(self.role, *([self.task.role] if self.task else []))
        for statement in self._run_statements(kms_key_arn):
            self.grantee.add_to_role_policy(statement)
        for key, ref in self.secrets.items():
            self._grant_secret(key, ref)
        pull = self._pull_policy(partition)
        self.function = cdk.aws("lambda_function").LambdaFunction(
            self, "function", function_name=self.function_name,
            description="Runs allow-listed artisan commands; results to S3 (serverless-laravel)",
            role=self.role.arn, package_type="Image", image_uri=self.image_uri,
            image_config={"command": [HANDLER]}, architectures=[architecture],
            memory_size=memory_size, timeout=timeout,
            ephemeral_storage={"size": ephemeral_storage_mb},
            reserved_concurrent_executions=reserved_concurrency,
            tracing_config={"mode": "Active" if tracing else "PassThrough"},
            environment={"variables": self.environment},
            logging_config={"log_format": "Text", "log_group": self.log_group.name},
            vpc_config={"subnet_ids": list(vpc.subnet_ids),
                        "security_group_ids": self.security_group_ids},
            depends_on=[self.log_group, self.role.policy, pull],
        )

    # Resources.

    def _repository(self, kms_key_arn: str | None, image_count: int) -> Any:
        """Immutable tags, scanned on push, KMS-encrypted, the newest ``image_count`` kept;
        in an ephemeral stack destroyed with its images."""
        repository = cdk.aws("ecr_repository").EcrRepository(
            self, "repository", name=resource_name(self, "", 256),
            image_tag_mutability="IMMUTABLE", force_delete=True if is_ephemeral(self) else None,
            image_scanning_configuration={"scan_on_push": True},
            encryption_configuration=[cdk.struct(
                "ecr_repository", "EcrRepositoryEncryptionConfiguration",
                encryption_type="KMS", kms_key=kms_key_arn)],
        )
        rules = [
            {"rulePriority": 1, "description": "Untagged layers go after a day",
             "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                           "countUnit": "days", "countNumber": 1},
             "action": {"type": "expire"}},
            {"rulePriority": 2, "description": f"Keep the newest {image_count} images",
             "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                           "countNumber": image_count},
             "action": {"type": "expire"}},
        ]
        cdk.aws("ecr_lifecycle_policy").EcrLifecyclePolicy(
            self, "lifecycle", repository=repository.name,
            policy=json.dumps({"rules": rules}, separators=(",", ":")))
        return repository

    def _pull_policy(self, partition: str) -> Any:
        """The repository lets Lambda pull its images for this function only."""
        function_arn = (f"arn:{partition}:lambda:{self.region}:{self.repository.registry_id}:"
                        f"function:{self.function_name}")
        document = cdk.aws("data_aws_iam_policy_document").DataAwsIamPolicyDocument(
            self, "repository-policy-document", statement=[cdk.struct(
                "data_aws_iam_policy_document", "DataAwsIamPolicyDocumentStatement",
                sid="LambdaPullsTheRunnerImage", effect="Allow",
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                principals=[cdk.struct("data_aws_iam_policy_document",
                                       "DataAwsIamPolicyDocumentStatementPrincipals",
                                       type="Service", identifiers=["lambda.amazonaws.com"])],
                condition=[cdk.struct("data_aws_iam_policy_document",
                                      "DataAwsIamPolicyDocumentStatementCondition",
                                      test="StringLike", variable="aws:sourceArn",
                                      values=[function_arn])])])
        return cdk.aws("ecr_repository_policy").EcrRepositoryPolicy(
            self, "repository-policy", repository=self.repository.name, policy=document.json)

    def _task(self, cluster: FargateCluster, options: TaskOptions, budget: int) -> _RunnerTask:
        """The same image as a one-off task: non-root, read-only but for /tmp."""
        spec = ContainerSpec(name=CONTAINER, image_uri=self.image_uri, user="1000:1000",
                             read_only=True, writable_paths=("/tmp",),
                             command=[json.dumps({"command": "test"})])
        self._task_settings = {"TEST_RUNNER_TIMEOUT_SECONDS": str(budget),
                               "AWS_DEFAULT_REGION": self.region}
        task = _RunnerTask(self, "task", options=options, containers=[spec], secret_refs={},
                           region=self.region, label=cdk.relative_path(self), max_processes=1,
                           entry_point=ENTRY_POINT, repository_arn=self.repository.arn)
        self._task_network = {"subnets": list(cluster.subnet_ids),
                              "security_groups": cdk.expand_lists(
                                  [self.security_group.group_id, *cluster.security_group_ids])}
        task.set_environment(self.task_environment)
        return task

    # IAM.

    def _function_statements(self, tracing: bool, partition: str) -> list[PolicyStatement]:
        """Its log group, X-Ray, and the ENIs Lambda manages in its subnets (denied to PHP)."""
        statements = [PolicyStatement(sid="WriteOwnLogs",
                                      actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                                      resources=(f"{self.log_group.arn}:*",))]
        if tracing:
            statements.append(PolicyStatement(
                sid="WriteTraces", actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
                resources=("*",)))
        groups = (*self.vpc.security_group_ids, self.security_group.group_id)
        return [*statements, *eni_statements(self.region, self.function_name,
                                             self.vpc.subnet_ids, groups)]

    def _run_statements(self, kms_key_arn: str | None) -> list[PolicyStatement]:
        """Write results under ``runs/`` only: no read, list or delete."""
        statements = [PolicyStatement(
            sid="WriteResults", actions=("s3:PutObject", "s3:AbortMultipartUpload"),
            resources=(f"{self.bucket.arn}/{RESULTS_PREFIX}*",))]
        if kms_key_arn:
            statements.append(PolicyStatement(
                sid="EncryptResults", actions=("kms:GenerateDataKey", "kms:Decrypt"),
                resources=(kms_key_arn,), conditions=(Condition(
                    "StringEquals", "kms:ViaService", (f"s3.{self.region}.amazonaws.com",)),)))
        return statements

    def _grant_secret(self, key: str, ref: SecretRef) -> None:
        """Read exactly this secret (GetParameter or GetSecretValue) and decrypt it."""
        if ref.is_parameter:
            statement = PolicyStatement(sid=sid_for("ReadParameter", key),
                                        actions=("ssm:GetParameter",), resources=(ref.arn,))
        else:
            statement = PolicyStatement(sid=sid_for("ReadSecret", key),
                                        actions=("secretsmanager:GetSecretValue",),
                                        resources=(ref.arn,))
        self.grantee.add_to_role_policy(statement)
        if ref.kms_key_arn is not None:
            self.grantee.add_to_role_policy(PolicyStatement(
                sid=sid_for("DecryptSecret", key), actions=("kms:Decrypt",),
                resources=(ref.kms_key_arn,)))

    # Environment.

    def _variables(self) -> dict[str, str]:
        """PHP's variables and the handler's settings, as far as they are known."""
        variables = {**self._environment, **self._settings}
        if self._secret_sources:
            variables["TEST_RUNNER_SECRETS"] = json.dumps(self._secret_sources,
                                                          separators=(",", ":"))
        return variables

    @property
    def environment(self) -> dict[str, str]:
        """The function's variables: PHP's, the handler's settings, where the task is."""
        variables = {**self._variables(), "RESULTS_BUCKET": self.bucket.name}
        if self.task is not None and self.cluster is not None:
            variables |= {
                "TEST_RUNNER_CLUSTER": self.cluster.arn,
                "TEST_RUNNER_TASK_DEFINITION": self.task.arn,
                "TEST_RUNNER_CONTAINER": CONTAINER,
                "TEST_RUNNER_TASK_NETWORK": self._task_network_json(),
            }
        return variables

    def _task_network_json(self) -> str:
        """The task's subnets and groups as JSON; Terraform encodes it when a list is a variable."""
        if any(cdk.is_list_token(v) for v in self._task_network.values()):
            return cdk.Fn.jsonencode(self._task_network)
        return json.dumps(self._task_network, separators=(",", ":"))

    @property
    def task_environment(self) -> dict[str, str]:
        """The task's variables: the function's settings, the bucket, its budget and region."""
        return {**self._variables(), "RESULTS_BUCKET": self.bucket.name, **self._task_settings}

    def _check_size(self) -> None:
        size = _literal_bytes(self._variables())
        if size > ENV_BYTES_LIMIT:
            raise config_error(WHERE, "environment", f"{size} bytes",
                               "Lambda allows 4 KB of variables in total (the allow-list "
                               "counts)", "trim the allow-list or the variables", kind="size")

    def _refresh(self) -> None:
        self._check_size()
        self.function.put_environment(variables=self.environment)
        if self.task is not None:
            self.task.set_environment(self.task_environment)

    def add_environment(self, key: str, value: str) -> None:
        """Set one plain variable for PHP."""
        self._environment |= _check_environment({key: value})
        self._refresh()

    def wire(self, *resources: Any) -> None:
        """Fill PHP's environment from each resource's ``container_environment(self)`` (a
        ``DatabaseProxy``, ``RedisCache``, ``JobQueue``): plain variables as they are, secrets
        read by the handler at each run. The resource grants the runner's roles exactly what
        it needs, and counts the runner in its connection budget."""
        for resource in resources:
            method = getattr(resource, "container_environment", None)
            if method is None:
                raise config_error(WHERE, "resources", type(resource).__name__,
                                   "must describe what a container needs "
                                   "(container_environment)",
                                   "pass a DatabaseProxy, RedisCache or JobQueue", kind="type")
            self._apply(method(self))

    def _apply(self, environment: ContainerEnvironment) -> None:
        for key, value in environment.variables.items():
            existing = self._environment.get(key)
            if existing is not None and existing != value:
                raise config_error(WHERE, "environment", key,
                                   f"is already set to {existing!r}",
                                   "wire each resource once; do not set its variables yourself",
                                   kind="conflict")
        clash = sorted(set(environment.secrets) & (set(self._secret_sources)
                                                   | set(self._environment)))
        if clash:
            raise config_error(WHERE, "secrets", clash, "is already set",
                               "wire each resource once", kind="conflict")
        self._environment |= dict(environment.variables)
        self._secret_sources |= dict(environment.secrets)
        self._refresh()

    def connect(self, other: Connectable, port: int | None = None) -> None:
        """Open one path: ``other`` admits the runner's group, which may reach ``other``'s
        groups on that port (default: ``other``'s ports) and nothing else."""
        target = getattr(other, "connections", None)
        if not isinstance(target, Connections):
            raise config_error(WHERE, "other", type(other).__name__,
                               "must be Connectable (have .connections)",
                               "pass a DatabaseProxy, RedisCache or another construct of "
                               "this library", kind="type")
        target.allow_from(self, port)
        ports = (port,) if port is not None else target.default_ports
        for group in target.source_groups(WHERE):
            for each in ports:
                self.security_group.allow_to_group(group, each,
                                                   f"{self.node.id} to {target.label}")

    # The consumer side (what resources' ``container_environment`` and grants need).

    @property
    def label(self) -> str:
        return cdk.relative_path(self)

    @property
    def execution_role(self) -> Grantable:
        """Who reads the secrets: the runner's roles (the handler reads them, not ECS)."""
        return self.grantee

    @property
    def task_role(self) -> Grantable:
        return self.grantee

    @property
    def security_group_ids(self) -> list[str]:
        """The runner's own group, then the existing egress groups."""
        return cdk.expand_lists([self.security_group.group_id, *self.vpc.security_group_ids])

    def add_to_role_policy(self, statement: PolicyStatement) -> None:
        """Give the runner's roles one more statement (``grant_*`` methods call this)."""
        self.grantee.add_to_role_policy(statement)

    @property
    def role_arn(self) -> str:
        return self.role.arn

    @property
    def arn(self) -> str:
        return self.function.arn

    def grant_invoke(self, grantee: Grantable) -> None:
        """Let ``grantee`` (a CI role) start runs on Lambda."""
        grantee.add_to_role_policy(PolicyStatement(
            sid=grant_sid("Invoke", self), actions=("lambda:InvokeFunction",),
            resources=(self.arn,)))

    def grant_read_results(self, grantee: Grantable) -> None:
        """Let ``grantee`` (a CI role, the CLI's user) list and read the results."""
        self.bucket.grant_read(grantee, RESULTS_PREFIX)
        grantee.add_to_role_policy(PolicyStatement(
            sid=grant_sid("ListResults", self), actions=("s3:ListBucket",),
            resources=(self.bucket.arn,),
            conditions=(Condition("StringLike", "s3:prefix", (f"{RESULTS_PREFIX}*",)),)))

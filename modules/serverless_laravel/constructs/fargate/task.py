"""``FargateTask``: a Fargate task definition, its execution role, its task role and one log group
per container; ``TaskOptions`` (sizing) and ``PhpContainer`` (the Laravel image and its settings).

The two roles are kept apart. The *execution* role is what ECS uses to start the task: pull the
images (from exactly their repositories), write the containers' log groups, and read exactly the
secrets injected into the containers. The *task* role is what the app runs as: it starts empty
and grows by ``grant_*`` calls (bucket, queue), as a function's role does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ... import cdk
from ...cdk import Construct
from ...checks import check_bool, check_choice, check_kms_key_arn
from ...errors import config_error
from ..function_options import LOG_RETENTION_DAYS
from ..iam import PolicyStatement, ServiceRole, sid_for
from ..naming import resource_name
from ..php_function import _IMAGE_URI as IMAGE_URI
from ..secret_refs import SecretRef
from ..stack import partition_of
from .environment import ContainerEnvironment, RoleGrantee, check_variable, merge

ARCHITECTURES = {"x86_64": "X86_64", "arm64": "ARM64"}
# Fargate's task sizes: vCPU units -> the memory sizes (MiB) it pairs with (Amazon ECS
# Developer Guide, "Task CPU and memory").
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
ROOT_USERS = frozenset({"0", "root", "0:0", "root:root"})
REQUIRED_SECRETS: tuple[str, ...] = ("APP_KEY",)
# Set on every PHP container by the task itself (the SQS and S3 clients read it).
MANAGED_ENV = frozenset({"AWS_DEFAULT_REGION"})
DEFAULT_APP_ROOT = "/var/www/html"
PHP = "php"
TASKS_SERVICE = "ecs-tasks.amazonaws.com"
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$")
_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)+/?$")
_ECR_URI = re.compile(
    r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9._/-]+)(:|@)")


@dataclass(frozen=True)
class TaskOptions:
    """How one Fargate task is sized and run; ``None`` keeps the construct's default.

    * ``cpu``: vCPU units, 256..16,384, one of Fargate's sizes (default per construct).
    * ``memory``: MiB, a size Fargate pairs with ``cpu`` (e.g. 512 -> 1,024..4,096).
    * ``architecture``: ``"x86_64"`` (default) or ``"arm64"`` (the images must match).
    * ``log_retention_days``: one of CloudWatch's values (default 30).
    * ``kms_key_arn``: key encrypting the log groups (default CloudWatch's own encryption).
    * ``enable_execute_command``: ECS Exec into running containers (default off: it is a
      shell in production; turning it on adds the ``ssmmessages`` actions to the task role).
    """

    cpu: int | None = None
    memory: int | None = None
    architecture: str = "x86_64"
    log_retention_days: int = 30
    kms_key_arn: str | None = None
    enable_execute_command: bool = False


def check_task_options(where: str, options: object, cpu: int, memory: int) -> TaskOptions:
    """``options`` (or the defaults) with ``cpu`` and ``memory`` filled in and checked."""
    if options is None:
        options = TaskOptions()
    if not isinstance(options, TaskOptions):
        raise config_error(where, "task", type(options).__name__, "must be a TaskOptions",
                           "pass task=TaskOptions(cpu=512, memory=1024)", kind="type")
    sized = TaskOptions(
        cpu=cpu if options.cpu is None else options.cpu,
        memory=memory if options.memory is None else options.memory,
        architecture=options.architecture, log_retention_days=options.log_retention_days,
        kms_key_arn=options.kms_key_arn, enable_execute_command=options.enable_execute_command)
    if sized.cpu not in FARGATE_SIZES:
        raise config_error(where, "task.cpu", sized.cpu,
                           f"must be one of Fargate's sizes {list(FARGATE_SIZES)}",
                           "pass e.g. cpu=512 (half a vCPU)", kind="choice")
    if sized.memory not in FARGATE_SIZES[sized.cpu]:
        allowed = FARGATE_SIZES[sized.cpu]
        raise config_error(
            where, "task.memory", sized.memory,
            f"Fargate pairs cpu={sized.cpu} with {allowed[0]}..{allowed[-1]} MiB "
            f"({', '.join(map(str, allowed[:4]))}{', ...' if len(allowed) > 4 else ''})",
            f"pass memory={allowed[0]}, or another cpu", kind="combination")
    check_choice(where, "task.architecture", sized.architecture, tuple(ARCHITECTURES))
    if sized.log_retention_days not in LOG_RETENTION_DAYS:
        raise config_error(where, "task.log_retention_days", sized.log_retention_days,
                           f"must be one of CloudWatch's values {list(LOG_RETENTION_DAYS)}",
                           "pick the nearest allowed value, e.g. 30", kind="choice")
    check_kms_key_arn(where, sized.kms_key_arn, "task.kms_key_arn")
    check_bool(where, "task.enable_execute_command", sized.enable_execute_command)
    return sized


def check_image_uri(where: str, prop: str, value: object) -> str:
    """An image in Amazon ECR (a tag or a digest), like ``PhpFunction``'s ``image_uri``."""
    if not (cdk.is_token(value) or (isinstance(value, str) and IMAGE_URI.match(value))):
        raise config_error(
            where, prop, value, "must be an Amazon ECR image (the execution role may pull from "
            "exactly its repository)",
            "pass <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>",
            kind="shape")
    return str(value)


def check_user(where: str, prop: str, value: object) -> str | None:
    """A container user that is not root: a name or uid, optionally ``:group``."""
    if value is None:
        return None
    if not isinstance(value, str) or not _USER.match(value):
        raise config_error(where, prop, value, "must be a user name or uid, optionally with "
                           ":group", "pass e.g. 'www-data' or '33:33'", kind="shape")
    if value in ROOT_USERS or value.startswith(("0:", "root:")):
        raise config_error(
            where, prop, value, "runs the container as root; a process escaping PHP or nginx "
            "would own the container", "build the image to run as an unprivileged user and "
            "pass it, e.g. 'www-data' (or None to keep the image's USER)", kind="root")
    return value


def check_paths(where: str, prop: str, paths: object) -> tuple[str, ...]:
    """Absolute, distinct directory paths."""
    values = tuple(paths) if isinstance(paths, (list, tuple)) else None
    if values is None or not all(isinstance(p, str) and _PATH.match(p) for p in values) \
            or len(set(values)) != len(values):
        raise config_error(where, prop, paths, "must be a list of distinct absolute paths",
                           "pass e.g. ('/tmp', '/var/www/html/storage')", kind="shape")
    return tuple(p.rstrip("/") for p in values)


@dataclass(frozen=True)
class PhpContainer:
    """The PHP image every Laravel task runs (php-fpm for web, artisan for the worker and the
    schedule) and the app's own settings. Checked when created.

    * ``image_uri``: the image in ECR (tag or digest).
    * ``secrets``: variable -> ``SecretRef``, injected by ECS at start; ``APP_KEY`` required.
    * ``environment``: plain variables (no secret-looking names; default ``LOG_CHANNEL=stderr``).
    * ``user``: the user PHP runs as (default ``www-data``; root refused; None keeps the image's).
    * ``app_root``: where the app is in the image (default ``/var/www/html``).
    * ``read_only_root_filesystem``: default on; ``writable_paths`` (default ``/tmp``,
      ``<app_root>/storage``, ``<app_root>/bootstrap/cache``) get empty task volumes.
    """

    image_uri: str
    secrets: Mapping[str, SecretRef]
    environment: Mapping[str, str] = field(default_factory=dict)
    user: str | None = "www-data"
    app_root: str = DEFAULT_APP_ROOT
    read_only_root_filesystem: bool = True
    writable_paths: Sequence[str] | None = None

    def __post_init__(self) -> None:
        where = "PhpContainer"
        check_image_uri(where, "image_uri", self.image_uri)
        check_user(where, "user", self.user)
        check_paths(where, "app_root", [self.app_root])
        check_bool(where, "read_only_root_filesystem", self.read_only_root_filesystem)
        paths = ("/tmp", f"{self.app_root}/storage", f"{self.app_root}/bootstrap/cache") \
            if self.writable_paths is None else self.writable_paths
        object.__setattr__(self, "writable_paths", check_paths(where, "writable_paths", paths))
        if not isinstance(self.environment, Mapping):
            raise config_error(where, "environment", self.environment,
                               "must map variable names to strings",
                               "pass environment={'APP_ENV': 'production'}", kind="type")
        for key, value in self.environment.items():
            check_variable(where, "environment", key, value)
            if key in MANAGED_ENV:
                raise config_error(where, "environment", key,
                                   "is set by the task from the stack's Region",
                                   "remove it", kind="managed")
        self._check_secrets(where)

    def _check_secrets(self, where: str) -> None:
        if not isinstance(self.secrets, Mapping):
            raise config_error(where, "secrets", self.secrets, "must map variable names to "
                               "SecretRef", "pass secrets={'APP_KEY': SecretRef.ssm(...)}",
                               kind="type")
        for key, ref in self.secrets.items():
            if not isinstance(key, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise config_error(where, "secrets", key, "keys must be variable names",
                                   "rename the variable", kind="name")
            if not isinstance(ref, SecretRef):
                raise config_error(
                    where, f"secrets[{key!r}]", type(ref).__name__,
                    "must be a SecretRef, never the secret's value",
                    "pass SecretRef.ssm(<parameter ARN>) or SecretRef.secrets_manager(<ARN>)",
                    kind="type")
        missing = [k for k in REQUIRED_SECRETS if k not in self.secrets]
        if missing:
            raise config_error(
                where, "secrets", sorted(self.secrets), f"must include {missing}: Laravel "
                "cannot encrypt sessions and cookies without APP_KEY",
                "store it as an SSM SecureString and pass secrets={'APP_KEY': "
                "SecretRef.ssm(<its ARN>)}", kind="required")
        clash = sorted(set(self.secrets) & set(self.environment))
        if clash:
            raise config_error(where, "environment", clash, "is also given in secrets",
                               "keep each variable in one place", kind="duplicate")


@dataclass
class ContainerSpec:
    """One container of a task definition, before it is rendered to ECS's JSON."""

    name: str
    image_uri: str
    user: str | None
    read_only: bool
    writable_paths: tuple[str, ...]
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    port: int | None = None
    depends_on: str | None = None
    stop_timeout: int | None = None
    wired: bool = False

    def volume(self, path: str) -> str:
        """The task volume mounted at ``path`` in this container."""
        return f"{self.name}-{re.sub(r'[^A-Za-z0-9]+', '-', path).strip('-')}"


def php_spec(php: PhpContainer, region: str, command: list[str] | None = None,
             stop_timeout: int | None = None) -> ContainerSpec:
    """The PHP container of a task: the app's variables and secrets, wired later as well."""
    environment = {"LOG_CHANNEL": "stderr", **php.environment, "AWS_DEFAULT_REGION": region}
    return ContainerSpec(
        name=PHP, image_uri=php.image_uri, user=php.user,
        read_only=php.read_only_root_filesystem,
        writable_paths=tuple(php.writable_paths or ()), environment=environment,
        secrets={key: ref.arn for key, ref in php.secrets.items()}, command=command,
        stop_timeout=stop_timeout, wired=True,
    )


def repository_arn(image_uri: str, partition: str) -> str:
    """The ECR repository an image comes from, for the execution role's pull statement."""
    if not cdk.is_token(image_uri):
        match = _ECR_URI.match(image_uri)
        assert match is not None, image_uri
        account, region, china, repo = match.groups()[:4]
        partition = "aws-cn" if china else partition_of(region)
        return f"arn:{partition}:ecr:{region}:{account}:repository/{repo}"
    parts = cdk.Fn.regex("^([0-9]{12})[.]dkr[.]ecr[.]([a-z0-9-]+)[.][^/]+/([^:@]+)", image_uri)
    return (f"arn:{partition}:ecr:{cdk.Fn.element(parts, 1)}:{cdk.Fn.element(parts, 0)}:"
            f"repository/{cdk.Fn.element(parts, 2)}")


class FargateTask(Construct):
    """A Fargate task definition (awsvpc), its execution and task roles, a log group a container.

    ``wire(resource)`` adds what a resource's ``container_environment`` returns to the PHP
    container: plain variables to ``environment``, secret ARNs to ``secrets``.
    """

    def __init__(self, scope: Construct, id: str, *, options: TaskOptions,
                 containers: Sequence[ContainerSpec], secret_refs: Mapping[str, SecretRef],
                 region: str, label: str, max_processes: int) -> None:
        super().__init__(scope, id)
        self.options = options
        self.region = region
        self.label = label
        self.max_processes = max_processes
        self._containers = list(containers)
        self.family = resource_name(self, "", 255)
        self.log_group_names = {spec.name: f"/ecs/{self.family}/{spec.name}"
                                for spec in self._containers}
        self.log_groups = {spec.name: self._log_group(spec) for spec in self._containers}
        self.execution = ServiceRole(self, "execution-role", service=TASKS_SERVICE,
                                     statements=self._execution_statements())
        self.role = ServiceRole(self, "task-role", service=TASKS_SERVICE,
                                statements=self._exec_statements())
        self.execution_role = RoleGrantee(self.execution)
        self.task_role = RoleGrantee(self.role)
        for key, ref in secret_refs.items():
            self._grant_ref(key, ref)
        self.definition = cdk.aws("ecs_task_definition").EcsTaskDefinition(
            self, "definition", family=self.family, cpu=str(options.cpu),
            memory=str(options.memory), network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            execution_role_arn=self.execution.arn, task_role_arn=self.role.arn,
            runtime_platform={"operating_system_family": "LINUX",
                              "cpu_architecture": ARCHITECTURES[options.architecture]},
            volume=[cdk.struct("ecs_task_definition", "EcsTaskDefinitionVolume", name=name)
                    for name in self._volumes()] or None,
            container_definitions=self._render(),
        )

    @property
    def arn(self) -> str:
        return self.definition.arn

    def _log_group(self, spec: ContainerSpec) -> Any:
        return cdk.aws("cloudwatch_log_group").CloudwatchLogGroup(
            self, f"logs-{spec.name}", name=self.log_group_names[spec.name],
            retention_in_days=self.options.log_retention_days,
            kms_key_id=self.options.kms_key_arn,
        )

    def _volumes(self) -> list[str]:
        return [spec.volume(path) for spec in self._containers if spec.read_only
                for path in spec.writable_paths]

    def _execution_statements(self) -> list[PolicyStatement]:
        """Pull from exactly the images' repositories, write exactly the task's log groups."""
        partition = partition_of(self.region)
        repositories = list(dict.fromkeys(
            repository_arn(spec.image_uri, partition) for spec in self._containers))
        return [
            PolicyStatement(sid="AuthenticateToEcr", actions=("ecr:GetAuthorizationToken",),
                            resources=("*",)),
            PolicyStatement(sid="PullImages", actions=(
                "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer"), resources=tuple(repositories)),
            PolicyStatement(sid="WriteContainerLogs",
                            actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                            resources=tuple(f"{group.arn}:*"
                                            for group in self.log_groups.values())),
        ]

    def _exec_statements(self) -> list[PolicyStatement]:
        """ECS Exec, only when enabled: the SSM agent's channels (AWS requires ``*``) and the
        session transcript into the PHP container's log group."""
        if not self.options.enable_execute_command:
            return []
        group = self.log_groups.get(PHP) or next(iter(self.log_groups.values()))
        return [
            PolicyStatement(sid="ExecuteCommandChannels", actions=(
                "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"),
                resources=("*",)),
            PolicyStatement(sid="ExecuteCommandFindLogs", actions=("logs:DescribeLogGroups",),
                            resources=("*",)),
            PolicyStatement(sid="ExecuteCommandLogs", actions=(
                "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"),
                resources=(f"{group.arn}:*",)),
        ]

    def _grant_ref(self, key: str, ref: SecretRef) -> None:
        """The execution role reads one of the app's own secrets (and its key)."""
        if ref.is_parameter:
            self.execution.add(PolicyStatement(sid=sid_for("ReadParameter", key),
                                               actions=("ssm:GetParameters",),
                                               resources=(ref.arn,)))
        else:
            self.execution.add(PolicyStatement(sid=sid_for("ReadSecret", key),
                                               actions=("secretsmanager:GetSecretValue",),
                                               resources=(ref.arn,)))
        if ref.kms_key_arn is not None:
            self.execution.add(PolicyStatement(sid=sid_for("DecryptSecret", key),
                                               actions=("kms:Decrypt",),
                                               resources=(ref.kms_key_arn,)))

    def wire(self, where: str, environment: ContainerEnvironment) -> None:
        """Add a resource's variables and secrets to every wired (PHP) container."""
        for spec in self._containers:
            if spec.wired:
                merge(where, spec.environment, environment.variables, "environment")
                merge(where, spec.secrets, environment.secrets, "secrets")
                clash = sorted(set(spec.environment) & set(spec.secrets))
                if clash:
                    raise config_error(where, "environment", clash,
                                       "is set both as a plain variable and as a secret",
                                       "keep each variable in one place", kind="duplicate")
        self.definition.container_definitions = self._render()

    def _render(self) -> str:
        """ECS's container definitions as JSON text; tokens stay Terraform references."""
        return json.dumps([self._definition(spec) for spec in self._containers],
                          separators=(",", ":"))

    def _definition(self, spec: ContainerSpec) -> dict[str, Any]:
        definition: dict[str, Any] = {
            "name": spec.name,
            "image": spec.image_uri,
            "essential": True,
            "readonlyRootFilesystem": spec.read_only,
            "environment": [{"name": k, "value": v} for k, v in sorted(spec.environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(spec.secrets.items())],
            "mountPoints": [{"sourceVolume": spec.volume(path), "containerPath": path,
                             "readOnly": False} for path in spec.writable_paths]
            if spec.read_only else [],
            "portMappings": [{"containerPort": spec.port, "protocol": "tcp"}]
            if spec.port else [],
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": self.log_group_names[spec.name],
                "awslogs-region": self.region,
                "awslogs-stream-prefix": spec.name,
            }},
        }
        optional = {"user": spec.user, "command": spec.command, "stopTimeout": spec.stop_timeout,
                    "dependsOn": [{"containerName": spec.depends_on, "condition": "START"}]
                    if spec.depends_on else None}
        definition |= {k: v for k, v in optional.items() if v is not None}
        return definition

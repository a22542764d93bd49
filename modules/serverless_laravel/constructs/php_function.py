"""``PhpFunction``: a Lambda function running PHP through Bref, with its role and its log group.

Every prop is checked before any resource is created, so a bad value raises a
``ConfigurationError`` and nothing is half-synthesized.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import cdk
from ..build.bref import (
    ARCHITECTURES,
    INSTALLED_JSON,
    RUNTIMES,
    SECRETS_LOADER,
    BrefRuntime,
    resolve_bref_runtime,
    resolve_handler,
    validate_choice,
)
from ..build.packaging import LAMBDA_MAX_UNZIPPED_BYTES, Package, package_app
from ..cdk import Construct
from ..checks import SECURITY_GROUP_ID, SUBNET_ID, check_bool, check_int, check_kms_key_arn
from ..errors import ConfigurationError, config_error
from .buckets import PrivateBucket
from .function_options import check_sizing
from .iam import Condition, Grantable, PolicyStatement, ServiceRole, grant_sid
from .network import Connections
from .secret_refs import is_safe_value
from .stack import partition_of, region_of

WHERE = "PhpFunction"

LIVE_ALIAS = "live"
"""Every function publishes a version on each code or configuration change and callers invoke
this alias: a deploy switches it atomically, a rollback moves it back."""
DEFAULT_TIMEOUTS = {"fpm": 28, "function": 60, "console": 120}
DEFAULT_DESCRIPTIONS = {
    "fpm": "Laravel web (PHP-FPM)", "function": "Laravel handler", "console": "Laravel artisan",
}
MAX_LAYERS = 5
ENV_BYTES_LIMIT = 4 * 1024
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024
# Room kept for Bref's layers inside Lambda's 250 MB unzipped limit: an estimate, since
# AWS reports only zipped layer sizes. Tune it with ``layers_unzipped_mb=``.
DEFAULT_LAYERS_UNZIPPED_MB = 64
RESERVED_ENV = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# The account of whoever uses the role, as an IAM policy variable (``&{}`` is how
# aws_iam_policy_document spells ``${}`` without Terraform interpolating it).
ACCOUNT = "&{aws:PrincipalAccount}"
ENI_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
               "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
               "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_IMAGE_URI = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$"
)
_LAYER_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")


@dataclass(frozen=True)
class VpcConfig:
    """The existing private subnets and security groups a function's ENIs live in."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        for prop in ("subnet_ids", "security_group_ids"):
            value = getattr(self, prop)
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise config_error(
                    "VpcConfig", prop, value, "must be a list or tuple of ids, not one string"
                    if isinstance(value, str) else "must be a list or tuple of ids",
                    f"wrap it: {prop}=({value!r},)" if isinstance(value, str)
                    else f"pass {prop}=('...', '...')", kind="type",
                )
        object.__setattr__(self, "subnet_ids", tuple(self.subnet_ids))
        object.__setattr__(self, "security_group_ids", tuple(self.security_group_ids))
        _check_ids("vpc.subnet_ids", self.subnet_ids, SUBNET_ID, "subnet-0123456789abcdef0")
        _check_ids(
            "vpc.security_group_ids", self.security_group_ids, SECURITY_GROUP_ID,
            "sg-0123456789abcdef0",
        )


def _check_ids(prop: str, ids: tuple[str, ...], pattern: re.Pattern[str], example: str) -> None:
    bad = [i for i in ids if not cdk.is_token(i) and not pattern.match(str(i))]
    if not ids or bad or len(set(ids)) != len(ids):
        raise config_error(
            "VpcConfig", prop, list(ids),
            f"must be a non-empty list of distinct ids shaped like {example!r}",
            "pass the ids of the existing private subnets / security groups", kind="shape",
        )


def _check_variable(key: object, value: object, reserved: Mapping[str, str]) -> None:
    """One variable: a valid name Lambda and Bref leave to us, a string, no literal secret."""
    if not isinstance(key, str) or not _ENV_KEY.match(key):
        raise config_error(WHERE, "environment", key, "keys must match [A-Za-z][A-Za-z0-9_]*",
                           "rename the variable", kind="name")
    if key in RESERVED_ENV or key in reserved:
        raise config_error(
            WHERE, "environment", key, "is reserved by Lambda or set by Bref for this function",
            "remove it; Lambda/Bref set it themselves", kind="reserved",
        )
    if not isinstance(value, str):
        raise config_error(WHERE, f"environment[{key!r}]", value, "values must be strings",
                           f"pass str({value!r})")
    if not is_safe_value(key, value):
        raise config_error(
            WHERE, "environment", key,
            "looks like a secret (a known secret name, or ending in _PASSWORD, _SECRET, _KEY "
            "or _TOKEN) but its value is not a reference; a literal would be readable in the "
            "function's configuration and the Terraform state",
            "store it in SSM Parameter Store (SecureString) or Secrets Manager and pass "
            f"{key}=SecretRef.ssm(<parameter ARN>).env_value (a bref-ssm: reference)",
            kind="secret",
        )


def _literal_size(key: str, value: str | None) -> int:
    """Bytes a variable is known to take at synth (a token's value is known only at apply)."""
    return 0 if value is None or cdk.is_token(value) else len(key) + len(value)


def _check_size(literal: int) -> int:
    if literal > ENV_BYTES_LIMIT:
        raise config_error(
            WHERE, "environment", f"{literal} bytes", "Lambda allows 4 KB of variables in total",
            "move large values to SSM Parameter Store or Secrets Manager", kind="size",
        )
    return literal


def _check_environment(environment: Mapping[str, str], reserved: Mapping[str, str]) -> int:
    """Every variable, then the total; returns the literal bytes for later additions."""
    for key, value in environment.items():
        _check_variable(key, value, reserved)
    return _check_size(sum(_literal_size(k, v) for k, v in environment.items()))


def default_function_name(stack_id: str, node_path: str) -> str:
    """``<stack>-<construct>`` made Lambda-safe, shortened with a hash suffix past 64 chars."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{stack_id}-{node_path}").strip("-")
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:55]}-{digest}"


def _shared(stack: Construct, id: str, create: Callable[[Construct, str], Any]) -> Any:
    """The stack's one ``id`` child, created on first use: functions on the same package share
    one asset (one copy in cdktf.out), one artifacts bucket and one uploaded object."""
    return stack.node.try_find_child(id) or create(stack, id)


def eni_statements(region: str, function_name: str, subnet_ids: Sequence[str],
                   security_group_ids: Sequence[str]) -> list[PolicyStatement]:
    """ENI management for a function in a VPC: in the role's own account, on its subnets and
    security groups only, and denied to the function's own code.

    Lambda calls EC2 for the ENIs outside the execution environment, without
    ``lambda:SourceFunctionArn``; calls from the code carry it (Lambda developer guide, "Using
    source function ARN to control function access behavior"), so the Deny leaves Lambda's work
    alone and takes the ENI actions away from the code. ``ec2:Subnet`` is in the context of
    delete and IP assignment on network interfaces (IAM service authorization reference).
    """
    partition = partition_of(region)
    ec2 = f"arn:{partition}:ec2:{region}:{ACCOUNT}"
    own_arn = f"arn:{partition}:lambda:{region}:{ACCOUNT}:function:{function_name}"
    return [
        PolicyStatement(
            sid="DescribeNetwork",
            actions=("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"),
            resources=("*",),
        ),
        PolicyStatement(
            sid="CreateInterfaces",
            actions=("ec2:CreateNetworkInterface",),
            resources=(
                f"{ec2}:network-interface/*",
                *(f"{ec2}:subnet/{s}" for s in subnet_ids),
                *(f"{ec2}:security-group/{g}" for g in security_group_ids),
            ),
        ),
        PolicyStatement(
            sid="ManageInterfaces",
            actions=("ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                     "ec2:UnassignPrivateIpAddresses"),
            resources=(f"{ec2}:network-interface/*",),
            conditions=(Condition("ArnEquals", "ec2:Subnet",
                                  tuple(f"{ec2}:subnet/{s}" for s in subnet_ids)),),
        ),
        PolicyStatement(
            sid="DenyInterfacesToCode", effect="Deny", actions=ENI_ACTIONS,
            resources=("*",),
            conditions=(Condition("ArnEquals", "lambda:SourceFunctionArn", (own_arn,)),),
        ),
    ]


class PhpFunction(Construct):
    """A Bref PHP function: web (``fpm``), handler (``function``) or artisan (``console``).

    Code comes from a Laravel app directory (packaged deterministically, layers from the app's
    own ``vendor/bref/bref/layers.json``) or from a container image in ECR.
    ``provisioned_concurrency`` (0..10,000, default 0: off; at most ``reserved_concurrency``)
    keeps that many environments initialized on the ``live`` alias (docs/performance.md).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        app: str | Path | None = None,
        image_uri: str | None = None,
        php_version: str = "8.4",
        runtime: str = "fpm",
        handler: str | None = None,
        architecture: str = "x86_64",
        memory_size: int = 1024,
        timeout: int | None = None,
        environment: Mapping[str, str] | None = None,
        vpc: VpcConfig | None = None,
        reserved_concurrency: int | None = None,
        log_retention_days: int = 30,
        tracing: bool = True,
        kms_key_arn: str | None = None,
        layers: Sequence[str] = (),
        function_name: str | None = None,
        description: str | None = None,
        ephemeral_storage_mb: int = 512,
        region: str | None = None,
        bref_layers_json: str | Path | None = None,
        bref_version: str | None = None,
        layer_version: int | None = None,
        bref_layer_account: str | None = None,
        exclude: Sequence[str] = (),
        allow_credentials: Sequence[str] = (),
        layers_unzipped_mb: int = DEFAULT_LAYERS_UNZIPPED_MB,
        artifact_bucket: PrivateBucket | None = None,
        bref_ping: bool = False,
        provisioned_concurrency: int = 0,
    ) -> None:
        validate_choice("runtime", runtime, RUNTIMES, "use 'fpm' (HTTP), 'function' or 'console'")
        validate_choice("architecture", architecture, ARCHITECTURES, "use 'x86_64' or 'arm64'")
        timeout = DEFAULT_TIMEOUTS[runtime] if timeout is None else timeout
        check_sizing(WHERE, memory_size=memory_size, timeout=timeout,
                     ephemeral_storage_mb=ephemeral_storage_mb,
                     reserved_concurrency=reserved_concurrency,
                     log_retention_days=log_retention_days, tracing=tracing,
                     description=description, provisioned_concurrency=provisioned_concurrency)
        check_int(WHERE, "layers_unzipped_mb", layers_unzipped_mb, 0, 249, unit="MB",
                  why="room for layers inside the 250 MB unzipped limit")
        if (app is None) == (image_uri is None):
            raise config_error(
                WHERE, "app/image_uri", {"app": app, "image_uri": image_uri},
                "exactly one code source is required",
                "pass app= (a Laravel app directory) or image_uri= (an ECR image), not both",
            )
        if function_name is not None and (
            not isinstance(function_name, str) or not _FUNCTION_NAME.match(function_name)
        ):
            raise config_error(
                WHERE, "function_name", function_name, "must be 1..64 of [A-Za-z0-9_-]",
                "use a shorter name of letters, digits, '-' and '_'",
            )
        if handler is not None and (not isinstance(handler, str) or not handler.strip()):
            raise config_error(
                WHERE, "handler", handler, "must be a non-empty string",
                "pass a file such as 'public/index.php' or a PHP class name", kind="empty",
            )
        if vpc is not None and not isinstance(vpc, VpcConfig):
            raise config_error(
                WHERE, "vpc", vpc, "must be a VpcConfig",
                "pass vpc=VpcConfig(subnet_ids=(...), security_group_ids=(...))",
            )
        if isinstance(layers, str):
            raise config_error(
                WHERE, "layers", layers, "must be a list of layer ARNs, not one string",
                f"pass layers=[{layers!r}]", kind="type",
            )
        bad_layers = [a for a in layers if not isinstance(a, str) or not _LAYER_ARN.match(a)]
        if bad_layers:
            raise config_error(
                WHERE, "layers", bad_layers, "must be layer version ARNs",
                "pass arn:aws:lambda:<region>:<account>:layer:<name>:<version>", kind="shape",
            )
        check_kms_key_arn("PhpFunction", kms_key_arn)
        check_bool(WHERE, "bref_ping", bref_ping)

        self.region = region_of(scope, region, "PhpFunction")
        foreign = [arn for arn in layers if arn.split(":")[3] != self.region]
        if foreign:
            raise config_error(
                WHERE, "layers", foreign,
                f"Lambda loads layers from the function's region ({self.region}) only",
                f"use the layer versions published in {self.region}", kind="region",
            )
        self.runtime = runtime
        self.architecture = architecture
        self.timeout = timeout
        self.memory_size = memory_size
        self.reserved_concurrency = reserved_concurrency
        self.provisioned_concurrency = provisioned_concurrency or 0
        self.vpc = vpc
        self.connections = Connections(
            id, security_group_ids=vpc.security_group_ids if vpc else (),
            outside_vpc="build the function with vpc=VpcConfig(subnet_ids, security_group_ids)",
        )
        self.bref: BrefRuntime | None = None
        self.app_dir: Path | None = None
        self.audit: Any = None
        """The ConsoleAudit watching this function's invocations, if any."""
        self.package: Package | None = None
        self.image_uri = image_uri

        if app is not None:
            app_dir = Path(app).resolve()
            self.app_dir = app_dir
            if not app_dir.is_dir():
                raise config_error(
                    WHERE, "app", str(app),
                    f"is not a directory (looked at {app_dir}; relative paths start from the "
                    f"current directory, {Path.cwd()})",
                    "pass the path of the Laravel app (the folder holding artisan), e.g. "
                    "Path(__file__).parent / 'laravel-app'",
                    kind="not_directory",
                )
            self.bref = resolve_bref_runtime(
                app=app_dir, region=self.region, php_version=php_version, runtime=runtime,
                architecture=architecture, handler=handler,
                bref_layers_json=Path(bref_layers_json) if bref_layers_json else None,
                bref_version=bref_version, layer_version=layer_version,
                bref_layer_account=bref_layer_account,
            )
            self.handler = self.bref.handler
            all_layers = (*self.bref.layer_arns, *layers)
            bref_env = dict(self.bref.environment)
        else:
            if not (cdk.is_token(image_uri) or _IMAGE_URI.match(str(image_uri))):
                raise config_error(
                    WHERE, "image_uri", image_uri, "Lambda runs images from Amazon ECR only",
                    "pass <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:",
                )
            if layers:
                raise config_error(
                    WHERE, "layers", list(layers), "container image functions cannot use layers",
                    "bake the extensions into the image", kind="image",
                )
            self.handler = resolve_handler(None, runtime, handler)
            all_layers = ()
            bref_env = {"BREF_RUNTIME": runtime}
        if len(all_layers) > MAX_LAYERS:
            raise config_error(
                WHERE, "layers", list(all_layers), f"Lambda allows at most {MAX_LAYERS} layers",
                "merge layers or move extensions into a container image", kind="count",
            )
        self.layers: tuple[str, ...] = tuple(all_layers)
        self._environment = dict(environment or {})
        if not bref_ping:
            bref_env["BREF_PING_DISABLE"] = "1"
        self._literal_bytes = _check_environment(self._environment, bref_env)
        self._bref_env = bref_env
        error = self._secrets_loader_check()
        if error is not None:
            raise error
        if app is not None:
            budget = LAMBDA_MAX_UNZIPPED_BYTES - layers_unzipped_mb * 1024 * 1024
            self.package = package_app(app_dir, exclude=exclude, max_unzipped_bytes=budget,
                                       allow_credentials=allow_credentials)

        super().__init__(scope, id)
        cdk.add_check(self, self._secrets_loader_check)
        stack = cdk.TerraformStack.of(self)
        relative = self.node.path[len(stack.node.path) + 1:]
        self.function_name = function_name or default_function_name(stack.node.id, relative)
        self.log_group = cdk.aws("cloudwatch_log_group").CloudwatchLogGroup(
            self, "logs", name=f"/aws/lambda/{self.function_name}",
            retention_in_days=log_retention_days, kms_key_id=kms_key_arn,
        )
        self.role = ServiceRole(
            self, "role", service="lambda.amazonaws.com",
            statements=self._base_statements(kms_key_arn, tracing),
        )
        code = self._code(artifact_bucket)
        self.function = cdk.aws("lambda_function").LambdaFunction(
            self, "function",
            function_name=self.function_name,
            description=description or DEFAULT_DESCRIPTIONS[runtime],
            role=self.role.arn,
            architectures=[architecture],
            memory_size=memory_size,
            timeout=timeout,
            ephemeral_storage={"size": ephemeral_storage_mb},
            reserved_concurrent_executions=reserved_concurrency,
            tracing_config={"mode": "Active" if tracing else "PassThrough"},
            kms_key_arn=kms_key_arn,
            environment={"variables": self.environment},
            logging_config={"log_format": "Text", "log_group": self.log_group.name},
            vpc_config={"subnet_ids": list(vpc.subnet_ids),
                        "security_group_ids": list(vpc.security_group_ids)} if vpc else None,
            depends_on=[self.log_group, self.role.policy],
            publish=True,
            **code,
        )
        self.alias = cdk.aws("lambda_alias").LambdaAlias(
            self, "live", name=LIVE_ALIAS, function_name=self.function.function_name,
            function_version=self.function.version,
            description="What callers invoke; a rollback moves it to an earlier version",
        )
        self.provisioned: Any = None
        if self.provisioned_concurrency:
            self.provisioned = cdk.aws("lambda_provisioned_concurrency_config") \
                .LambdaProvisionedConcurrencyConfig(
                    self, "provisioned", function_name=self.function.function_name,
                    qualifier=self.alias.name,
                    provisioned_concurrent_executions=self.provisioned_concurrency,
                )

    def _code(self, artifact_bucket: PrivateBucket | None) -> dict[str, object]:
        """Zip (direct or through S3 above 50 MB) or image arguments of the Lambda resource."""
        if self.package is None or self.bref is None:
            return {"package_type": "Image", "image_uri": self.image_uri,
                    "image_config": {"command": [self.handler]}}
        stack = cdk.TerraformStack.of(self)
        digest = self.package.sha256[:16]
        asset = _shared(stack, f"laravel-code-{digest}", lambda scope, id: cdk.TerraformAsset(
            scope, id, path=str(self.package.path), type=cdk.AssetType.FILE,
            asset_hash=self.package.sha256,
        ))
        zip_args: dict[str, object] = {
            "runtime": self.bref.lambda_runtime,
            "handler": self.handler,
            "layers": list(self.layers),
            "source_code_hash": self.package.source_code_hash,
        }
        if self.package.zipped_bytes <= DIRECT_UPLOAD_LIMIT:
            return {**zip_args, "filename": asset.path}
        bucket = artifact_bucket or _shared(
            stack, "laravel-artifacts",
            lambda scope, id: PrivateBucket(scope, id, bucket_prefix="laravel-code-"))
        obj = _shared(stack, f"laravel-code-object-{digest}", lambda scope, id: cdk.aws(
            "s3_object").S3Object(
            scope, id, bucket=bucket.name, key=f"packages/{self.package.sha256}.zip",
            source=asset.path, source_hash=self.package.sha256,
        ))
        self.code_object = obj
        return {**zip_args, "s3_bucket": bucket.name, "s3_key": obj.key}

    def _base_statements(self, kms_key_arn: str | None, tracing: bool) -> list[PolicyStatement]:
        """Logs to its own group; X-Ray and VPC ENIs when enabled; the env key when given."""
        statements = [PolicyStatement(
            sid="WriteOwnLogs",
            actions=("logs:CreateLogStream", "logs:PutLogEvents"),
            resources=(f"{self.log_group.arn}:*",),
        )]
        if tracing:
            statements.append(PolicyStatement(
                sid="WriteTraces", actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
                resources=("*",),
            ))
        if self.vpc:
            statements.extend(self._vpc_statements(self.vpc))
        if kms_key_arn:
            statements.append(PolicyStatement(
                sid="DecryptEnvironment", actions=("kms:Decrypt",), resources=(kms_key_arn,),
            ))
        return statements

    def _vpc_statements(self, vpc: VpcConfig) -> list[PolicyStatement]:
        """ENI management in the function's subnets, denied to its own code."""
        return eni_statements(self.region, self.function_name, vpc.subnet_ids,
                              vpc.security_group_ids)

    @property
    def environment(self) -> dict[str, str]:
        """The function's variables: the user's plus what Bref needs (``BREF_RUNTIME``)."""
        return {**self._environment, **self._bref_env}

    @property
    def arn(self) -> str:
        """The unqualified function ARN (grants cover its versions and aliases as ``arn:*``)."""
        return self.function.arn

    @property
    def live_arn(self) -> str:
        """The ``live`` alias: what the API, event sources and schedules invoke."""
        return self.alias.arn

    @property
    def invoke_arn(self) -> str:
        """The ``live`` alias's invoke ARN, for API Gateway integrations."""
        return self.alias.invoke_arn

    def add_environment(self, key: str, value: str) -> None:
        """Set one variable (wiring from other constructs: queues, caches, buckets)."""
        _check_variable(key, value, self._bref_env)
        literal = self._literal_bytes + _literal_size(key, value) \
            - _literal_size(key, self._environment.get(key))
        self._literal_bytes = _check_size(literal)
        self._environment = {**self._environment, key: value}
        self.function.put_environment(variables=self.environment)

    def _secrets_loader_check(self) -> ConfigurationError | None:
        """Bref 3 resolves ``bref-ssm:`` references only with bref/secrets-loader installed."""
        missing = self.bref.missing_secrets_loader(self._environment) if self.bref else []
        if not missing:
            return None
        return config_error(
            WHERE, "environment", missing,
            f"these variables are bref-ssm: references, which Bref {self.bref.bref_version} "
            f"resolves only with {SECRETS_LOADER} (without it the function throws at cold "
            f"start), and {self.app_dir / INSTALLED_JSON} does not list it",
            f"run `composer require {SECRETS_LOADER}` in the app, then `composer install "
            "--no-dev`", kind="secrets_loader",
        )

    def add_to_role_policy(self, statement: PolicyStatement) -> None:
        """Give the function's role one more statement (used by ``grant_*`` methods)."""
        self.role.add(statement)

    @property
    def role_arn(self) -> str:
        """The execution role: the principal this function's code acts as."""
        return self.role.arn

    def grant_invoke(self, grantee: Grantable) -> None:
        """Let ``grantee`` invoke this function and nothing else."""
        grantee.add_to_role_policy(PolicyStatement(
            sid=grant_sid("Invoke", self),
            actions=("lambda:InvokeFunction",),
            resources=(self.arn, f"{self.arn}:*"),
        ))

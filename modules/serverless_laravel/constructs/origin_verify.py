"""``OriginVerifyAuthorizer``: API Gateway refuses requests that did not come through CloudFront.

A Lambda REQUEST authorizer on the HTTP API's route compares the ``X-Origin-Verify`` header with
the SSM SecureString CloudFront's value comes from (``runtime/origin_verify.py``). The header is
the identity source, so a request without it gets 401 without invoking anything, and results
are cached per header value (``cache_seconds``): with one secret, API Gateway invokes the
authorizer about once per cache period, and a request pays the authorizer's latency (a Python
cold start, about 300 ms, then a few ms) only on a cache miss.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from .. import cdk
from ..build.packaging import Package, package_app
from ..cdk import Construct
from ..checks import check_int
from .function_options import check_sizing
from .iam import PolicyStatement, ServiceRole
from .php_function import default_function_name

WHERE = "OriginVerifyAuthorizer"
RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"
HANDLER_FILE = "origin_verify.py"
PYTHON_RUNTIME = "python3.12"
MAX_CACHE_SECONDS = 3600
AUTHORIZER_CONCURRENCY = 10


def _package_handler() -> Package:
    """A zip of the handler module alone (the rest of ``runtime/`` is not the authorizer's)."""
    with tempfile.TemporaryDirectory(prefix="origin-verify-") as folder:
        shutil.copyfile(RUNTIME_DIR / HANDLER_FILE, Path(folder) / HANDLER_FILE)
        return package_app(Path(folder))


class OriginVerifyAuthorizer(Construct):
    """The authorizer function, its role and log group, the API authorizer and its permission."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api_id: str,
        execution_arn: str,
        header: str,
        parameter_name: str,
        parameter_arn: str,
        cache_seconds: int = 300,
        log_retention_days: int = 30,
    ) -> None:
        """``cache_seconds``: 0..3600 (default 300), how long API Gateway reuses a verdict."""
        check_int(WHERE, "cache_seconds", cache_seconds, 0, MAX_CACHE_SECONDS,
                  "pass e.g. 300 (0 invokes the authorizer on every request)")
        check_sizing(WHERE, log_retention_days=log_retention_days)
        package = _package_handler()
        super().__init__(scope, id)
        stack = cdk.TerraformStack.of(self)
        name = default_function_name(stack.node.id, cdk.relative_path(self))
        self.log_group = cdk.aws("cloudwatch_log_group").CloudwatchLogGroup(
            self, "logs", name=f"/aws/lambda/{name}", retention_in_days=log_retention_days,
        )
        self.role = ServiceRole(self, "role", service="lambda.amazonaws.com", statements=[
            PolicyStatement(sid="WriteOwnLogs",
                            actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                            resources=(f"{self.log_group.arn}:*",)),
            PolicyStatement(sid="WriteTraces",
                            actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
                            resources=("*",)),
            PolicyStatement(sid="ReadOriginSecret", actions=("ssm:GetParameter",),
                            resources=(parameter_arn,)),
        ])
        asset = cdk.TerraformAsset(self, "code", path=str(package.path),
                                   type=cdk.AssetType.FILE, asset_hash=package.sha256)
        self.function = cdk.aws("lambda_function").LambdaFunction(
            self, "function", function_name=name, role=self.role.arn,
            description="Refuses API requests that bypassed CloudFront (serverless-laravel)",
            runtime=PYTHON_RUNTIME, handler="origin_verify.handler", architectures=["arm64"],
            memory_size=128, timeout=5, filename=asset.path,
            # Random header values miss the verdict cache and invoke the authorizer: a cap
            # keeps such a flood from taking the account's concurrency from the PHP functions
            # (legitimate requests carry the one cached value and rarely invoke it).
            reserved_concurrent_executions=AUTHORIZER_CONCURRENCY,
            source_code_hash=package.source_code_hash,
            tracing_config={"mode": "Active"},
            environment={"variables": {"ORIGIN_VERIFY_PARAMETER": parameter_name,
                                       "ORIGIN_VERIFY_HEADER": header.lower()}},
            logging_config={"log_format": "Text", "log_group": self.log_group.name},
            depends_on=[self.role.policy, self.log_group],
        )
        self.authorizer = cdk.aws("apigatewayv2_authorizer").Apigatewayv2Authorizer(
            self, "authorizer", api_id=api_id, name=re.sub(r"[^A-Za-z0-9_-]", "-", name)[:128],
            authorizer_type="REQUEST", authorizer_uri=self.function.invoke_arn,
            identity_sources=[f"$request.header.{header}"],
            authorizer_payload_format_version="2.0", enable_simple_responses=True,
            authorizer_result_ttl_in_seconds=cache_seconds,
        )
        cdk.aws("lambda_permission").LambdaPermission(
            self, "invoke-permission", statement_id="AllowHttpApiAuthorizer",
            action="lambda:InvokeFunction", function_name=self.function.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=f"{execution_arn}/authorizers/{self.authorizer.id}",
        )

    @property
    def authorizer_id(self) -> str:
        return self.authorizer.id

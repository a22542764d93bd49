"""serverless-laravel: CDK-for-Terraform constructs that run Laravel on AWS Lambda through Bref.

Names load lazily, so the CLI and the pure-Python parts (packaging, Bref resolution) never
pay for loading a CDK engine and its AWS provider.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS: dict[str, str] = {
    "Assets": "constructs.assets",
    "BrefRuntime": "build.bref",
    "resolve_bref_runtime": "build.bref",
    "PrivateBucket": "constructs.buckets",
    "ConfigurationError": "errors",
    "EndOfLifeWarning": "errors",
    "EngineNotInstalledError": "errors",
    "synth": "cdk",
    "Cors": "constructs.http_api",
    "HttpApi": "constructs.http_api",
    "Condition": "constructs.iam",
    "Grantable": "constructs.iam",
    "PolicyStatement": "constructs.iam",
    "ServiceRole": "constructs.iam",
    "GitHubDeployRole": "constructs.github_oidc",
    "LaravelApp": "constructs.laravel_app",
    "Package": "build.packaging",
    "package_app": "build.packaging",
    "PhpFunction": "constructs.php_function",
    "FunctionOptions": "constructs.function_options",
    "Connectable": "constructs.network",
    "Connections": "constructs.network",
    "VpcConfig": "constructs.php_function",
    "SecretRef": "constructs.secret_refs",
    "LaravelStack": "constructs.stack",
    "S3State": "constructs.stack",
    "LocalStateWarning": "errors",
    "QueueWorker": "constructs.queue_worker",
    "JobQueue": "constructs.queue_worker",
    "FargateCluster": "constructs.fargate.cluster",
    "PublicLoadBalancer": "constructs.fargate.alb",
    "PhpContainer": "constructs.fargate.task",
    "TaskOptions": "constructs.fargate.task",
    "WebService": "constructs.fargate.service",
    "WorkerService": "constructs.fargate.service",
    "ScheduledTask": "constructs.fargate.scheduled_task",
    "Scheduler": "constructs.scheduler",
    "RedisCache": "constructs.cache",
    "Database": "constructs.database",
    "DatabaseProxy": "constructs.database",
    "BudgetWarning": "errors",
    "SecurityWarning": "errors",
    "OriginVerifyAuthorizer": "constructs.origin_verify",
    "ConsoleAudit": "constructs.console_audit",
    "Monitoring": "constructs.monitoring",
    "AlarmThresholds": "constructs.monitoring",
    "TestRunner": "constructs.test_runner",
    "RunnerCommand": "constructs.test_runner",
    "ConnectionBudget": "analysis.connection_budget",
    "Consumer": "analysis.connection_budget",
    "compute_budget": "analysis.connection_budget",
    "default_max_connections": "analysis.connection_budget",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'serverless_laravel' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)

"""serverless-laravel: CDK-for-Terraform constructs that run Laravel on AWS Lambda through Bref.

Names load lazily, so the CLI and the pure-Python parts (packaging, Bref resolution) never
pay for loading a CDK engine and its AWS provider.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS: dict[str, str] = {
    "Assets": "assets",
    "BrefRuntime": "bref",
    "resolve_bref_runtime": "bref",
    "PrivateBucket": "buckets",
    "ConfigurationError": "errors",
    "EndOfLifeWarning": "errors",
    "EngineNotInstalledError": "errors",
    "Cors": "http_api",
    "HttpApi": "http_api",
    "Condition": "iam",
    "Grantable": "iam",
    "PolicyStatement": "iam",
    "ServiceRole": "iam",
    "LaravelApp": "laravel_app",
    "Package": "packaging",
    "package_app": "packaging",
    "PhpFunction": "php_function",
    "VpcConfig": "php_function",
    "SecretRef": "secret_refs",
    "LaravelStack": "stack",
    "QueueWorker": "queue_worker",
    "Scheduler": "scheduler",
    "RedisCache": "cache",
    "Database": "database",
    "DatabaseProxy": "database",
    "BudgetWarning": "errors",
    "ConnectionBudget": "connection_budget",
    "Consumer": "connection_budget",
    "compute_budget": "connection_budget",
    "default_max_connections": "connection_budget",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'serverless_laravel' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)

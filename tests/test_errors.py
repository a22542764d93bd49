"""Configuration errors carry a stable code per rule; a missing engine says what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from serverless_laravel.errors import ConfigurationError, config_error, error_code, slug


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PhpFunction", "php_function"),
        ("VpcConfig", "vpc_config"),
        ("secrets['APP_KEY']", "secrets"),
        ("web.environment['A']", "web_environment"),
        ("serverless-laravel artisan", "serverless_laravel_artisan"),
        ("db_instance_identifier/db_cluster_identifier",
         "db_instance_identifier_db_cluster_identifier"),
        ("connection budget", "connection_budget"),
    ],
)
def test_slugs_are_snake_case_and_drop_subscripts(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_a_configuration_error_names_value_rule_fix_and_code() -> None:
    error = config_error("PhpFunction", "memory_size", 64, "must be 128..10240", "pass 1024",
                         kind="range")
    assert isinstance(error, ConfigurationError) and isinstance(error, ValueError)
    assert error.code == error_code("PhpFunction", "memory_size", "range") \
        == "php_function.memory_size.range"
    assert str(error) == ("PhpFunction: memory_size=64 is invalid: must be 128..10240. "
                          "Fix: pass 1024")


def test_without_an_engine_the_import_names_the_pip_command() -> None:
    """A fresh interpreter that cannot see cdktn, cdktf or jsii imports a construct."""
    code = textwrap.dedent("""
        import importlib.abc, os, sys
        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {"cdktn", "cdktf", "cdktn_provider_aws",
                                          "cdktf_cdktf_provider_aws", "jsii", "constructs"}:
                    raise ModuleNotFoundError(name)
        sys.meta_path.insert(0, Hide())
        os.environ.pop("SERVERLESS_LARAVEL_CDK", None)
        import serverless_laravel
        try:
            from serverless_laravel import PhpFunction
        except Exception as error:
            print(type(error).__name__, error, sep="|")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    name, message = result.stdout.strip().split("|", 1)
    assert name == "EngineNotInstalledError"
    assert "pip install 'serverless-laravel[cdktn]'" in message
    assert "jsii" not in message

"""The engine seam: selection by env var or by what is installed, and the errors."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from serverless_laravel import cdk
from serverless_laravel.cdk import ENGINES, choose_engine
from serverless_laravel.errors import EngineNotInstalledError

LIBRARY = Path(__file__).resolve().parents[1] / "modules" / "serverless_laravel"
ENGINE_MODULES = {"cdktn", "cdktf", "cdktn_provider_aws", "cdktf_cdktf_provider_aws"}


def installed(*modules: str):
    return lambda name: name in modules


def test_env_var_picks_the_engine_under_test() -> None:
    expected = os.environ.get(cdk.ENV_VAR, "cdktn")
    assert cdk.ENGINE.name == expected
    assert cdk.App.__module__.split(".")[0] == ENGINES[expected].core_module


def test_cdk_terrain_first_when_both_are_installed() -> None:
    both = installed("cdktn", "cdktn_provider_aws", "cdktf", "cdktf_cdktf_provider_aws")
    assert choose_engine(None, both).name == "cdktn"


def test_falls_back_to_cdktf_when_only_it_is_installed() -> None:
    assert choose_engine(None, installed("cdktf", "cdktf_cdktf_provider_aws")).name == "cdktf"


def test_core_without_its_provider_does_not_count() -> None:
    with pytest.raises(EngineNotInstalledError):
        choose_engine(None, installed("cdktn", "cdktf"))


def test_neither_installed_names_the_extras() -> None:
    with pytest.raises(EngineNotInstalledError) as error:
        choose_engine(None, installed())
    assert "serverless-laravel[cdktn]" in str(error.value)
    assert "serverless-laravel[cdktf]" in str(error.value)


def test_requested_engine_missing_names_its_extra() -> None:
    with pytest.raises(EngineNotInstalledError, match=r"serverless-laravel\[cdktf\]"):
        choose_engine("cdktf", installed("cdktn", "cdktn_provider_aws"))


def test_unknown_engine_name_is_rejected() -> None:
    with pytest.raises(EngineNotInstalledError, match="'pulumi' is not an engine"):
        choose_engine("pulumi", installed("cdktn", "cdktn_provider_aws"))


def test_only_the_seam_imports_an_engine() -> None:
    """Every module but cdk.py reaches CDK and the provider through the seam."""
    offenders = []
    for path in LIBRARY.rglob("*.py"):
        if path.name == "cdk.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ENGINE_MODULES]
    assert offenders == []

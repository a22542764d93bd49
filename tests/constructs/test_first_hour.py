"""What a new user meets first: Composer dependencies checked at synth, and messages that point
at the real problem (each with a stable code)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from serverless_laravel import (
    Database,
    DatabaseProxy,
    LaravelApp,
    LaravelStack,
    PhpFunction,
    SecretRef,
    VpcConfig,
    cdk,
)
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError
from tests.helpers import BREF2_APP, LARAVEL_APP, QUEUE_HANDLER, SUBNETS, VPC_ID

APP_KEY = SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/app/key")
OCTANE = "Bref\\LaravelBridge\\Http\\OctaneHandler"


def app_without(tmp_path: Path, *packages: str, source: Path = LARAVEL_APP) -> Path:
    """A copy of a fixture app whose installed.json lacks ``packages``."""
    app = tmp_path / "app"
    shutil.copytree(source, app)
    installed = app / "vendor" / "composer" / "installed.json"
    data = json.loads(installed.read_text())
    data["packages"] = [p for p in data["packages"] if p["name"] not in packages]
    installed.write_text(json.dumps(data))
    return app


@pytest.fixture
def stack() -> LaravelStack:
    return LaravelStack(App(), "first-hour", region="eu-west-1")


@pytest.mark.parametrize("handler", [QUEUE_HANDLER, OCTANE])
def test_bridge_handlers_need_the_laravel_bridge(stack: LaravelStack, tmp_path: Path,
                                                 handler: str) -> None:
    app = app_without(tmp_path, "bref/laravel-bridge")
    with pytest.raises(ConfigurationError) as error:
        PhpFunction(stack, "worker", app=app, runtime="function", handler=handler)
    assert error.value.code == "php_function.app.missing_laravel_bridge"
    assert "composer require bref/laravel-bridge" in error.value.fix
    assert handler in error.value.rule
    assert stack.node.children[1:] == []


def test_laravel_app_needs_the_laravel_bridge(stack: LaravelStack, tmp_path: Path) -> None:
    app = app_without(tmp_path, "bref/laravel-bridge")
    with pytest.raises(ConfigurationError) as error:
        LaravelApp(stack, "app", app=app, secrets={"APP_KEY": APP_KEY})
    assert error.value.code == "laravel_app.app.missing_laravel_bridge"
    assert stack.node.children[1:] == []


def test_secret_references_need_the_secrets_loader_on_bref_3(stack: LaravelStack,
                                                             tmp_path: Path) -> None:
    app = app_without(tmp_path, "bref/secrets-loader")
    with pytest.raises(ConfigurationError) as error:
        LaravelApp(stack, "app", app=app, secrets={"APP_KEY": APP_KEY})
    assert error.value.code == "php_function.environment.secrets_loader"
    assert error.value.value == ["APP_KEY"]
    assert "composer require bref/secrets-loader" in error.value.fix
    assert stack.node.children[1:] == []


def test_a_reference_added_later_fails_synth_with_the_same_error(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path / "out"))
    stack = LaravelStack(app, "later", region="eu-west-1")
    web = PhpFunction(stack, "web", app=app_without(tmp_path, "bref/secrets-loader"))
    web.add_environment("MAIL_PASSWORD", APP_KEY.env_value)
    with pytest.raises(ConfigurationError) as error:
        cdk.synth(app)
    assert error.value.code == "php_function.environment.secrets_loader"
    assert error.value.value == ["MAIL_PASSWORD"]
    with pytest.raises(Exception, match="bref/secrets-loader"):
        app.synth()
    assert not (tmp_path / "out" / "stacks" / "later" / "cdk.tf.json").exists()


def test_bref_2_ships_its_secrets_loader(stack: LaravelStack) -> None:
    web = PhpFunction(stack, "web", app=BREF2_APP, php_version="8.4")
    web.add_environment("MAIL_PASSWORD", APP_KEY.env_value)
    assert web.environment["MAIL_PASSWORD"].startswith("bref-ssm:")


def test_php_version_as_a_number_says_pass_a_string(stack: LaravelStack) -> None:
    with pytest.raises(ConfigurationError) as error:
        PhpFunction(stack, "web", app=LARAVEL_APP, php_version=8.4)  # type: ignore[arg-type]
    assert error.value.code == "php_function.php_version.type"
    assert "php_version='8.4'" in error.value.fix


@pytest.mark.parametrize("prop", ["subnet_ids", "security_group_ids"])
def test_vpc_ids_as_one_string_say_so(prop: str) -> None:
    ids = {"subnet_ids": SUBNETS, "security_group_ids": ("sg-0123456789abcdef0",)}
    ids[prop] = "subnet-0a1b2c3d4e5f60718"  # type: ignore[assignment]
    with pytest.raises(ConfigurationError) as error:
        VpcConfig(**ids)
    assert error.value.code == f"vpc_config.{prop}.type"
    assert "not one string" in error.value.rule
    assert "('subnet-0a1b2c3d4e5f60718',)" in error.value.fix


def test_a_proxy_without_a_database_names_the_database_prop(stack: LaravelStack) -> None:
    with pytest.raises(ConfigurationError) as error:
        DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    assert error.value.code == "database_proxy.database.missing"
    assert "database=Database(" in error.value.fix
    Database(stack, "db", vpc_id=VPC_ID, subnet_ids=SUBNETS)


def test_a_relative_app_path_shows_where_it_was_looked_for(
    stack: LaravelStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as error:
        PhpFunction(stack, "web", app="../my-laravel-app")
    assert error.value.code == "php_function.app.not_directory"
    assert str(tmp_path.parent / "my-laravel-app") in error.value.rule
    assert str(tmp_path) in error.value.rule


def test_an_unknown_region_lists_the_regions_bref_offers() -> None:
    stack = LaravelStack(App(), "far", region="eu-west-9")
    with pytest.raises(ConfigurationError) as error:
        PhpFunction(stack, "web", app=LARAVEL_APP)
    assert "eu-west-1" in error.value.rule and "us-east-1" in error.value.rule

"""Bref runtime resolution from the app's own vendor/ files: layers, runtimes, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from serverless_laravel.build.bref import layer_names, resolve_bref_runtime
from serverless_laravel.errors import ConfigurationError, EndOfLifeWarning
from tests.helpers import BREF2_APP, LARAVEL_APP

BREF3_APP = LARAVEL_APP


def resolve(app: Path = BREF3_APP, **overrides: object):
    props: dict[str, object] = {
        "app": app, "region": "eu-west-1", "php_version": "8.4", "runtime": "fpm",
        "architecture": "x86_64",
    }
    props.update(overrides)
    return resolve_bref_runtime(**props)  # type: ignore[arg-type]


def test_bref3_web_uses_one_php_layer_and_bref_runtime_env() -> None:
    runtime = resolve()
    assert runtime.bref_major == 3
    assert runtime.lambda_runtime == "provided.al2023"
    assert runtime.handler == "public/index.php"
    assert runtime.layer_arns == ("arn:aws:lambda:eu-west-1:873528684822:layer:php-84:21",)
    assert runtime.environment == {"BREF_RUNTIME": "fpm"}


@pytest.mark.parametrize("mode", ["function", "console"])
def test_bref3_modes_share_the_layer_and_differ_by_env(mode: str) -> None:
    handler = "Bref\\LaravelBridge\\Queue\\QueueHandler" if mode == "function" else None
    runtime = resolve(runtime=mode, handler=handler)
    assert runtime.layer_arns == ("arn:aws:lambda:eu-west-1:873528684822:layer:php-84:21",)
    assert runtime.environment == {"BREF_RUNTIME": mode}


def test_bref3_arm64_uses_arm_layer() -> None:
    runtime = resolve(architecture="arm64", php_version="8.3", region="us-west-2")
    assert runtime.layer_arns == ("arn:aws:lambda:us-west-2:873528684822:layer:arm-php-83:21",)


def test_bref2_php81_fpm_function_console_layers_and_eol_warning() -> None:
    with pytest.warns(EndOfLifeWarning, match=r"8\.1 reached end of life on 2025-12-31.*8\.4"):
        fpm = resolve(BREF2_APP, php_version="8.1")
    assert fpm.lambda_runtime == "provided.al2"
    assert fpm.environment == {}
    assert fpm.layer_arns == ("arn:aws:lambda:eu-west-1:534081306603:layer:php-81-fpm:125",)
    with pytest.warns(EndOfLifeWarning):
        console = resolve(BREF2_APP, php_version="8.1", runtime="console")
    assert console.layer_arns == (
        "arn:aws:lambda:eu-west-1:534081306603:layer:php-81:125",
        "arn:aws:lambda:eu-west-1:534081306603:layer:console:122",
    )
    with pytest.warns(EndOfLifeWarning):
        arm = resolve(BREF2_APP, php_version="8.1", runtime="function", architecture="arm64",
                      handler="Bref\\LaravelBridge\\Queue\\QueueHandler")
    assert arm.layer_arns == ("arn:aws:lambda:eu-west-1:534081306603:layer:arm-php-81:104",)


def test_layer_version_override_pins_the_php_layer_only() -> None:
    with pytest.warns(EndOfLifeWarning):
        console = resolve(BREF2_APP, php_version="8.1", runtime="console", layer_version=99)
    assert console.layer_arns[0].endswith(":layer:php-81:99")
    assert console.layer_arns[1].endswith(":layer:console:122")


def test_explicit_layers_json_and_version_for_apps_that_vendor_bref_elsewhere(
    tmp_path: Path,
) -> None:
    layers = tmp_path / "layers.json"
    layers.write_text(json.dumps({"php-85": {"sa-east-1": 7}}))
    app = tmp_path / "app"
    (app / "public").mkdir(parents=True)
    (app / "public" / "index.php").write_text("<?php\n")
    runtime = resolve(app, region="sa-east-1", php_version="8.5", bref_layers_json=layers,
                      bref_version="3.0.9")
    assert runtime.layer_arns == ("arn:aws:lambda:sa-east-1:873528684822:layer:php-85:7",)


def test_php81_with_bref3_names_the_bref_to_use() -> None:
    with pytest.raises(ConfigurationError) as error:
        resolve(php_version="8.1")
    message = str(error.value)
    assert "php_version='8.1'" in message
    assert "composer require bref/bref:^2" in message
    assert error.value.prop == "php_version"


@pytest.mark.parametrize(
    ("overrides", "prop", "needle"),
    [
        ({"region": "mars-north-1"}, "region", "eu-central-1, eu-west-1"),
        ({"runtime": "cgi"}, "runtime", "'fpm', 'function', 'console'"),
        ({"architecture": "aarch64"}, "architecture", "'x86_64', 'arm64'"),
        ({"php_version": "7.4"}, "php_version", "must be one of"),
        ({"runtime": "function"}, "handler", "QueueHandler"),
        ({"handler": "public/missing.php"}, "handler", "does not exist"),
        ({"layer_version": 0}, "layer_version", "integer from 1"),
        ({"bref_version": "1.7.0"}, "bref_version", "supported majors are [2, 3]"),
    ],
)
def test_bad_input_names_prop_and_fix(overrides: dict, prop: str, needle: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        resolve(**overrides)
    assert error.value.prop == prop
    assert needle in str(error.value)
    assert "Fix:" in str(error.value)


@pytest.mark.parametrize(
    ("remove", "prop"),
    [
        ("vendor", "app"),
        ("vendor/composer/installed.json", "app"),
        ("vendor/bref/bref/layers.json", "bref_layers_json"),
    ],
)
def test_missing_vendor_files_say_composer_require(tmp_path: Path, remove: str, prop: str) -> None:
    app = tmp_path / "app"
    shutil.copytree(BREF3_APP, app)
    target = app / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(ConfigurationError) as error:
        resolve(app)
    assert error.value.prop == prop
    assert "composer require bref/bref" in str(error.value)


def test_installed_json_without_bref(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(BREF3_APP, app)
    (app / "vendor/composer/installed.json").write_text(json.dumps({"packages": []}))
    with pytest.raises(ConfigurationError, match="lists no bref/bref package"):
        resolve(app)


def test_composer1_installed_json_list_format(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(BREF3_APP, app)
    (app / "vendor/composer/installed.json").write_text(
        json.dumps([{"name": "bref/bref", "version": "v3.0.2"}])
    )
    assert resolve(app).bref_version == "v3.0.2"


def test_layer_names_follow_each_major() -> None:
    assert layer_names(3, "8.4", "console", "arm64") == ["arm-php-84"]
    assert layer_names(2, "8.2", "fpm", "x86_64") == ["php-82-fpm"]
    assert layer_names(2, "8.2", "console", "arm64") == ["arm-php-82", "console"]


def test_layer_account_comes_from_the_installed_bref_package(tmp_path: Path) -> None:
    """Bref has moved its layers between accounts within a major: the package is the authority."""
    app = tmp_path / "app"
    shutil.copytree(BREF2_APP, app)
    plugin = app / "vendor/bref/bref/plugin/layers.js"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("const arn = `arn:aws:lambda:${region}:873528684822:layer:${name}:${v}`;\n")
    runtime = resolve(app, php_version="8.4")
    assert runtime.layer_arns == ("arn:aws:lambda:eu-west-1:873528684822:layer:php-84-fpm:42",)


def test_explicit_layer_account_wins_and_is_checked(tmp_path: Path) -> None:
    runtime = resolve(BREF2_APP, php_version="8.4", bref_layer_account="111122223333")
    assert runtime.layer_arns[0].startswith("arn:aws:lambda:eu-west-1:111122223333:layer:")
    with pytest.raises(ConfigurationError) as error:
        resolve(BREF2_APP, php_version="8.4", bref_layer_account="bref")
    assert error.value.prop == "bref_layer_account"


def test_without_a_package_file_the_majors_known_account_is_used() -> None:
    assert resolve(BREF2_APP, php_version="8.4").layer_arns[0].split(":")[4] == "534081306603"
    assert resolve().layer_arns[0].split(":")[4] == "873528684822"

"""The command line as a user first meets it: --version, --help and refusals with exit code 2."""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path

from typer.testing import CliRunner

from serverless_laravel.cli import app
from tests.helpers import LARAVEL_APP

runner = CliRunner()


def test_version_prints_the_installed_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"serverless-laravel {version('serverless-laravel')}"


def test_help_lists_every_command_group() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("package", "assets", "artisan"):
        assert command in result.output


def test_package_refuses_an_app_without_vendor_like_synth_does(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    shutil.copytree(LARAVEL_APP, app_dir, ignore=shutil.ignore_patterns("vendor"))
    result = runner.invoke(app, ["package", str(app_dir), "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert "no vendor/ directory" in result.output
    assert "composer install --no-dev" in result.output
    assert not (tmp_path / "c").exists()

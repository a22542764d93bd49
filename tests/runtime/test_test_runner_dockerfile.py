"""The runner's Dockerfile, parsed (these machines run no Docker engine): a Lambda base image,
PHP the handler can start, the handler the construct names, the app built with Composer, a
non-root user, and no checkov finding."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from serverless_laravel.runtime import test_runner

DOCKERFILE = (Path(test_runner.__file__).resolve().parents[1] / "docker" / "test-runner"
              / "Dockerfile")
HANDLER = "serverless_laravel.runtime.test_runner.handler"
ENTRY_POINT = ("python3", "-m", "serverless_laravel.runtime.test_runner")


@pytest.fixture(scope="module")
def stages() -> dict[str, list[dict[str, str]]]:
    """The instructions of each build stage, by stage name."""
    with DOCKERFILE.open("rb") as source:
        parsed = DockerfileParser(fileobj=source)
        structure = parsed.structure
    found: dict[str, list[dict[str, str]]] = {}
    current: list[dict[str, str]] = []
    for item in structure:
        if item["instruction"] == "FROM":
            current = [item]
            found[item["value"].split(" AS ")[-1].strip()] = current
        elif item["instruction"] != "COMMENT":
            current.append(item)
    return found


def values(stage: list[dict[str, str]], instruction: str) -> list[str]:
    return [item["value"] for item in stage if item["instruction"] == instruction]


def test_the_stages_build_php_then_the_app_then_the_runner(stages: dict) -> None:
    assert list(stages) == ["php", "app", "runner"]
    assert values(stages["php"], "FROM") == [
        "public.ecr.aws/lambda/python:${PYTHON_VERSION} AS php"]
    assert values(stages["runner"], "FROM") == ["php AS runner"]


def test_php_comes_from_amazon_linux_packages_as_the_binary_the_handler_runs(
    stages: dict,
) -> None:
    [install] = values(stages["php"], "RUN")
    assert install.startswith("dnf install -y")
    assert "php${PHP_VERSION}-cli" in install and install.rstrip().endswith("php -v")
    env = dict(re.findall(r"(\w+)=(\S+)", values(stages["runner"], "ENV")[0]))
    assert env["PHP_BINARY"] == "php"
    assert env["APP_ROOT"] == "${LAMBDA_TASK_ROOT}"
    from serverless_laravel.constructs.test_runner import TestRunner

    defaults = inspect.signature(TestRunner.__init__).parameters
    assert defaults["php_binary"].default == env["PHP_BINARY"]
    assert defaults["app_root"].default == "/var/task"


def test_the_image_runs_the_handler_the_construct_names(stages: dict) -> None:
    from serverless_laravel.constructs import test_runner as construct

    [cmd] = values(stages["runner"], "CMD")
    assert json.loads(cmd) == [HANDLER] == [construct.HANDLER]
    module, _, function = HANDLER.rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))
    assert construct.ENTRY_POINT == ENTRY_POINT
    assert construct.DOCKERFILE == DOCKERFILE
    [install] = [v for v in values(stages["runner"], "RUN") if "pip install" in v]
    assert "--no-deps" in install and "import serverless_laravel.runtime.test_runner" in install


def test_the_python_entry_point_of_the_fargate_task_starts(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, *ENTRY_POINT[1:], "not json"], capture_output=True,
                          text=True, timeout=60, check=False, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(
                              Path(test_runner.__file__).resolve().parents[2])})
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["status"] == "rejected"


def test_the_app_is_built_with_composer_and_without_its_env_file(stages: dict) -> None:
    app = stages["app"]
    runs = " ".join(values(app, "RUN"))
    assert "composer install" in runs and "--no-dev" not in runs, "the suite needs PHPUnit"
    assert "rm -f .env" in runs
    assert "COPY . ." in [f"COPY {v}" for v in values(app, "COPY")]
    assert values(stages["runner"], "COPY") == ["--from=app /app ${LAMBDA_TASK_ROOT}"]


def test_the_runner_is_an_unprivileged_user(stages: dict) -> None:
    [user] = values(stages["runner"], "USER")
    assert user.split(":")[0] not in ("0", "root")
    assert values(stages["runner"], "HEALTHCHECK") == ["NONE"]


@pytest.mark.skipif(shutil.which("checkov") is None and not Path(sys.executable).with_name(
    "checkov").exists(), reason="checkov is not installed (the dev extra installs it)")
def test_checkov_finds_nothing_in_the_dockerfile(tmp_path: Path) -> None:
    shutil.copy(DOCKERFILE, tmp_path / "Dockerfile")
    checkov = shutil.which("checkov") or str(Path(sys.executable).with_name("checkov"))
    done = subprocess.run([checkov, "-d", str(tmp_path), "--framework", "dockerfile",
                           "--skip-download", "--output", "json", "--quiet"],
                          capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(done.stdout)
    assert report["summary"]["failed"] == 0, report["results"]["failed_checks"]
    assert report["summary"]["passed"] > 0

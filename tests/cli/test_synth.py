"""``serverless-laravel synth``: cdktf.json's app runs with the switches as context and the output
folder as CDKTF_OUTDIR; bad input exits 2, a failing app 1."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serverless_laravel.cli import app as cli

MODULES = Path(__file__).resolve().parents[2] / "modules"
TINY_APP = f"""
import sys
sys.path.insert(0, {str(MODULES)!r})
from serverless_laravel import LaravelStack
from serverless_laravel.cdk import App
app = App()
stack = LaravelStack(app, "tiny", region="eu-west-1", allow_local_state=True)
print("environment:", stack.node.try_get_context("serverless-laravel:environment"))
app.synth()
"""


def project(tmp_path: Path, app: str, context: dict | None = None) -> Path:
    """A folder with a cdktf.json whose app is ``app``."""
    (tmp_path / "cdktf.json").write_text(json.dumps({"app": app, "context": context or {}}))
    return tmp_path


def python(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    """One synth of a one-stack app for an emulator, as a preview, in environment dev."""
    base = tmp_path_factory.mktemp("synth")
    (base / "app.py").write_text(TINY_APP)
    folder = project(base, f"{shlex.quote(sys.executable)} app.py", {"team": "platform"})
    result = CliRunner().invoke(cli, [
        "synth", "--endpoint", "http://127.0.0.1:5000", "--ephemeral", "--environment", "dev",
        "--output", str(base / "out"), "--project", str(folder)])
    return result, base / "out"


def test_the_switches_reach_every_stack(synthesized: tuple[object, Path]) -> None:
    result, out = synthesized
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    doc = json.loads((out / "stacks" / "tiny" / "cdk.tf.json").read_text())
    provider = doc["provider"]["aws"][0]
    assert provider["endpoints"][0]["lambda"] == "http://127.0.0.1:5000"
    assert doc["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}
    assert f"synthesized into {out}" in result.output  # type: ignore[attr-defined]


def test_bad_input_exits_2_before_the_app_runs(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["synth", "--project", str(tmp_path)])
    assert missing.exit_code == 2 and "cdktf.json" in missing.output
    folder = project(tmp_path, python("raise SystemExit(0)"))
    bad = runner.invoke(cli, ["synth", "--project", str(folder), "--endpoint", "localhost"])
    assert bad.exit_code == 2 and "--endpoint" in bad.output
    (tmp_path / "cdktf.json").write_text(json.dumps({"language": "python"}))
    no_app = runner.invoke(cli, ["synth", "--project", str(tmp_path)])
    assert no_app.exit_code == 2 and "'app'" in no_app.output


@pytest.mark.parametrize(("app_exit", "exit_code"), [(2, 2), (3, 1)])
def test_the_apps_failure_sets_the_exit_code(tmp_path: Path, app_exit: int,
                                             exit_code: int) -> None:
    folder = project(tmp_path, python(f"raise SystemExit({app_exit})"))
    result = CliRunner().invoke(cli, ["synth", "--project", str(folder),
                                      "--output", str(tmp_path / "out")])
    assert result.exit_code == exit_code


def test_context_merges_cdktf_json_the_environment_and_the_flags(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from serverless_laravel.cli.synth import context_for

    monkeypatch.setenv("CDKTF_CONTEXT_JSON", json.dumps({"a": "env", "b": "env"}))
    context = context_for({"a": "file", "c": "file"}, endpoint="http://localhost:4566/",
                          ephemeral=True, environment="staging")
    assert context == {"a": "env", "b": "env", "c": "file",
                       "serverless-laravel:endpoint": "http://localhost:4566",
                       "serverless-laravel:ephemeral": "true",
                       "serverless-laravel:environment": "staging"}


def test_a_bare_python3_app_runs_with_the_clis_interpreter(tmp_path: Path) -> None:
    marker = tmp_path / "interpreter.txt"
    code = f"import sys; open({str(marker)!r}, 'w').write(sys.executable)"
    folder = project(tmp_path, f"python3 -c {shlex.quote(code)}")
    result = CliRunner().invoke(cli, ["synth", "--project", str(folder),
                                      "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert marker.read_text() == sys.executable

"""State per environment: main.py reads the environment and the S3 backend settings from context
or environment variables, checks each, and gives every example stack its own state key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import main
from examples.web_function.stack import build as web_function
from serverless_laravel.errors import ConfigurationError
from tests.synth import Stack, load_stacks

STATE = {"serverless-laravel:environment": "staging",
         "serverless-laravel:state-bucket": "acme-terraform-state",
         "serverless-laravel:state-region": "eu-central-1"}


@pytest.fixture(autouse=True)
def no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for _, variable in main.SETTINGS.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv(main.CONTEXT_ENV, raising=False)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    """The web-function example synthesized by main.py's app for staging with an S3 backend."""
    outdir = tmp_path_factory.mktemp("environments") / "cdktf.out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(main, "EXAMPLES", {"web_function": web_function})
        patch.delenv(main.CONTEXT_ENV, raising=False)
        main.build_app(outdir, context=STATE).synth()
    return load_stacks(outdir)


def test_each_stack_keeps_its_state_under_its_environment(stacks: dict[str, Stack]) -> None:
    stack = stacks["web-function"]
    assert stack.doc["terraform"]["backend"]["s3"] == {
        "bucket": "acme-terraform-state", "encrypt": True, "region": "eu-central-1",
        "key": "serverless-laravel/staging/web-function/terraform.tfstate", "use_lockfile": True}
    tags = stack.doc["provider"]["aws"][0]["default_tags"][0]["tags"]
    assert tags["Environment"] == "staging"


def test_settings_come_from_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVERLESS_LARAVEL_ENVIRONMENT", "prod")
    monkeypatch.setenv("SERVERLESS_LARAVEL_STATE_BUCKET", "acme-state")
    monkeypatch.setenv("SERVERLESS_LARAVEL_STATE_REGION", "eu-west-1")
    monkeypatch.setenv("SERVERLESS_LARAVEL_STATE_KEY_PREFIX", "laravel/tf")
    deployment = main.deployment({"serverless-laravel:environment": "dev"})  # context wins
    state = deployment.state("serverless-laravel")
    assert state is not None
    assert (state.bucket, state.region, state.key) == (
        "acme-state", "eu-west-1", "laravel/tf/dev/serverless-laravel/terraform.tfstate")


def test_without_a_bucket_nothing_changes() -> None:
    assert main.deployment({}) == main.Deployment()
    assert main.deployment({}).options().state is None
    assert main.deployment({"serverless-laravel:environment": "preview-pr-42"}).environment \
        == "preview-pr-42"


def test_the_cli_context_reaches_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(main.CONTEXT_ENV, json.dumps(STATE))
    assert main.context_from_environment() == STATE
    monkeypatch.setenv(main.CONTEXT_ENV, "[1, 2]")
    with pytest.raises(ConfigurationError) as error:
        main.context_from_environment()
    assert error.value.code == "main_py.cdktf_context_json.shape"


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"serverless-laravel:environment": "Production"},
         "main_py.serverless_laravel_environment.shape"),
        ({"serverless-laravel:environment": "preview-"},
         "main_py.serverless_laravel_environment.shape"),
        ({"serverless-laravel:state-bucket": "acme-state",
          "serverless-laravel:state-region": "eu-west-1"},
         "main_py.serverless_laravel_environment.missing"),
        ({**STATE, "serverless-laravel:state-bucket": "Acme_State"},
         "main_py.serverless_laravel_state_bucket.shape"),
        ({**STATE, "serverless-laravel:state-region": None},
         "main_py.serverless_laravel_state_region.missing"),
        ({**STATE, "serverless-laravel:state-region": "europe"},
         "main_py.serverless_laravel_state_region.shape"),
        ({**STATE, "serverless-laravel:state-key-prefix": "/abs/"},
         "main_py.serverless_laravel_state_key_prefix.shape"),
        ({"serverless-laravel:state-region": "eu-west-1"},
         "main_py.serverless_laravel_state_region.unused"),
        ({**STATE, "serverless-laravel:environment": "prod",
          "serverless-laravel:ephemeral": "true"},
         "main_py.serverless_laravel_ephemeral.conflict"),
        ({"serverless-laravel:environment": "prod", "serverless-laravel:ephemeral": True},
         "main_py.serverless_laravel_ephemeral.conflict"),
    ],
)
def test_bad_settings_name_the_key_and_the_fix(settings: dict, code: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        main.deployment(settings)
    assert error.value.code == code
    assert "Fix:" in str(error.value)


def test_a_bad_setting_from_a_variable_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVERLESS_LARAVEL_ENVIRONMENT", "qa env")
    with pytest.raises(ConfigurationError) as error:
        main.deployment({})
    assert error.value.prop == "SERVERLESS_LARAVEL_ENVIRONMENT"


def test_main_reports_a_bad_setting_with_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SERVERLESS_LARAVEL_STATE_BUCKET", "acme-state")
    monkeypatch.setenv("CDKTF_OUTDIR", str(tmp_path / "out"))
    assert main.main() == main.EXIT_CONFIGURATION_ERROR
    assert "SERVERLESS_LARAVEL_ENVIRONMENT" in capsys.readouterr().err


def test_ephemeral_stays_out_of_prod(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A preview switch left in CDKTF_CONTEXT_JSON (or cdktf.json) never reaches a prod synth:
    it would drop deletion protection, final snapshots and secret recovery windows."""
    for environment in ("dev", "staging", "preview-pr-7"):
        assert main.deployment({"serverless-laravel:environment": environment,
                                "serverless-laravel:ephemeral": "true"}).environment \
            == environment
    assert main.deployment({"serverless-laravel:environment": "prod",
                            "serverless-laravel:ephemeral": "false"}).environment == "prod"
    assert main.deployment({"serverless-laravel:environment": "prod",  # an emulator rehearsal
                            "serverless-laravel:ephemeral": "true",
                            "serverless-laravel:endpoint": "http://127.0.0.1:5000"}
                           ).environment == "prod"
    monkeypatch.setenv("SERVERLESS_LARAVEL_ENVIRONMENT", "prod")
    monkeypatch.setenv(main.CONTEXT_ENV, json.dumps({"serverless-laravel:ephemeral": "true"}))
    monkeypatch.setenv("CDKTF_OUTDIR", str(tmp_path / "out"))
    assert main.main() == main.EXIT_CONFIGURATION_ERROR
    assert "serverless-laravel:ephemeral" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

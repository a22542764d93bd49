"""LaravelStack: where the Terraform state lives, and the warning when it is a local file."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from serverless_laravel import LaravelStack, LocalStateWarning, S3State, cdk
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def synth_doc(stack: LaravelStack) -> dict:
    return json.loads(cdk.Testing.synth(stack))


def test_s3_state_is_encrypted_and_locked_with_a_lock_file() -> None:
    stack = LaravelStack(App(), "prod", region="eu-west-1",
                         state=S3State(bucket="acme-terraform-state", kms_key_arn=KEY))
    backend = synth_doc(stack)["terraform"]["backend"]["s3"]
    assert backend == {"bucket": "acme-terraform-state", "key": "prod/terraform.tfstate",
                       "region": "eu-west-1", "encrypt": True, "kms_key_id": KEY,
                       "use_lockfile": True}


def test_state_key_and_region_can_be_chosen() -> None:
    stack = LaravelStack(App(), "prod", region="us-east-1",
                         state=S3State(bucket="state.acme", key="laravel/prod.tfstate",
                                       region="eu-central-1"))
    backend = synth_doc(stack)["terraform"]["backend"]["s3"]
    assert (backend["key"], backend["region"]) == ("laravel/prod.tfstate", "eu-central-1")


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"bucket": "Acme_State"}, "s3_state.bucket.shape"),
        ({"bucket": "ok-bucket", "key": "/abs"}, "s3_state.key.shape"),
        ({"bucket": "ok-bucket", "key": ""}, "s3_state.key.shape"),
        ({"bucket": "ok-bucket", "region": "europe"}, "s3_state.region.shape"),
        ({"bucket": "ok-bucket", "kms_key_arn": "alias/state"}, "s3_state.kms_key_arn.shape"),
    ],
)
def test_bad_state_props_are_refused(props: dict, code: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        S3State(**props)
    assert error.value.code == code


def test_state_must_be_an_s3_state() -> None:
    app = App()
    with pytest.raises(ConfigurationError) as error:
        LaravelStack(app, "x", region="eu-west-1", state="s3://bucket")  # type: ignore[arg-type]
    assert error.value.code == "laravel_stack.state.type"
    assert app.node.children == []


def test_local_state_warns_at_synth_once(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    LaravelStack(app, "local", region="eu-west-1")
    with pytest.warns(LocalStateWarning, match="allow_local_state=True") as caught:
        cdk.synth(app)
    assert len([w for w in caught if issubclass(w.category, LocalStateWarning)]) == 1


def test_no_warning_with_a_backend_or_when_allowed(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    LaravelStack(app, "allowed", region="eu-west-1", allow_local_state=True)
    LaravelStack(app, "remote", region="eu-west-1", state=S3State(bucket="acme-state"))
    other = LaravelStack(app, "own-backend", region="eu-west-1")
    cdk.core.LocalBackend(other, path="/srv/state/own.tfstate")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalStateWarning)
        cdk.synth(app)

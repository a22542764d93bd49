"""Offline Terraform for synthesized stacks: init against the local mirror, validate, plan."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from emulator.terraform import find_mirror
from emulator.terraform import unavailable_reason as unavailable_reason

OFFLINE_PROVIDER = {
    "access_key": "offline",
    "secret_key": "offline",
    "skip_credentials_validation": True,
    "skip_requesting_account_id": True,
    "skip_metadata_api_check": True,
}


@dataclass
class Result:
    command: str
    returncode: int
    output: str


def _run(directory: Path, *args: str) -> Result:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1",
           "TF_CLI_CONFIG_FILE": os.devnull}
    done = subprocess.run(["terraform", *args, "-no-color"], cwd=directory, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    return Result(" ".join(args), done.returncode, done.stdout + done.stderr)


def offline(directory: Path, extra_provider: dict | None = None) -> None:
    """Point a stack at a local state file and dummy credentials, through an override file."""
    override = {
        "provider": {"aws": {**OFFLINE_PROVIDER, **(extra_provider or {})}},
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
    }
    (directory / "zz_offline_override.tf.json").write_text(json.dumps(override, indent=2))


def init(directory: Path) -> Result:
    mirror = find_mirror()
    assert mirror is not None
    return _run(directory, "init", f"-plugin-dir={mirror}", "-input=false")


def validate(directory: Path) -> Result:
    return _run(directory, "validate")


def plan(directory: Path) -> Result:
    return _run(directory, "plan", "-input=false", "-lock=false", "-refresh=false")


def apply(directory: Path) -> Result:
    return _run(directory, "apply", "-input=false", "-lock=false", "-auto-approve")


def destroy(directory: Path) -> Result:
    return _run(directory, "destroy", "-input=false", "-lock=false", "-auto-approve")

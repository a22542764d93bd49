"""Terraform on a stack synthesized for the emulator: its variables and a small override file,
then init (local provider mirror), apply, plan, destroy, each returning what Terraform printed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIRROR_CANDIDATES = ("/opt/tf-plugins", "/usr/share/terraform/plugins",
                     str(Path.home() / ".terraform.d" / "plugins"))
OVERRIDE = "zz_emulator_override.tf.json"
TIMEOUT_SECONDS = 1800


def find_mirror() -> Path | None:
    """The folder holding ``registry.terraform.io/hashicorp/aws/``, if any."""
    for candidate in filter(None, [os.environ.get("TF_PLUGIN_MIRROR", ""), *MIRROR_CANDIDATES]):
        if (Path(candidate) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return Path(candidate)
    return None


def unavailable_reason() -> str | None:
    """Why Terraform cannot run here, or None when it can."""
    if shutil.which("terraform") is None:
        return "the terraform CLI is not on PATH"
    if find_mirror() is None:
        return "no local AWS provider mirror (set TF_PLUGIN_MIRROR to the folder holding " \
               "registry.terraform.io/)"
    return None


@dataclass
class Result:
    """One Terraform command: its arguments, exit code and output."""

    command: str
    returncode: int
    output: str

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


# The stacks point the provider at the emulator themselves (LaravelStack(endpoint=...));
# the harness only makes a failing call fail fast instead of retrying 25 times.
PROVIDER_OVERRIDE = {"max_retries": 2}


class Workspace:
    """A synthesized stack's folder, run with Terraform against the emulator."""

    def __init__(self, directory: Path, variables: dict[str, Any]) -> None:
        self.directory = directory
        self.variables = variables
        override = {"provider": {"aws": PROVIDER_OVERRIDE}}
        (directory / OVERRIDE).write_text(json.dumps(override, indent=2))
        (directory / "emulator.auto.tfvars.json").write_text(json.dumps(variables, indent=2))

    def run(self, *args: str) -> Result:
        """``terraform <args>`` in the folder, never prompting, no telemetry."""
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
               "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull,
               "AWS_EC2_METADATA_DISABLED": "true"}
        done = subprocess.run(["terraform", *args, "-no-color"], cwd=self.directory, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                              check=False)
        return Result(" ".join(args), done.returncode, done.stdout + done.stderr)

    def init(self) -> Result:
        mirror = find_mirror()
        assert mirror is not None, unavailable_reason()
        return self.run("init", f"-plugin-dir={mirror}", "-input=false")

    def apply(self) -> Result:
        return self.run("apply", "-input=false", "-lock=false", "-auto-approve",
                        "-parallelism=20")

    def destroy(self) -> Result:
        return self.run("destroy", "-input=false", "-lock=false", "-auto-approve",
                        "-parallelism=20")

    def plan_changes(self) -> tuple[Result, list[dict[str, Any]]]:
        """A fresh plan; the resource changes it proposes (no-ops left out)."""
        result = self.run("plan", "-input=false", "-lock=false", "-detailed-exitcode",
                          "-parallelism=20", "-out=second.plan")
        if result.returncode not in (0, 2):
            return result, []
        shown = self.run("show", "-json", "second.plan")
        changes = json.loads(shown.output.split("\n", 1)[0] if shown.returncode == 0 else "{}")
        return result, [c for c in changes.get("resource_changes", [])
                        if c["change"]["actions"] not in (["no-op"], ["read"])]

    def state(self) -> list[str]:
        """The addresses of the managed resources in the state."""
        result = self.run("state", "list")
        return [line for line in result.output.splitlines()
                if line and not line.startswith("data.")] if result.returncode == 0 else []

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs after apply (sensitive ones included)."""
        result = self.run("output", "-json")
        return json.loads(result.output) if result.returncode == 0 else {}

"""One example on the emulator: synthesized once, then applied, planned again and destroyed as
many times as asked, with what was created counted and what was left behind listed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator import examples, seed
from emulator.inventory import inventory, left_behind
from emulator.quirks import unexplained
from emulator.server import Emulator
from emulator.terraform import Result, Workspace

# Resources kept out of the local deploy, with why (none today: every resource the example
# stacks declare applies on the extended emulator). Printed by local-deploy and the tests.
LEFT_OUT: tuple[tuple[str, str], ...] = ()


class DeployError(AssertionError):
    """A Terraform step failed: its output's end and the emulator log's end."""


@dataclass
class StackRun:
    """One stack of an example, in its Terraform folder."""

    name: str
    directory: Path
    region: str
    workspace: Workspace
    applied: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def step(self, name: str, emulator: Emulator) -> Result:
        """Run ``init``/``apply``/``destroy``; raise ``DeployError`` when it fails."""
        started = time.monotonic()
        result = getattr(self.workspace, name)()
        self.seconds[name] = time.monotonic() - started
        if result.returncode != 0:
            raise DeployError(f"terraform {name} of {self.name} failed:\n{result.tail()}\n"
                              f"--- emulator log ({emulator.log_path}) ---\n"
                              f"{emulator.log_tail(30)}")
        if name == "apply":
            self.applied = len(self.workspace.state())
        return result

    def second_plan(self) -> list[str]:
        """The changes a fresh plan proposes that no listed quirk explains."""
        result, changes = self.workspace.plan_changes()
        if result.returncode not in (0, 2):
            raise DeployError(f"terraform plan of {self.name} failed:\n{result.tail()}")
        return unexplained(changes)


class ExampleDeployment:
    """An example of ``main.py`` synthesized for ``emulator`` into ``workdir``."""

    def __init__(self, emulator: Emulator, account: seed.Account, example: str,
                 workdir: Path) -> None:
        self.emulator = emulator
        self.account = account
        self.example = example
        self.region = examples.REGIONS[example]
        self.stacks: list[StackRun] = []
        for name, directory in examples.synthesize(example, workdir, emulator.endpoint).items():
            seed.publish_layers(emulator, examples.layer_arns(directory))
            workspace = Workspace(directory, examples.variables(name, account, self.region))
            self.stacks.append(StackRun(name, directory, self.region, workspace))

    def inventory(self) -> dict[str, set[str]]:
        """What the emulator holds now, in the regions the examples use."""
        return inventory(self.emulator, sorted(set(examples.REGIONS.values())))

    def apply(self) -> None:
        """init (once per folder is enough, but cheap) and apply every stack."""
        for stack in self.stacks:
            stack.step("init", self.emulator)
            stack.step("apply", self.emulator)

    def destroy(self) -> None:
        """Destroy every stack, last first."""
        for stack in reversed(self.stacks):
            stack.step("destroy", self.emulator)

    def outputs(self) -> dict[str, dict[str, Any]]:
        """Each stack's Terraform outputs (values only)."""
        return {stack.name: {k: v.get("value") for k, v in stack.workspace.outputs().items()}
                for stack in self.stacks}


def start(log_path: Path) -> tuple[Emulator, seed.Account]:
    """A started emulator with the examples' account seeded in every region they use.

    moto keeps its state per process, shared by every moto server in it: whatever earlier tests
    left there (buckets, queues) is forgotten first, so the account holds only the seed.
    """
    emulator = Emulator(log_path).start()
    try:
        emulator.reset()
        account = seed.seed_account(emulator, sorted(set(examples.REGIONS.values())))
    except Exception:
        emulator.stop()
        raise
    return emulator, account


__all__ = ["LEFT_OUT", "DeployError", "ExampleDeployment", "StackRun", "left_behind", "start"]

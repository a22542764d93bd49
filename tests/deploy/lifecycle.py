"""The deploy tests' shared lifecycle: one example synthesized once per module, then per round
apply, checks, a second plan, destroy and a check that nothing is left.

Rounds run in the same emulator, so the second proves names do not collide with what the first
created and destroyed. ``SERVERLESS_LARAVEL_DEPLOY_ROUNDS`` sets how many (default 2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulator.deployment import ExampleDeployment, left_behind
from emulator.server import Emulator
from emulator.terraform import unavailable_reason

ROUNDS_VARIABLE = "SERVERLESS_LARAVEL_DEPLOY_ROUNDS"
DEFAULT_ROUNDS = 2
# (example, stack, round, resources applied, apply s, destroy s), for the terminal summary.
APPLIED: list[tuple[str, str, int, int, float, float]] = []


def marks() -> list[pytest.MarkDecorator]:
    """``deploy`` and ``terraform``, skipped with the reason when Terraform cannot run."""
    reason = unavailable_reason()
    return [pytest.mark.deploy, pytest.mark.terraform,
            pytest.mark.skipif(reason is not None, reason=reason or "")]


def rounds() -> list[int]:
    return list(range(1, int(os.environ.get(ROUNDS_VARIABLE, DEFAULT_ROUNDS)) + 1))


@dataclass
class Deployed:
    """An example applied in one round: the emulator, what existed before, the deployment."""

    deployment: ExampleDeployment
    round: int
    before: dict[str, set[str]]
    destroyed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def emulator(self) -> Emulator:
        return self.deployment.emulator

    def client(self, service: str) -> Any:
        """A boto3 client in the example's region."""
        return self.emulator.client(service, self.deployment.region)

    def outputs(self) -> dict[str, Any]:
        """The outputs of the example's (first) stack."""
        return self.deployment.outputs()[self.deployment.stacks[0].name]

    def destroy(self) -> dict[str, set[str]]:
        """Destroy (once); what the emulator then holds that it did not hold before apply."""
        if not self.destroyed:
            self.destroyed = True
            self.deployment.destroy()
            for stack in self.deployment.stacks:
                APPLIED.append((self.deployment.example, stack.name, self.round, stack.applied,
                                stack.seconds["apply"], stack.seconds["destroy"]))
        return left_behind(self.before, self.deployment.inventory())


_SYNTHESIZED: dict[str, ExampleDeployment] = {}


def deployed_fixture(example: str) -> Callable[..., Iterator[Deployed]]:
    """A module fixture: ``example`` synthesized once per session, applied once per round."""

    @pytest.fixture(scope="module", params=rounds(), ids=lambda r: f"round{r}")
    def deployed(request: pytest.FixtureRequest, emulator_account: tuple[Emulator, Any],
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
        if example not in _SYNTHESIZED:
            emulator, account = emulator_account
            workdir = tmp_path_factory.mktemp(f"deploy-{example}") / "cdktf.out"
            _SYNTHESIZED[example] = ExampleDeployment(emulator, account, example, workdir)
        deployment = _SYNTHESIZED[example]
        state = Deployed(deployment, request.param, deployment.inventory())
        try:
            deployment.apply()
            yield state
        finally:
            state.destroy()

    return deployed


def second_plan_proposes_only_listed_quirks(deployed: Deployed) -> None:
    """A plan right after apply changes nothing, except what emulator/quirks.py lists."""
    for stack in deployed.deployment.stacks:
        changes = stack.second_plan()
        assert changes == [], f"{stack.name}: changes no quirk explains:\n" + "\n".join(changes)


def destroy_leaves_nothing(deployed: Deployed) -> None:
    """Destroy empties the state and leaves the emulator as it was before apply."""
    left = deployed.destroy()
    assert left == {}, f"left behind after destroy: {left}"
    for stack in deployed.deployment.stacks:
        assert stack.workspace.state() == [], f"{stack.name}: state not empty"

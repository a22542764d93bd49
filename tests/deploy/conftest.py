"""The deploy tests' emulator (one per session, its own log) and the applied-resources summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator.deployment import LEFT_OUT, start
from emulator.server import Emulator
from tests.deploy.lifecycle import APPLIED


@pytest.fixture(scope="package")
def emulator_account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, Any]]:
    """The extended moto server on 127.0.0.1 with the examples' account seeded; moto's state
    (shared by every moto server in the process) is reset before the seed and again when the
    deploy tests end."""
    log_path = tmp_path_factory.getbasetemp() / "emulator.log"
    emulator, account = start(log_path)
    try:
        yield emulator, account
    finally:
        emulator.reset()
        emulator.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Resources applied per stack and round, and what the local deploy leaves out."""
    if not APPLIED:
        return
    terminalreporter.section("deploy: resources applied on the emulator")
    for example, stack, round_, count, apply_s, destroy_s in APPLIED:
        terminalreporter.write_line(
            f"{stack:<20} round {round_}: {count:>3} resources applied "
            f"(apply {apply_s:.0f} s, destroy {destroy_s:.0f} s) [{example}]")
    left_out = ", ".join(f"{kind} ({why})" for kind, why in LEFT_OUT) or "nothing"
    terminalreporter.write_line(f"left out of the local deploy: {left_out}")

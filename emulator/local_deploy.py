"""``make local-deploy``: every example of ``main.py`` applied on the local emulator.

Starts the emulator (moto on 127.0.0.1, extended), synthesizes each example with the endpoint
and ephemeral switches, applies every stack, prints the resources per stack, the outputs and
what was left out and why, then destroys everything and stops, unless ``--keep`` (or
``KEEP=1``) keeps it up until Ctrl-C. Exit code 0 when every step worked, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from emulator.deployment import LEFT_OUT, DeployError, ExampleDeployment, start
from emulator.examples import REGIONS
from emulator.quirks import QUIRKS
from emulator.terraform import unavailable_reason


def resource_table(deployments: list[ExampleDeployment]) -> Table:
    """Stacks, their resources by type, and apply times."""
    table = Table(title="Applied on the emulator")
    for column in ("stack", "region", "resources", "by type", "apply"):
        table.add_column(column, overflow="fold")
    for deployment in deployments:
        for stack in deployment.stacks:
            types = Counter(address.split(".")[0] for address in stack.workspace.state())
            summary = ", ".join(f"{kind.removeprefix('aws_')} {count}"
                                for kind, count in sorted(types.items()))
            table.add_row(stack.name, stack.region, str(stack.applied), summary,
                          f"{stack.seconds.get('apply', 0):.0f} s")
    return table


def outputs_table(deployments: list[ExampleDeployment]) -> Table:
    """Every stack output (sensitive values hidden)."""
    table = Table(title="Outputs")
    for column in ("stack", "output", "value"):
        table.add_column(column, overflow="fold")
    for deployment in deployments:
        for stack in deployment.stacks:
            for name, output in sorted(stack.workspace.outputs().items()):
                value = "(sensitive)" if output.get("sensitive") else str(output.get("value"))
                table.add_row(stack.name, name, value)
    return table


def report_gaps(console: Console) -> None:
    """What the local deploy leaves out, and where the emulator answers differently."""
    if LEFT_OUT:
        for kind, why in LEFT_OUT:
            console.print(f"left out: {kind}: {why}")
    else:
        console.print("Left out: nothing (every resource the examples declare was applied).")
    console.print(f"Known emulator quirks ({len(QUIRKS)}, see docs/testing.md):")
    for quirk in QUIRKS:
        console.print(f"  {quirk.resource_type}.{quirk.attribute}: {quirk.reason}")


def main(argv: list[str] | None = None) -> int:
    """Bring the examples up on the emulator; 0 when every apply and destroy worked."""
    parser = argparse.ArgumentParser(prog="python -m emulator.local_deploy",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("examples", nargs="*", choices=[[], *REGIONS], default=[],
                        help="examples to deploy (default: all of main.py's)")
    parser.add_argument("--keep", action="store_true", default=os.environ.get("KEEP") == "1",
                        help="keep the emulator and the stacks up until Ctrl-C (or KEEP=1)")
    parser.add_argument("--workdir", type=Path, help="where to synthesize (default: a temp dir)")
    args = parser.parse_args(argv)
    console = Console()
    if (reason := unavailable_reason()) is not None:
        console.print(f"local-deploy: cannot run Terraform: {reason}")
        return 1
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="local-deploy-"))
    emulator, account = start(workdir / "emulator.log")
    console.print(f"Emulator (moto, extended) on {emulator.endpoint}; log {emulator.log_path}")
    deployments: list[ExampleDeployment] = []
    status = 0
    try:
        for example in args.examples or list(REGIONS):
            console.print(f"[bold]{example}[/]: synthesizing and applying ...")
            deployment = ExampleDeployment(emulator, account, example, workdir / example)
            deployments.append(deployment)
            deployment.apply()
        console.print(resource_table(deployments), outputs_table(deployments))
        report_gaps(console)
        if args.keep:
            console.print(f"Up on {emulator.endpoint} (AWS_ENDPOINT_URL={emulator.endpoint}, "
                          "any access key). Ctrl-C destroys everything and stops.")
            while True:
                time.sleep(3600)
    except DeployError as error:
        console.print(str(error), markup=False)
        status = 1
    except KeyboardInterrupt:
        console.print("Stopping ...")
    finally:
        status = _tear_down(console, deployments, status)
        emulator.stop()
    return status


def _tear_down(console: Console, deployments: list[ExampleDeployment], status: int) -> int:
    """Destroy every applied example, last first; 1 when a destroy failed."""
    for deployment in reversed(deployments):
        try:
            deployment.destroy()
            console.print(f"{deployment.example}: destroyed")
        except DeployError as error:
            console.print(str(error), markup=False)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

"""Synth time and peak memory of ``main.py`` per engine, against each engine's floor.

The floor is an empty stack holding only the AWS provider: what any stack pays to load the
engine and the provider bindings. Each figure is the median of ``--runs`` whole-process runs.

    python benchmarks/bench_synth.py [--runs 3] [--engines cdktn cdktf]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]

FLOOR = """
import sys
from serverless_laravel.cdk import App, TerraformStack, aws
app = App(outdir=sys.argv[1])
stack = TerraformStack(app, "floor")
aws("provider").AwsProvider(stack, "aws", region="eu-west-1")
app.synth()
"""


@dataclass
class Sample:
    seconds: float
    peak_mib: float


def run_once(python: Path, args: list[str], cwd: Path, engine: str) -> Sample:
    """One whole-process run: wall seconds and the peak RSS of the largest process it waited on."""
    env = {
        **os.environ,
        "SERVERLESS_LARAVEL_CDK": engine,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(python), *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{engine} {args} failed: {process.stderr.read().decode()[-2000:]}")
    return Sample(elapsed, usage.ru_maxrss / 1024)


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.seconds for s in samples),
        statistics.median(s.peak_mib for s in samples),
    )


def measure(engine: str, runs: int) -> tuple[Sample, Sample]:
    python = ROOT / f".venv-{engine}" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{python} is missing: run `make setup` first")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        floor_script = cwd / "floor.py"
        floor_script.write_text(FLOOR)
        run_once(python, [str(floor_script), str(cwd / "warm")], cwd, engine)
        floor = [
            run_once(python, [str(floor_script), str(cwd / "floor.out")], cwd, engine)
            for _ in range(runs)
        ]
        full = [run_once(python, [str(ROOT / "main.py")], cwd, engine) for _ in range(runs)]
    return median(floor), median(full)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", nargs="+", default=["cdktn", "cdktf"])
    options = parser.parse_args()
    table = Table(title=f"Synth of main.py vs the engine floor (median of {options.runs})")
    for column in ("engine", "floor s", "floor MiB", "main.py s", "main.py MiB", "ratio"):
        table.add_column(column, justify="right")
    for engine in options.engines:
        floor, full = measure(engine, options.runs)
        table.add_row(
            engine,
            f"{floor.seconds:.2f}",
            f"{floor.peak_mib:.0f}",
            f"{full.seconds:.2f}",
            f"{full.peak_mib:.0f}",
            f"{full.seconds / floor.seconds:.2f}x",
        )
    Console().print(table)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; ratio = main.py / floor "
        "wall time; MiB = peak RSS of the largest process (python or the jsii node runtime)."
    )


if __name__ == "__main__":
    main()

"""``cdktn synth`` as ``make synth`` runs it: the CLI on the Node from ``.tools/`` runs main.py
(cdktf.json's app) and writes every example stack where ``--output`` points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from main import EXAMPLES
from serverless_laravel.cdk import ENGINE

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "node_modules" / ".bin"
# main.py names each example's stack after its folder, with hyphens.
EXAMPLE_STACKS = {name.replace("_", "-") for name in EXAMPLES}


def unavailable_reason() -> str | None:
    """Why the cdktn CLI cannot run in this session, or None when it can."""
    if ENGINE.name != "cdktn":
        return "the cdktn CLI runs once per `make test`, in the CDK Terrain (cdktn) session"
    if not (TOOLS_BIN / "cdktn").exists() or not (TOOLS_BIN / "node").exists():
        return "Node 22 and the cdktn CLI are not installed under .tools/: run `make tools`"
    return None


reason = unavailable_reason()
pytestmark = [pytest.mark.cli, pytest.mark.skipif(reason is not None, reason=reason or "")]


@pytest.fixture(scope="module")
def cli_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """One ``cdktn synth --output <tmp>`` from the repository root; its result and output dir."""
    base = tmp_path_factory.mktemp("cli-synth")
    outdir = base / "out"
    env = {
        **os.environ,
        # Node 22 first, then this interpreter's folder so that `python3 main.py` runs here.
        "PATH": os.pathsep.join([str(TOOLS_BIN), str(Path(sys.executable).parent),
                                 os.environ.get("PATH", "")]),
        "SERVERLESS_LARAVEL_CDK": "cdktn",
        "CHECKPOINT_DISABLE": "1",
        "DISABLE_VERSION_CHECK": "1",
        "CDKTF_HOME": str(base / "cdktf-home"),
        "TF_CLI_CONFIG_FILE": os.devnull,
        "CI": "1",
    }
    env.pop("CDKTF_OUTDIR", None)
    done = subprocess.run([str(TOOLS_BIN / "cdktn"), "synth", "--output", str(outdir)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    return done, outdir


def test_cli_synth_writes_every_example_stack(
    cli_synth: tuple[subprocess.CompletedProcess, Path],
) -> None:
    done, outdir = cli_synth
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    written = {path.parent.name for path in outdir.glob("stacks/*/cdk.tf.json")}
    assert written == EXAMPLE_STACKS
    for name in EXAMPLE_STACKS:
        doc = json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())
        assert doc["provider"]["aws"] and doc["resource"], name


def test_cli_manifest_lists_the_stacks(
    cli_synth: tuple[subprocess.CompletedProcess, Path],
) -> None:
    done, outdir = cli_synth
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert set(manifest["stacks"]) == EXAMPLE_STACKS

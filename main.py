"""The CDK app: synthesizes every example stack into ``cdktf.out`` (``python main.py``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "modules"))

from examples.serverless_laravel.stack import build as serverless_laravel
from examples.web_function.stack import build as web_function
from serverless_laravel.cdk import ENGINE, App, Construct, TerraformStack

EXAMPLES: dict[str, Callable[[Construct], list]] = {
    "web_function": web_function,
    "serverless_laravel": serverless_laravel,
}


def build_app(outdir: str | Path = "cdktf.out") -> App:
    """An App holding every example stack, ready to ``synth()``."""
    app = App(outdir=str(outdir))
    for build in EXAMPLES.values():
        build(app)
    return app


def summarize(outdir: Path, stacks: list[str]) -> list[tuple[str, int, Path]]:
    """(stack, resource count, JSON path) of each of ``stacks`` as synthesized in ``outdir``."""
    rows = []
    for name in sorted(stacks):
        stack_json = outdir / "stacks" / name / "cdk.tf.json"
        doc = json.loads(stack_json.read_text())
        count = sum(len(v) for v in doc.get("resource", {}).values())
        rows.append((stack_json.parent.name, count, stack_json))
    return rows


def main() -> None:
    outdir = Path("cdktf.out")
    app = build_app(outdir)
    app.synth()
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Synthesized with {ENGINE.name} into {outdir}/")
    for column in ("stack", "resources", "Terraform JSON"):
        table.add_column(column, overflow="fold")
    stacks = [child.node.id for child in app.node.children if isinstance(child, TerraformStack)]
    for name, count, path in summarize(outdir, stacks):
        table.add_row(name, str(count), str(path))
    Console().print(table)


if __name__ == "__main__":
    main()

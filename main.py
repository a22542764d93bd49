"""The CDK app: synthesizes every example stack into ``$CDKTF_OUTDIR``, else ``cdktf.out``.

Run it directly (``python main.py``) or through the CLI (``cdktn synth``, ``make synth``), which
sets ``CDKTF_OUTDIR``. A configuration error ends it with one message on stderr and exit code 2.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "modules"))

from examples.fargate_baseline.stack import build as fargate_baseline
from examples.serverless_laravel.stack import build as serverless_laravel
from examples.test_runner.stack import build as test_runner
from examples.web_function.stack import build as web_function
from serverless_laravel.cdk import ENGINE, App, Construct, TerraformStack, synth
from serverless_laravel.errors import ConfigurationError

EXAMPLES: dict[str, Callable[[Construct], list]] = {
    "web_function": web_function,
    "serverless_laravel": serverless_laravel,
    "fargate_baseline": fargate_baseline,
    "test_runner": test_runner,
}

DEFAULT_OUTDIR = "cdktf.out"
EXIT_CONFIGURATION_ERROR = 2

# How both engines word a failed ``node.add_validation`` check when ``app.synth()`` raises it.
_VALIDATION_HEADER = "Validation failed with the following errors:"
_VALIDATION_FOOTER = "If you wish to ignore these validations"


def default_outdir() -> Path:
    """``$CDKTF_OUTDIR`` (set by ``cdktn synth --output``), else ``cdktf.out``.

    Read here, not left to ``App()``: the jsii runtime keeps the environment it started with.
    """
    return Path(os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUTDIR)


def build_app(outdir: str | Path | None = None) -> App:
    """An App holding every example stack, ready to ``synth()`` into ``outdir``."""
    app = App(outdir=str(default_outdir() if outdir is None else outdir))
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


def configuration_message(error: BaseException) -> str | None:
    """The configuration error carried by ``error``, as its own text; None for anything else.

    A ``ConfigurationError`` arrives as itself (raised while building), as the context of the
    ``RuntimeError`` jsii raises when a validation callback throws, or only as text inside
    the engine's "Validation failed" ``RuntimeError`` when a validation returns it.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if isinstance(current, ConfigurationError):
            return str(current)
        seen.add(id(current))
        pending += [e for e in (current.__cause__, current.__context__)
                    if e is not None and id(e) not in seen]
    text = str(error)
    if not isinstance(error, RuntimeError) or _VALIDATION_HEADER not in text:
        return None
    errors = text.split(_VALIDATION_HEADER, 1)[1].split(_VALIDATION_FOOTER, 1)[0].strip("\n")
    # Each error comes as "  [construct path] message": drop the indentation, and the path
    # too where the message's first line names it already.
    errors = re.sub(r"^ *\[([^\]\n]+)\] (?=[^\n]*\1)", "", errors, flags=re.MULTILINE)
    return re.sub(r"^ +\[", "[", errors, flags=re.MULTILINE).rstrip()


def synthesize(outdir: Path | None = None) -> tuple[App, Path]:
    """Build and synthesize every example; the App and the directory it wrote to."""
    app = build_app(outdir)
    synth(app)  # the library's checks first, so their errors arrive as ConfigurationError
    return app, Path(app.outdir)


def main() -> int:
    """Synthesize every example and print a table of them; 2 on a configuration error."""
    try:
        app, outdir = synthesize()
    except (ConfigurationError, RuntimeError) as error:
        message = configuration_message(error)
        if message is None:
            raise
        print(f"main.py: cannot synthesize the examples:\n{message}", file=sys.stderr)
        return EXIT_CONFIGURATION_ERROR
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Synthesized with {ENGINE.name} into {outdir}/")
    for column in ("stack", "resources", "Terraform JSON"):
        table.add_column(column, overflow="fold")
    stacks = [child.node.id for child in app.node.children if isinstance(child, TerraformStack)]
    for name, count, path in summarize(outdir, stacks):
        table.add_row(name, str(count), str(path))
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

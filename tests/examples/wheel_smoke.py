"""An installed wheel, used as a user would: run by ``make wheel-check`` from outside the checkout.

Usage: ``python -I wheel_smoke.py LARAVEL_APP``. Synthesizes one stack from the installed
package into ``./cdktf.out`` and checks what the wheel must carry: ``py.typed``, the checkov
policies folder and a working ``serverless-laravel`` console script. Not collected by pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path


def check(condition: bool, message: str) -> None:
    """Stop with ``message`` when ``condition`` fails (asserts vanish under ``python -O``)."""
    if not condition:
        raise SystemExit(f"wheel-check: {message}")


def main(argv: list[str]) -> int:
    """Run every check against the package this interpreter imports; 0 when all hold."""
    laravel_app = Path(argv[1]).resolve()
    from cdktn import App

    import serverless_laravel
    from serverless_laravel import LaravelStack, PhpFunction

    package = Path(serverless_laravel.__file__).resolve().parent
    venv = Path(sys.prefix).resolve()
    check(venv in package.parents, f"serverless_laravel came from {package}, not from {venv}")
    check((package / "py.typed").is_file(), "py.typed is missing from the wheel")
    check((package / "policies" / "README.md").is_file(),
          "the checkov policies (serverless_laravel/policies/) are missing from the wheel")

    app = App(outdir="cdktf.out")
    stack = LaravelStack(app, "wheel-check", region="eu-west-1")
    PhpFunction(stack, "web", app=laravel_app)
    app.synth()
    stack_json = Path("cdktf.out", "stacks", "wheel-check", "cdk.tf.json")
    check(stack_json.is_file(), f"{stack_json} was not written")
    resources = json.loads(stack_json.read_text()).get("resource", {})
    check("aws_lambda_function" in resources, f"no Lambda function in {stack_json}")

    script = Path(sys.executable).parent / "serverless-laravel"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    expected = f"serverless-laravel {version('serverless-laravel')}"
    check(done.returncode == 0 and done.stdout.strip() == expected,
          f"`serverless-laravel --version` gave {done.returncode}: {done.stdout}{done.stderr}")
    print(f"wheel-check: {expected} from {package}: synthesized {stack_json}, py.typed and "
          "policies/ present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

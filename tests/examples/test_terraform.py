"""Every example stack, synthesized by main.py's app, passes terraform validate and plan offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import main
from tests import terraform
from tests.synth import Stack, load_stacks

reason = terraform.unavailable_reason()
pytestmark = [pytest.mark.terraform, pytest.mark.skipif(reason is not None, reason=reason or "")]


@pytest.fixture(scope="session")
def example_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    outdir = tmp_path_factory.mktemp("examples") / "cdktf.out"
    main.build_app(outdir).synth()
    stacks = load_stacks(outdir)
    for stack in stacks.values():
        terraform.offline(stack.directory)
        result = terraform.init(stack.directory)
        assert result.returncode == 0, result.output
    return stacks


def test_every_example_is_synthesized(example_stacks: dict[str, Stack]) -> None:
    assert set(example_stacks) == {"web-function", "serverless-laravel", "fargate-baseline",
                                   "test-runner"}


def test_validate(example_stacks: dict[str, Stack]) -> None:
    failures = {}
    for name, stack in example_stacks.items():
        result = terraform.validate(stack.directory)
        if result.returncode != 0:
            failures[name] = result.output
    assert failures == {}


def test_plan_creates_every_resource(example_stacks: dict[str, Stack]) -> None:
    failures = {}
    for name, stack in example_stacks.items():
        result = terraform.plan(stack.directory)
        expected = sum(len(v) for v in stack.doc.get("resource", {}).values())
        match = re.search(r"Plan: (\d+) to add, 0 to change, 0 to destroy", result.output)
        if result.returncode != 0 or not match or int(match.group(1)) != expected:
            failures[name] = f"expected {expected} to add\n{result.output[-3000:]}"
    assert failures == {}


def test_assets_resolve_from_the_stack_directory(example_stacks: dict[str, Stack]) -> None:
    for stack in example_stacks.values():
        for fn in stack.resources("aws_lambda_function").values():
            if "filename" in fn:
                assert (Path(stack.directory) / fn["filename"]).is_file()

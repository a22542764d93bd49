"""Every example stack, synthesized by main.py's app, passes terraform validate and plan offline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import main
from examples.inputs import STACK_INPUTS, TFVARS
from tests import terraform
from tests.synth import Stack, load_stacks

reason = terraform.unavailable_reason()
pytestmark = [pytest.mark.terraform, pytest.mark.skipif(reason is not None, reason=reason or "")]


@pytest.fixture(scope="session")
def example_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    outdir = tmp_path_factory.mktemp("examples") / "cdktf.out"
    main.build_app(outdir).synth()
    stacks = load_stacks(outdir)
    for name, stack in stacks.items():
        terraform.offline(stack.directory)
        if name in TFVARS:  # the example's fake inputs, loaded by validate and plan
            shutil.copy(TFVARS[name], stack.directory / "example.auto.tfvars")
        result = terraform.init(stack.directory)
        assert result.returncode == 0, result.output
    return stacks


def test_inputs_are_variables_without_defaults(example_stacks: dict[str, Stack]) -> None:
    for name, stack in example_stacks.items():
        variables = stack.doc.get("variable", {})
        assert set(variables) == set(STACK_INPUTS[name]), name
        for variable in variables.values():
            assert "default" not in variable
            assert variable["description"] and variable["validation"]


def test_tfvars_give_every_input(example_stacks: dict[str, Stack]) -> None:
    for name, path in TFVARS.items():
        given = set(re.findall(r"^([a-z_]+) = ", path.read_text(), flags=re.MULTILINE))
        assert given == set(STACK_INPUTS[name]), path


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


def test_plan_refuses_a_missing_or_malformed_input(
    example_stacks: dict[str, Stack], monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = example_stacks["test-runner"].directory
    given = directory / "example.auto.tfvars"
    try:
        given.rename(directory / "example.tfvars.off")
        missing = terraform.plan(directory)
        assert missing.returncode != 0 and "No value for required variable" in missing.output
        monkeypatch.setenv("TF_VAR_vpc_id", "vpc-fake")
        monkeypatch.setenv("TF_VAR_private_subnet_ids", '["subnet-0a1b2c3d4e5f60718"]')
        given.write_text(re.sub(r"^(vpc_id|private_subnet_ids) = .*$", "",
                                TFVARS["test-runner"].read_text(), flags=re.MULTILINE))
        malformed = terraform.plan(directory)
    finally:
        shutil.copy(TFVARS["test-runner"], given)
    assert malformed.returncode != 0
    assert "vpc_id must match ^vpc-" in malformed.output
    assert "private_subnet_ids must list at least 2 distinct values" in malformed.output

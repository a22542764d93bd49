"""The deploy proof has teeth: deliberately broken variants of ``web_function``, synthesized
here, fail to apply on the emulator (a reference to a resource that does not exist; an IAM
policy document AWS would refuse)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator import examples, seed
from emulator.server import Emulator
from emulator.terraform import Workspace
from examples.web_function.stack import WebFunctionStack
from serverless_laravel.cdk import App, synth
from serverless_laravel.constructs.stack import CONTEXT_ENDPOINT, CONTEXT_EPHEMERAL
from tests.deploy.lifecycle import marks

pytestmark = marks()
REGION = "eu-west-1"
INVALID_EFFECT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Maybe", "Action": "logs:PutLogEvents", "Resource": "*"}]})


@pytest.fixture(scope="module")
def broken(emulator_account: tuple[Emulator, Any],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Workspace]]:
    """Two broken stacks, synthesized once, their folders ready for Terraform."""
    emulator, _ = emulator_account
    outdir = tmp_path_factory.mktemp("broken") / "cdktf.out"
    app = App(outdir=str(outdir), context={CONTEXT_EPHEMERAL: "true",
                                           CONTEXT_ENDPOINT: emulator.endpoint})
    reference = WebFunctionStack(app, "broken-reference", region=REGION)
    reference.web.function.add_override("role", "${aws_iam_role.missing.arn}")
    document = WebFunctionStack(app, "broken-iam-document", region=REGION)
    document.web.role.policy.add_override("policy", INVALID_EFFECT)
    synth(app)
    workspaces = {}
    for name in ("broken-reference", "broken-iam-document"):
        directory = Path(outdir) / "stacks" / name
        seed.publish_layers(emulator, examples.layer_arns(directory))
        workspaces[name] = Workspace(directory, {})
        assert workspaces[name].init().returncode == 0
    yield workspaces
    for workspace in workspaces.values():
        workspace.destroy()


def test_a_reference_to_a_missing_resource_fails_to_apply(broken: dict[str, Workspace]) -> None:
    result = broken["broken-reference"].apply()
    assert result.returncode != 0
    assert "Reference to undeclared resource" in result.output


def test_a_malformed_iam_document_fails_to_apply(broken: dict[str, Workspace]) -> None:
    result = broken["broken-iam-document"].apply()
    assert result.returncode != 0
    assert "MalformedPolicyDocument" in result.output
    assert "aws_iam_role_policy" in result.output

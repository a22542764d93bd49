"""The example stacks of ``main.py`` made ready for the emulator: synthesized with the endpoint
and ephemeral switches, their inputs (Terraform variables) filled from the seeded account."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.seed import DEPLOY_ROLE_NAME, TEST_DATABASE, Account

ROOT = Path(__file__).resolve().parents[1]
REGIONS = {"web_function": "eu-west-1", "serverless_laravel": "us-east-1",
           "fargate_baseline": "us-east-1", "test_runner": "eu-west-1"}


def builders() -> dict[str, Callable[[Any], list]]:
    """``main.EXAMPLES``: the example name and the function adding its stacks to an App."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from main import EXAMPLES

    return EXAMPLES


def synthesize(example: str, outdir: Path, endpoint: str) -> dict[str, Path]:
    """Synthesize one example for the emulator; each stack's name and Terraform folder."""
    from serverless_laravel.cdk import App, synth
    from serverless_laravel.constructs.stack import CONTEXT_ENDPOINT, CONTEXT_EPHEMERAL

    context = {CONTEXT_EPHEMERAL: "true", CONTEXT_ENDPOINT: endpoint}
    app = App(outdir=str(outdir), context=context)
    stacks = builders()[example](app)
    synth(app)
    return {stack.node.id: outdir / "stacks" / stack.node.id for stack in stacks}


def layer_arns(directory: Path) -> list[str]:
    """Every Lambda layer ARN a synthesized stack names."""
    doc = json.loads((directory / "cdk.tf.json").read_text())
    functions = doc.get("resource", {}).get("aws_lambda_function", {}).values()
    return sorted({arn for function in functions for arn in function.get("layers", [])})


def seeded_values(account: Account, region: str) -> dict[str, Any]:
    """The inputs the seeded account answers (network, parameters, certificate, secrets)."""
    network = account.networks[region]
    return {
        "vpc_id": network.vpc_id,
        "private_subnet_ids": network.private_subnet_ids,
        "public_subnet_ids": network.public_subnet_ids,
        "function_security_group_ids": network.function_security_group_ids,
        "task_security_group_ids": network.function_security_group_ids,
        "egress_security_group_ids": network.function_security_group_ids,
        "test_database_security_group_id": network.database_security_group_id,
        "app_key_parameter_arn": account.parameter_arns[f"{region}:/example-laravel/app-key"],
        "testing_app_key_parameter_arn":
            account.parameter_arns[f"{region}:/example-laravel/testing-app-key"],
        "deploy_role_name": DEPLOY_ROLE_NAME,
        "certificate_arn": account.certificate_arn,
        "test_database": TEST_DATABASE,
        "app_secret_arn": account.secret_arns[f"{region}:app"],
        "migration_secret_arn": account.secret_arns[f"{region}:migrator"],
    }


def variables(stack_id: str, account: Account, region: str) -> dict[str, Any]:
    """Values for the variables ``stack_id`` declares: the seeded account's, else the example
    tfvars' (names and images, which nothing in the account has to match)."""
    from examples.inputs import example_values

    seeded = seeded_values(account, region)
    return {name: seeded.get(name, value) for name, value in example_values(stack_id).items()}

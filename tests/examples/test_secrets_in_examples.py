"""Every example stack ``main.py`` builds, scanned as Terraform JSON.

Secrets reach the JSON as references only: a function's secret variable holds ``bref-ssm:<name>``
and Bref resolves it at cold start; secret attributes of resources (passwords, secret strings,
SecureString values, the origin-verification header) are Terraform expressions, generated or
read at apply time, never literals. And no list-typed block reached the JSON empty: jsii passes
a dict inside a list through as-is and silently drops its multi-word keys, which can leave a
block with nothing in it (``cdk.struct`` exists for that; this guards every example).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import main
from serverless_laravel.cdk import TerraformStack
from serverless_laravel.constructs.assets import ORIGIN_VERIFY_HEADER
from serverless_laravel.constructs.secret_refs import BREF_SSM_PREFIX, is_safe_value, is_secret_name
from tests.synth import Stack, load_stacks

# Resource attributes that hold a secret value wherever they appear.
SECRET_ATTRIBUTES = frozenset({
    "password", "passwords", "master_password", "secret_string", "secret_binary",
    "auth_token", "value_wo",
})
# Shapes of real secrets that must never be in the JSON, whatever key holds them.
SECRET_SHAPES = {
    "Laravel APP_KEY": re.compile(r"base64:[A-Za-z0-9+/]{20,}={0,2}"),
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "Stripe live key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{10,}"),
}
# The only blocks that are empty by design inside a list: a WAF rule's action (and the
# web ACL's default action) is an empty allow {} or block {} block.
EMPTY_BY_DESIGN = frozenset({("action", "allow"), ("action", "block"),
                             ("default_action", "allow"), ("default_action", "block"),
                             ("override_action", "none"), ("action_to_use", "count")})


@pytest.fixture(scope="session")
def example_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    """Every stack of main.py's app, synthesized once, in-process."""
    outdir = tmp_path_factory.mktemp("secrets") / "cdktf.out"
    app = main.build_app(outdir)
    built = {child.node.id for child in app.node.children if isinstance(child, TerraformStack)}
    app.synth()
    stacks = load_stacks(Path(outdir))
    assert set(stacks) == built, "main.py's app synthesized a different set of stacks"
    return stacks


# The scans, as functions of a JSON document, so they can be shown to catch what they look for.


def is_expression(value: object) -> bool:
    """A whole Terraform expression (``${...}``): known at apply time, not written here."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")





def walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) pair below ``node``, depth first."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))


def function_secret_variables(doc: dict[str, Any]) -> dict[str, str]:
    """``<function>.<variable>: value`` for each secret-looking variable of each function."""
    found = {}
    for name, function in doc.get("resource", {}).get("aws_lambda_function", {}).items():
        variables = (function.get("environment") or {}).get("variables") or {}
        for key, value in variables.items():
            if is_secret_name(key):
                found[f"{name}.{key}"] = value
    return found


def literal_secrets(doc: dict[str, Any]) -> list[str]:
    """Where a secret's value is written into the JSON instead of referenced."""
    problems = []
    for path, value in walk(doc.get("resource", {})):
        if not path or not isinstance(path[-1], str):
            continue
        key = path[-1]
        where = ".".join(str(p) for p in path)
        # A variables map on any resource (functions, and anything else that has one).
        if len(path) >= 2 and path[-2] == "variables" and is_secret_name(key) \
                and not is_safe_value(key, value):
            problems.append(f"{where}: secret variable is not a {BREF_SSM_PREFIX} reference "
                            "(nor a URL without credentials)")
        if key in SECRET_ATTRIBUTES:
            values = value if isinstance(value, list) else [value]
            if not all(is_expression(v) for v in values):
                problems.append(f"{where}: secret attribute is a literal")
    for name, parameter in doc.get("resource", {}).get("aws_ssm_parameter", {}).items():
        if parameter.get("type") == "SecureString" and "value" in parameter \
                and not is_expression(parameter["value"]):
            problems.append(f"aws_ssm_parameter.{name}.value: SecureString value is a literal")
    for name, distribution in doc.get("resource", {}).get(
            "aws_cloudfront_distribution", {}).items():
        for origin in distribution.get("origin", []):
            for header in origin.get("custom_header", []):
                if header.get("name") == ORIGIN_VERIFY_HEADER \
                        and not is_expression(header.get("value")):
                    problems.append(f"aws_cloudfront_distribution.{name}: {ORIGIN_VERIFY_HEADER} "
                                    "value is a literal")
    for name, variable in doc.get("variable", {}).items():
        if is_secret_name(name) and "default" in variable:
            problems.append(f"variable.{name}: a secret-looking variable has a default")
    for name, output in doc.get("output", {}).items():
        if is_secret_name(name) and not output.get("sensitive"):
            problems.append(f"output.{name}: a secret-looking output is not sensitive")
    text = json.dumps(doc)
    problems += [f"{kind} in the JSON" for kind, shape in SECRET_SHAPES.items()
                 if shape.search(text)]
    return problems


def empty_list_blocks(doc: dict[str, Any]) -> list[str]:
    """Empty ``{}`` blocks inside list-typed blocks, but WAF's allow {} / block {} actions."""
    problems = []
    for path, value in walk({k: v for k, v in doc.items() if k != "//"}):
        if value != {} or not any(isinstance(p, int) for p in path):
            continue
        if len(path) >= 2 and path[0] == "resource" and path[1] == "aws_wafv2_web_acl" \
                and tuple(path[-2:]) in EMPTY_BY_DESIGN:
            continue
        problems.append(".".join(str(p) for p in path))
    return problems


# The examples.


def test_every_example_stack_is_scanned(example_stacks: dict[str, Stack]) -> None:
    assert {"web-function", "serverless-laravel"} <= set(example_stacks)


def test_secret_variables_are_bref_ssm_references(example_stacks: dict[str, Stack]) -> None:
    checked = {}
    for stack in example_stacks.values():
        for where, value in function_secret_variables(stack.doc).items():
            checked[f"{stack.name}/{where}"] = value
    assert checked, "no secret variable found: the scan would pass vacuously"
    assert {k: v for k, v in checked.items()
            if not is_safe_value(k.rsplit(".", 1)[1], v)} == {}


def test_the_full_example_references_each_kind_of_secret(example_stacks: dict[str, Stack]) -> None:
    """APP_KEY (SSM), the cache password and the database secret (Secrets Manager) travel as
    references; the origin-verification value never reaches PHP (an authorizer checks it)."""
    doc = example_stacks["serverless-laravel"].doc
    names = {where.split(".", 1)[1] for where in function_secret_variables(doc)}
    assert {"APP_KEY", "REDIS_PASSWORD", "DB_SECRET"} <= names
    assert "ORIGIN_VERIFY_SECRET" not in names


def test_no_secret_value_is_a_literal(example_stacks: dict[str, Stack]) -> None:
    problems = {name: literal_secrets(stack.doc) for name, stack in example_stacks.items()}
    assert {name: p for name, p in problems.items() if p} == {}


def test_no_list_block_is_empty(example_stacks: dict[str, Stack]) -> None:
    problems = {name: empty_list_blocks(stack.doc) for name, stack in example_stacks.items()}
    assert {name: p for name, p in problems.items() if p} == {}


# The scans catch what they look for (so a green run means something).


def test_scan_catches_literal_secrets() -> None:
    doc = {
        "resource": {
            "aws_lambda_function": {"fn": {"environment": {"variables": {
                "APP_KEY": "base64:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
                "STRIPE_WEBHOOK_SECRET": "whsec_123",
                "DB_SECRET": "{\"password\": \"hunter2\"}",
                "REDIS_PASSWORD": "bref-ssm:/app/redis",
                "REDIS_URL": "tls://${aws_x.y.address}:6379",
                "DATABASE_URL": "pgsql://laravel:hunter2@db.internal:5432/laravel",
                "QUEUE_CONNECTION": "sqs",
            }}}},
            "aws_secretsmanager_secret_version": {"v": {"secret_string": "hunter2"}},
            "aws_elasticache_user": {"u": {"passwords": ["${aws_x.y.z}", "hunter2"]}},
            "aws_ssm_parameter": {"p": {"type": "SecureString", "value": "hunter2"}},
            "aws_cloudfront_distribution": {"d": {"origin": [{"custom_header": [
                {"name": ORIGIN_VERIFY_HEADER, "value": "0123456789abcdef"}]}]}},
        },
        "output": {"db_password": {"value": "${aws_x.y.z}"}},
    }
    problems = "\n".join(literal_secrets(doc))
    for expected in ("APP_KEY", "STRIPE_WEBHOOK_SECRET", "DB_SECRET", "secret_string",
                     "passwords", "aws_ssm_parameter.p", ORIGIN_VERIFY_HEADER,
                     "output.db_password", "Laravel APP_KEY in the JSON", "DATABASE_URL"):
        assert expected in problems
    assert "REDIS_PASSWORD" not in problems
    assert "REDIS_URL" not in problems
    assert "QUEUE_CONNECTION" not in problems


def test_scan_catches_empty_list_blocks_but_not_waf_actions() -> None:
    doc = {
        "resource": {
            "aws_s3_bucket_server_side_encryption_configuration": {"e": {"rule": [{}]}},
            "aws_cloudfront_distribution": {"d": {"origin": [{"custom_origin_config": {}}]}},
            "aws_wafv2_web_acl": {"acl": {
                "default_action": {"allow": {}},
                "rule": [{"action": {"block": {}}, "statement": {}}],
            }},
        },
    }
    assert empty_list_blocks(doc) == [
        "resource.aws_s3_bucket_server_side_encryption_configuration.e.rule.0",
        "resource.aws_cloudfront_distribution.d.origin.0.custom_origin_config",
        "resource.aws_wafv2_web_acl.acl.rule.0.statement",
    ]

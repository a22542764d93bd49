"""The project's checkov policies (``policies/``), run as users run them: ``checkov -d DIR
--framework terraform_json --skip-download --external-checks-dir policies``.

Each policy fails its failing fixture, passes its passing one and fires on nothing else; the
documented gaps of checkov's built-in checks are real; no policy fires on the example stacks; and a
weakened copy of the full example is caught by every policy. checkov runs twice per session, one
subprocess each: over ``fixtures/`` (built-in checks included), and over the examples synthesized
once plus the weakened copy.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.synth import Stack, load_stacks

POLICIES = ROOT / "policies"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DOCS = ROOT / "docs" / "policies.md"
CUSTOM = re.compile(r"^CKV2?_LARAVEL_\d+$")
CUSTOM_CHECKS = "CKV_LARAVEL_*,CKV2_LARAVEL_*"
CHECKOV_VARIABLES = ("BC_", "CKV_", "PRISMA_", "CHECKOV_")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("checkov") is None,
    reason="checkov is not installed in this interpreter (pip install -e '.[dev]')",
)

# Policy id -> (resources its failing fixture must fail, resources its passing fixture must pass).
POLICY_FIXTURES: dict[str, tuple[set[str], set[str]]] = {
    "CKV_LARAVEL_1": ({"p1_fail_no_tls", "p1_fail_tls_unset", "p1_fail_no_secret",
                       "p1_fail_no_auth"},
                      {"p1_pass_secrets", "p1_pass_default_scheme"}),
    "CKV_LARAVEL_2": ({"p2_fail_no_logs", "p2_fail_no_throttle", "p2_fail_burst_only"},
                      {"p2_pass_stage"}),
    "CKV2_LARAVEL_3": ({"p3_fail_no_dlq", "p3_fail_redrive_without_target"},
                       {"p3_pass_dlq", "p3_pass_jsonencode", "p3_pass_literal_json",
                        "p3_pass_separate", "p3_pass_not_consumed"}),
    "CKV2_LARAVEL_4": ({"p4_fail_uncapped", "p4_fail_unreserved", "p4_fail_mapping_uncapped",
                        "p4_fail_one_mapping_uncapped", "p4_fail_alias_mapping_uncapped",
                        "p4_fail_alias_one_mapping_uncapped", "p4_fail_variable_subnets"},
                       {"p4_pass_reserved", "p4_pass_mapping_capped", "p4_pass_outside_vpc",
                        "p4_pass_alias_mapping_capped", "p4_pass_variable_subnets_reserved"}),
    "CKV_LARAVEL_5": ({"p5_fail_s3_star_named_bucket", "p5_fail_prefix_wildcard",
                       "p5_fail_infix_wildcard", "p5_fail_question_mark", "p5_fail_every_action",
                       "p5_fail_not_action", "p5_fail_role_policy", "p5_fail_managed_policy",
                       "p5_fail_role_inline", "p5_fail_queue_policy", "p5_fail_bucket_policy",
                       "p5_fail_interpolated_policy"},
                      {"p5_pass_named_actions", "p5_pass_deny_wildcard", "p5_pass_role_policy",
                       "p5_pass_bucket_policy", "p5_pass_role_inline"}),
    "CKV_LARAVEL_6": ({"p6_fail_get_object_anywhere", "p6_fail_mixed", "p6_fail_role_policy"},
                      {"p6_pass_wildcard_only", "p6_pass_role_policy"}),
    "CKV_LARAVEL_7": ({"p7_fail_open_url"}, {"p7_pass_iam_url"}),
    "CKV_LARAVEL_8": ({"p8_fail_no_retention", "p8_fail_never_expire"}, {"p8_pass_retention"}),
    "CKV_LARAVEL_9": ({"p9_fail_postgres_world", "p9_fail_all_traffic_v6", "p9_fail_port_range",
                       "p9_fail_inline_ssh"},
                      {"p9_pass_https_world", "p9_pass_http_world", "p9_pass_inline",
                       "p9_pass_private_postgres", "p9_pass_egress_world"}),
    "CKV2_LARAVEL_9": ({"p9g_fail_group_inline", "p9g_fail_group_rule", "p9g_fail_group_legacy",
                        "p9g_fail_foreign_rule"},
                       {"p9g_pass_lb_group", "p9g_pass_private_group", "p9g_pass_lb_rule",
                        "p9g_pass_private_rule", "p9g_pass_foreign_private",
                        "p9g_pass_foreign_egress"}),
    "CKV_LARAVEL_10": ({"p10_fail_public_instance", "p10_fail_public_cluster_instance",
                        "p10_fail_literal_public_group", "p10_fail_cache_public_group"},
                       {"p10_pass_private_instance", "p10_pass_publication_db", "p10_pass_cache"}),
    "CKV2_LARAVEL_10": ({"p10g_fail_db", "p10g_fail_cache", "p10g_fail_cluster"},
                        {"p10g_pass_db", "p10g_pass_cache"}),
    "CKV_LARAVEL_11": ({"p11_fail_db_password", "p11_fail_app_key", "p11_fail_database_url",
                        "p11_fail_access_key", "p11_fail_random_token", "p11_fail_ecs"},
                       {"p11_pass_references", "p11_pass_ecs"}),
}

# What docs/policies.md says checkov's built-in checks miss: fixture resource -> the built-in
# checks that pass on it although they look at the same kind of weakness (empty: no built-in
# check fails on the resource at all).
BUILTIN_GAPS: dict[str, set[str]] = {
    "p5_fail_s3_star_named_bucket": set(),  # s3:* on a named bucket
    "p1_fail_no_tls": set(),  # RDS Proxy with require_tls = false
    "p9_fail_postgres_world": {"CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"},
    "p3_fail_no_dlq": set(),  # SQS queue consumed by Lambda without a DLQ
    "p11_fail_db_password": {"CKV_AWS_45"},  # DB_PASSWORD=hunter2-laravel
    "p11_fail_app_key": {"CKV_AWS_45"},  # APP_KEY=base64:...
    "p8_fail_never_expire": {"CKV_AWS_66", "CKV_AWS_338"},  # retention_in_days = 0
    "p2_fail_no_throttle": set(),  # HTTP API stage without throttling
    "p6_fail_role_policy": set(),  # JSON policy: sqs:SendMessage on Resource *
}


@dataclass(frozen=True)
class Result:
    """One check result from checkov's JSON report."""

    check_id: str
    status: str
    file: str
    name: str
    guideline: str | None
    details: tuple[str, ...]


def run_checkov(directory: Path, workdir: Path, *, checks: str | None = None) -> list[Result]:
    """Every passed and failed result of one checkov run over ``directory`` with the policies.

    checkov runs in ``workdir`` with ``HOME`` there too and without its configuration variables,
    so neither the repository's ``.checkov.yaml`` (a skip list) nor a personal one applies.
    """
    command = [sys.executable, "-m", "checkov.main", "-d", str(directory),
               "--framework", "terraform_json", "--skip-download",
               "--external-checks-dir", str(POLICIES), "-o", "json", "--compact"]
    if checks:
        command += ["--check", checks]
    env = {k: v for k, v in os.environ.items() if not k.startswith(CHECKOV_VARIABLES)}
    # No __pycache__ left in policies/ (checkov executes each check file).
    env.update(HOME=str(workdir), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir,
                          check=False, timeout=600)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"checkov exited {done.returncode} without a JSON report:\n"
                    f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    results = []
    for section in report if isinstance(report, list) else [report]:
        for key, status in (("passed_checks", "PASSED"), ("failed_checks", "FAILED")):
            for item in section.get("results", {}).get(key, []):
                results.append(Result(
                    check_id=item["check_id"], status=status,
                    file=item["file_path"].lstrip("/"),
                    # Python checks report "resource.<name>" / "data.<name>", graph checks
                    # "<type>.<name>": the name is the last part either way.
                    name=item["resource"].rsplit(".", 1)[-1],
                    guideline=item.get("guideline"), details=tuple(item.get("details") or ()),
                ))
    return results


@cache
def load_rules() -> ModuleType:
    """policies/laravel_policy_rules.py run from its file as checkov runs it (no bytecode is
    written into policies/)."""
    path = POLICIES / "laravel_policy_rules.py"
    module = ModuleType("laravel_policy_rules")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses look their module up while it runs
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def custom_failures(results: list[Result], prefix: str = "") -> set[tuple[str, str, str]]:
    return {(r.check_id, r.file, r.name) for r in results
            if r.status == "FAILED" and CUSTOM.match(r.check_id) and r.file.startswith(prefix)}


@pytest.fixture(scope="session")
def fixture_results(tmp_path_factory: pytest.TempPathFactory) -> list[Result]:
    """One checkov run over every fixture, built-in checks included."""
    return run_checkov(FIXTURES, tmp_path_factory.mktemp("checkov-fixtures"))


# The fixtures.


def test_every_policy_loads_and_is_tested(fixture_results: list[Result]) -> None:
    """A Python check that did not load (no __init__.py, an import error) would pass silently."""
    seen = {r.check_id for r in fixture_results if CUSTOM.match(r.check_id)}
    assert seen == set(POLICY_FIXTURES)
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == set(POLICY_FIXTURES)


@pytest.mark.parametrize("check_id", sorted(POLICY_FIXTURES))
def test_policy_fails_its_failing_fixture(fixture_results: list[Result], check_id: str) -> None:
    failed = {r.name for r in fixture_results if r.check_id == check_id and r.status == "FAILED"
              and r.file == f"{check_id}/fail.tf.json"}
    assert failed == POLICY_FIXTURES[check_id][0]


@pytest.mark.parametrize("check_id", sorted(POLICY_FIXTURES))
def test_policy_passes_its_passing_fixture(fixture_results: list[Result], check_id: str) -> None:
    mine = [r for r in fixture_results
            if r.check_id == check_id and r.file == f"{check_id}/pass.tf.json"]
    assert {r.name for r in mine if r.status == "FAILED"} == set()
    assert {r.name for r in mine if r.status == "PASSED"} >= POLICY_FIXTURES[check_id][1]


def test_no_policy_fires_on_anything_else(fixture_results: list[Result]) -> None:
    expected = {(check_id, f"{check_id}/fail.tf.json", name)
                for check_id, (fails, _) in POLICY_FIXTURES.items() for name in fails}
    assert custom_failures(fixture_results) == expected


def test_failures_say_why(fixture_results: list[Result]) -> None:
    """Python checks explain each failure in the report's details."""
    undetailed = {(r.check_id, r.name) for r in fixture_results
                  if r.status == "FAILED" and r.check_id.startswith("CKV_LARAVEL_")
                  and not r.details}
    assert undetailed == set()


def test_every_policy_links_its_documentation(fixture_results: list[Result]) -> None:
    anchors = {m.lower() for m in re.findall(r"^#+ (CKV2?_LARAVEL_\d+)$", DOCS.read_text(),
                                             flags=re.MULTILINE)}
    for check_id in POLICY_FIXTURES:
        assert check_id.lower() in anchors
    links = {(r.check_id, r.guideline) for r in fixture_results if CUSTOM.match(r.check_id)}
    assert links == {(c, f"docs/policies.md#{c.lower()}") for c in POLICY_FIXTURES}


def test_builtin_checks_miss_the_documented_gaps(fixture_results: list[Result]) -> None:
    for name, passing in BUILTIN_GAPS.items():
        builtin = [r for r in fixture_results if r.name == name and not CUSTOM.match(r.check_id)]
        passed = {r.check_id for r in builtin if r.status == "PASSED"}
        failed = {r.check_id for r in builtin if r.status == "FAILED"}
        assert passing <= passed, name
        if not passing:
            assert failed == set(), name


# The facts the policies share, checked against their sources.


SECRET_NAMES = (
    "APP_KEY", "app_key", "APP_PREVIOUS_KEYS", "DB_PASSWORD", "db_password", "REDIS_PASSWORD",
    "DB_SECRET", "STRIPE_SECRET", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GITHUB_TOKEN",
    "PUSHER_APP_KEY", "MAILGUN_SECRET", "DATABASE_URL", "DB_URL", "REDIS_URL",
    "SENTRY_LARAVEL_DSN", "_KEY", "KEY", "TOKEN", "PASSWORD", "APP_NAME", "APP_URL", "DB_HOST",
    "DB_USERNAME", "REDIS_HOST", "SQS_QUEUE", "AWS_ACCESS_KEY_ID", "KEYCLOAK_URL",
    "PASSWORD_RESET_URL", "MY_KEYS", "SECRET_NAME", "TOKEN_TTL", "CACHE_PREFIX",
)


def test_secret_names_agree_with_the_library() -> None:
    from serverless_laravel.constructs.secret_refs import is_secret_name

    rules = load_rules()
    assert {n: rules.is_secret_name(n) for n in SECRET_NAMES} == \
        {n: is_secret_name(n) for n in SECRET_NAMES}


def test_values_the_library_accepts_are_not_flagged() -> None:
    """The policy accepts everything the library's rule accepts (and ARNs, expressions)."""
    from serverless_laravel.constructs.secret_refs import is_safe_value

    rules = load_rules()
    values = ("bref-ssm:/app/key", "bref-ssm:/aws/reference/secretsmanager/${x.name}",
              "tls://${aws_elasticache_serverless_cache.c.endpoint[0].address}:6379",
              "redis://cache.internal:6379", "hunter2", "pgsql://u:p@db/laravel", "bref-ssm:")
    for name in SECRET_NAMES:
        for found in values:
            if is_safe_value(name, found):
                assert rules.plaintext_secret(name, found) is None, (name, found)
    for name in ("DB_PASSWORD", "APP_KEY", "STRIPE_SECRET"):
        assert rules.plaintext_secret(name, "hunter2") is not None
        assert rules.plaintext_secret(name, f"arn:aws:ssm:us-east-1:1:parameter/{name}") is None
        assert rules.plaintext_secret(name, "${random_password.p.result}") is None
        assert rules.plaintext_secret(name, "${var.a}hunter2${var.b}") is not None


def test_wildcard_only_actions_come_from_policy_sentry() -> None:
    from policy_sentry.querying.actions import get_actions_that_support_wildcard_arns_only

    actions = load_rules().wildcard_only_actions()
    assert actions == {a.lower() for a in get_actions_that_support_wildcard_arns_only("all")}
    assert {"xray:puttracesegments", "xray:puttelemetryrecords", "ec2:describesubnets",
            "ec2:describenetworkinterfaces", "sts:getcalleridentity"} <= actions
    assert not {"s3:getobject", "sqs:sendmessage", "ec2:createnetworkinterface",
                "logs:createlogstream", "secretsmanager:getsecretvalue"} & actions


def test_public_name_rule_is_one_pattern_in_python_and_yaml() -> None:
    import yaml

    rules = load_rules()
    check = yaml.safe_load((POLICIES / "ckv2_laravel_10_public_subnet_group.yaml").read_text())
    patterns = {condition["value"] for condition in _conditions(check["definition"])
                if condition.get("operator") == "regex_match"}
    assert patterns == {rules.PUBLIC_NAME_PATTERN}
    names = {"public-db": True, "db_public": True, "PublicSubnets": True, "dbPublic": True,
             "PUBLIC": True, "app.public.subnets": True, "publication-db": False,
             "republic": False, "private-db": False, "nonpublic": False,
             "${aws_db_subnet_group.public.name}": False}
    assert {n: rules.is_public_name(n) for n in names} == names


def _conditions(node: Any) -> list[dict[str, Any]]:
    """Every leaf condition of a YAML graph-check definition."""
    if isinstance(node, list):
        return [c for item in node for c in _conditions(item)]
    if isinstance(node, dict) and ("and" in node or "or" in node):
        return _conditions(node.get("and", []) + node.get("or", []))
    return [node] if isinstance(node, dict) else []


# The examples, as synthesized, and a weakened copy of the full one.


def weaken(stack: Stack) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """A copy of the full example with one hole per policy, and the (policy, resource name)
    failures each hole must cause."""
    doc = copy.deepcopy(stack.doc)
    resources, data = doc["resource"], doc["data"]

    def name(type_: str, path: str, is_data: bool = False) -> str:
        blocks = (data if is_data else resources)[type_]
        full = f"{stack.name}/{path}"
        return next(n for n, b in blocks.items() if b["//"]["metadata"]["path"] == full)

    def block(type_: str, path: str, is_data: bool = False) -> dict[str, Any]:
        return (data if is_data else resources)[type_][name(type_, path, is_data)]

    block("aws_db_proxy", "proxy/proxy")["require_tls"] = False
    del block("aws_apigatewayv2_stage", "laravel/api/stage")["default_route_settings"]
    del block("aws_sqs_queue", "jobs/queue")["redrive_policy"]
    del block("aws_lambda_event_source_mapping", "jobs/event-source")["scaling_config"]
    storage = name("aws_s3_bucket", "laravel/storage/bucket")
    block("aws_iam_policy_document", "laravel/web/role/policy", True)["statement"].append(
        {"sid": "Storage", "effect": "Allow", "actions": ["s3:*"],
         "resources": [f"${{aws_s3_bucket.{storage}.arn}}/*"]})
    block("aws_iam_policy_document", "laravel/console/role/policy", True)["statement"].append(
        {"sid": "ReadAnything", "effect": "Allow", "actions": ["s3:GetObject"],
         "resources": ["*"]})
    block("aws_iam_role_policy", "proxy/role/inline")["policy"] = json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                "Action": "secretsmanager:*", "Resource": "*"}]})
    web = name("aws_lambda_function", "laravel/web/function")
    resources["aws_lambda_function_url"] = {"weak_url": {
        "function_name": f"${{aws_lambda_function.{web}.function_name}}",
        "authorization_type": "NONE"}}
    del block("aws_cloudwatch_log_group", "laravel/web/logs")["retention_in_days"]
    proxy_group = name("aws_security_group", "proxy/security-group/group")
    resources["aws_vpc_security_group_ingress_rule"]["weak_postgres"] = {
        "security_group_id": f"${{aws_security_group.{proxy_group}.id}}",
        "cidr_ipv4": "0.0.0.0/0", "from_port": 5432, "to_port": 5432, "ip_protocol": "tcp"}
    block("aws_db_instance", "database/instance")["publicly_accessible"] = True
    block("aws_db_subnet_group", "database/subnet-group")["name_prefix"] = "laravel-public-"
    block("aws_lambda_function", "laravel/web/function")["environment"]["variables"][
        "DB_PASSWORD"] = "hunter2-laravel"

    database = name("aws_db_instance", "database/instance")
    expected = {
        ("CKV_LARAVEL_1", name("aws_db_proxy", "proxy/proxy")),
        ("CKV_LARAVEL_2", name("aws_apigatewayv2_stage", "laravel/api/stage")),
        ("CKV2_LARAVEL_3", name("aws_sqs_queue", "jobs/queue")),
        ("CKV2_LARAVEL_4", name("aws_lambda_function", "jobs/worker/function")),
        ("CKV_LARAVEL_5", name("aws_iam_policy_document", "laravel/web/role/policy", True)),
        ("CKV_LARAVEL_5", name("aws_iam_role_policy", "proxy/role/inline")),
        ("CKV_LARAVEL_6", name("aws_iam_policy_document", "laravel/console/role/policy", True)),
        ("CKV_LARAVEL_6", name("aws_iam_role_policy", "proxy/role/inline")),
        ("CKV_LARAVEL_7", "weak_url"),
        ("CKV_LARAVEL_8", name("aws_cloudwatch_log_group", "laravel/web/logs")),
        ("CKV_LARAVEL_9", "weak_postgres"),
        ("CKV2_LARAVEL_9", proxy_group),
        ("CKV_LARAVEL_10", database),
        ("CKV2_LARAVEL_10", database),
        ("CKV_LARAVEL_11", name("aws_lambda_function", "laravel/web/function")),
    }
    return doc, expected


@dataclass
class ExampleScan:
    stacks: dict[str, Stack]
    results: list[Result]
    weakened: set[tuple[str, str]]


@pytest.fixture(scope="session")
def example_scan(tmp_path_factory: pytest.TempPathFactory) -> ExampleScan:
    """main.py's app synthesized once; its stacks and a weakened copy scanned in one run."""
    import main
    from serverless_laravel import cdk

    outdir = tmp_path_factory.mktemp("policy-examples") / "cdktf.out"
    cdk.synth(main.build_app(outdir))
    stacks = load_stacks(outdir)
    scan = tmp_path_factory.mktemp("policy-scan")
    for stack_name, stack in stacks.items():
        target = scan / "examples" / stack_name / "cdk.tf.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(stack.doc, indent=2))
    doc, expected = weaken(stacks["serverless-laravel"])
    (scan / "weakened").mkdir()
    (scan / "weakened" / "cdk.tf.json").write_text(json.dumps(doc, indent=2))
    results = run_checkov(scan, tmp_path_factory.mktemp("checkov-examples"), checks=CUSTOM_CHECKS)
    return ExampleScan(stacks, results, expected)


def test_no_policy_fires_on_the_examples(example_scan: ExampleScan) -> None:
    assert {f"examples/{name}/cdk.tf.json" for name in example_scan.stacks} == \
        {r.file for r in example_scan.results if r.file.startswith("examples/")}
    failures = {(r.check_id, r.file, r.name, r.details) for r in example_scan.results
                if r.status == "FAILED" and r.file.startswith("examples/")}
    assert failures == set()


def test_policies_apply_to_the_examples(example_scan: ExampleScan) -> None:
    """The examples hold what the policies look at, so a clean scan means something (no
    example has a function URL: CKV_LARAVEL_7 has nothing to check there)."""
    passed = {r.check_id for r in example_scan.results
              if r.status == "PASSED" and r.file.startswith("examples/")}
    assert passed >= set(POLICY_FIXTURES) - {"CKV_LARAVEL_7"}


def test_each_policy_catches_the_weakened_example(example_scan: ExampleScan) -> None:
    caught = {(c, n) for c, _, n in custom_failures(example_scan.results, "weakened/")}
    assert caught == example_scan.weakened
    assert {c for c, _ in caught} == set(POLICY_FIXTURES)

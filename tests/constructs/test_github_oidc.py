"""GitHubDeployRole: GitHub Actions assume a role through OIDC, pinned to repo and environment."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from serverless_laravel import GitHubDeployRole, LaravelStack, PolicyStatement
from serverless_laravel.cdk import App
from serverless_laravel.errors import ConfigurationError
from tests import terraform
from tests.helpers import ROOT
from tests.synth import Stack, synthesize

ACCOUNT = "111122223333"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
CONSOLE = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:shop-console"
WEB = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:shop-web"
RUNNER = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:shop-test-runner"
STATE = "arn:aws:s3:::acme-terraform-state"
ASSETS = "arn:aws:s3:::shop-assets-0123"
RESULTS = "arn:aws:s3:::shop-runner-results"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
APPLY = PolicyStatement(sid="ManageFunctions", actions=("lambda:UpdateFunctionCode",),
                        resources=(WEB,))


def example() -> ModuleType:
    """examples/github-actions/deploy_roles.py (its folder is no package: loaded by path)."""
    path = ROOT / "examples" / "github-actions" / "deploy_roles.py"
    spec = importlib.util.spec_from_file_location("github_deploy_roles", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(app: App) -> None:
    example().build(app)
    deploy_stack = LaravelStack(app, "deploy", region="eu-west-1", allow_local_state=True)
    deploy = GitHubDeployRole(deploy_stack, "github", owner="acme", repo="shop.web",
                              environments=["production", "staging"], statements=[APPLY])
    deploy.grant_state(STATE, "shop/prod/terraform.tfstate", kms_key_arn=KEY)
    deploy.grant_invoke(CONSOLE)
    deploy.grant_invoke(RUNNER, qualifier=None)
    deploy.grant_rollback(WEB)
    deploy.grant_rollback(CONSOLE)
    deploy.grant_asset_sync(ASSETS)
    deploy.grant_asset_sync(ASSETS)
    deploy.grant_read_results(RESULTS)
    plan_stack = LaravelStack(app, "plan", region="eu-west-1", allow_local_state=True)
    plan = GitHubDeployRole(plan_stack, "plan", owner="acme", repo="shop.web",
                            pull_requests=True, branches=["main"], provider_arn=PROVIDER)
    plan.grant_state(STATE, "shop/prod/terraform.tfstate", write=False)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "github-oidc", build)


def trust(stack: Stack, path: str) -> dict[str, Any]:
    role = stack.by_path("aws_iam_role", f"{path}/role/role")
    [statement] = stack.deref(role["assume_role_policy"])["statement"]
    return statement


def test_the_provider_trusts_github_for_sts(stacks: dict[str, Stack]) -> None:
    provider = stacks["deploy"].by_path("aws_iam_openid_connect_provider", "github/provider")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert not stacks["plan"].resources("aws_iam_openid_connect_provider")


def test_only_the_repository_environments_may_assume(stacks: dict[str, Stack]) -> None:
    stack = stacks["deploy"]
    statement = trust(stack, "github")
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    [principal] = statement["principals"]
    assert principal["type"] == "Federated"
    assert principal["identifiers"] == [
        f"${{{stack.address_of('aws_iam_openid_connect_provider', 'github/provider')}.arn}}"]
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert {c["test"] for c in conditions.values()} == {"StringEquals"}
    assert conditions["token.actions.githubusercontent.com:aud"]["values"] == [
        "sts.amazonaws.com"]
    assert conditions["token.actions.githubusercontent.com:sub"]["values"] == [
        "repo:acme/shop.web:environment:production", "repo:acme/shop.web:environment:staging"]
    output = stack.doc["output"]["github_role_arn"]
    assert output["value"] == f"${{{stack.address_of('aws_iam_role', 'github/role/role')}.arn}}"


def test_a_plan_role_trusts_pull_requests_and_a_branch(stacks: dict[str, Stack]) -> None:
    statement = trust(stacks["plan"], "plan")
    assert statement["principals"][0]["identifiers"] == [PROVIDER]
    subs = {c["variable"]: c["values"] for c in statement["condition"]}
    assert subs["token.actions.githubusercontent.com:sub"] == [
        "repo:acme/shop.web:ref:refs/heads/main", "repo:acme/shop.web:pull_request"]
    statements = stacks["plan"].role_statements("plan/role")
    assert sorted((s["resources"], s["actions"]) for s in statements.values()) == [
        ([STATE], ["s3:ListBucket"]),
        ([f"{STATE}/shop/prod/terraform.tfstate"], ["s3:GetObject"]),
    ]  # terraform plan -lock=false: no lock file, nothing written


def test_the_documented_roles_stack(stacks: dict[str, Stack]) -> None:
    stack = stacks["github-deploy-roles"]
    assert len(stack.resources("aws_iam_openid_connect_provider")) == 1
    subjects = {}
    for path in ("staging", "production", "plan"):
        conditions = {c["variable"]: c["values"] for c in trust(stack, path)["condition"]}
        subjects[path] = conditions["token.actions.githubusercontent.com:sub"]
    assert subjects == {"staging": ["repo:acme/shop:environment:staging"],
                        "production": ["repo:acme/shop:environment:production"],
                        "plan": ["repo:acme/shop:environment:plan"]}
    production = stack.role_statements("production/role")
    assert not any("shop-test-runner" in r for s in production.values() for r in s["resources"])
    assert stack.doc["terraform"]["backend"]["s3"]["use_lockfile"] is True


def test_no_environment_role_reaches_another_environments_functions(
    stacks: dict[str, Stack],
) -> None:
    """The staging role (no reviewers) must not change production's functions, nor back."""
    roles = example()
    stack = stacks["github-deploy-roles"]
    for environment, names in roles.FUNCTIONS.items():
        others = [roles.function_arn(n) for e, ns in roles.FUNCTIONS.items()
                  if e != environment for n in ns]
        patterns = [r for s in stack.role_statements(f"{environment}/role").values()
                    if s["resources"] for r in s["resources"] if r.startswith("arn:aws:lambda:")]
        assert patterns, environment
        reached = [(p, arn) for p in patterns for arn in others
                   if fnmatch.fnmatchcase(arn, p) or fnmatch.fnmatchcase(f"{arn}:live", p)]
        assert reached == [], environment
        assert all(any(fnmatch.fnmatchcase(roles.function_arn(n), p) for p in patterns)
                   for n in names), environment


def test_the_pipeline_grants_are_exact(stacks: dict[str, Stack]) -> None:
    statements = stacks["deploy"].role_statements("github/role")
    assert statements.pop("ManageFunctions")["actions"] == ["lambda:UpdateFunctionCode"]
    rollback = ["lambda:GetAlias", "lambda:ListVersionsByFunction", "lambda:UpdateAlias"]
    write = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert sorted((tuple(s["resources"]), tuple(s["actions"])) for s in statements.values()) \
        == sorted((tuple(r), tuple(a)) for r, a in [
            ([WEB], rollback),
            ([CONSOLE], rollback),
            ([f"{CONSOLE}:live"], ["lambda:InvokeFunction"]),
            ([RUNNER], ["lambda:InvokeFunction"]),
            ([STATE], ["s3:ListBucket"]),
            ([f"{STATE}/shop/prod/terraform.tfstate"], ["s3:GetObject", "s3:PutObject"]),
            ([f"{STATE}/shop/prod/terraform.tfstate.tflock"], write),
            ([KEY], ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]),
            ([ASSETS], ["s3:ListBucket"]),
            ([f"{ASSETS}/*"], write),
            ([f"{RESULTS}/runs/*"], ["s3:GetObject"]),
        ])


@pytest.mark.skipif(shutil.which("checkov", path=str(Path(sys.executable).parent)) is None,
                    reason="checkov is not installed in this virtualenv (dev extra)")
def test_checkov_passes_the_role(stacks: dict[str, Stack]) -> None:
    """Built-in checks, CKV_AWS_358 (GitHub OIDC claims) among them, on the synthesized JSON."""
    checkov = str(Path(sys.executable).parent / "checkov")
    result = subprocess.run(
        [checkov, "-d", str(stacks["deploy"].directory), "--framework", "terraform_json",
         "--skip-download", "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(result.stdout)
    failed = report["results"]["failed_checks"] if isinstance(report, dict) else []
    assert failed == [], [(f["check_id"], f["resource"]) for f in failed]
    passed = {p["check_id"] for p in report["results"]["passed_checks"]}
    assert "CKV_AWS_358" in passed


@pytest.mark.skipif(terraform.unavailable_reason() is not None,
                    reason=terraform.unavailable_reason() or "")
def test_terraform_plans_both_roles(stacks: dict[str, Stack], tmp_path: Path) -> None:
    """The provider block takes no thumbprint (AWS trusts GitHub's CA): valid on 5.100."""
    for stack in (stacks["github-deploy-roles"], stacks["plan"]):
        directory = shutil.copytree(stack.directory, tmp_path / stack.name)
        terraform.offline(directory)
        for step in (terraform.init, terraform.validate, terraform.plan):
            result = step(directory)
            assert result.returncode == 0, result.output


GOOD: dict[str, Any] = {"owner": "acme", "repo": "shop", "environments": ["production"]}


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"owner": "-acme"}, "git_hub_deploy_role.owner.shape"),
        ({"owner": "ac--me"}, "git_hub_deploy_role.owner.shape"),
        ({"owner": "a" * 40}, "git_hub_deploy_role.owner.shape"),
        ({"repo": "acme/shop"}, "git_hub_deploy_role.repo.shape"),
        ({"repo": "*"}, "git_hub_deploy_role.repo.shape"),
        ({"repo": ".."}, "git_hub_deploy_role.repo.shape"),
        ({"environments": "production"}, "git_hub_deploy_role.environments.type"),
        ({"environments": ["prod*"]}, "git_hub_deploy_role.environments.shape"),
        ({"environments": ["prod", "prod"]}, "git_hub_deploy_role.environments.shape"),
        ({"branches": ["feature/*"]}, "git_hub_deploy_role.branches.shape"),
        ({"branches": ["refs/heads/main/"]}, "git_hub_deploy_role.branches.shape"),
        ({"branches": ["refs/heads/main"]}, "git_hub_deploy_role.branches.shape"),
        ({"branches": ["main/"]}, "git_hub_deploy_role.branches.shape"),
        ({"pull_requests": "yes"}, "git_hub_deploy_role.pull_requests.type"),
        ({"environments": []}, "git_hub_deploy_role.environments.missing"),
        ({"provider_arn": "arn:aws:iam::111122223333:oidc-provider/example.com"},
         "git_hub_deploy_role.provider_arn.shape"),
        ({"statements": [{"sid": "x"}]}, "git_hub_deploy_role.statements.type"),
        ({"max_session_duration": 60}, "git_hub_deploy_role.max_session_duration.range"),
    ],
)
def test_bad_props_leave_nothing(props: dict[str, Any], code: str, tmp_path: Path) -> None:
    stack = LaravelStack(App(outdir=str(tmp_path)), "bad", region="eu-west-1")
    with pytest.raises(ConfigurationError) as error:
        GitHubDeployRole(stack, "github", **{**GOOD, **props})
    assert error.value.code == code
    assert [c.node.id for c in stack.node.children] == ["aws"]


@pytest.mark.parametrize(
    ("grant", "args", "code"),
    [
        ("grant_state", ("acme-state", "k"), "git_hub_deploy_role.bucket_arn.shape"),
        ("grant_state", (STATE, "/k"), "git_hub_deploy_role.key.shape"),
        ("grant_state", (STATE, "k*"), "git_hub_deploy_role.key.shape"),
        ("grant_invoke", ("shop-console",), "git_hub_deploy_role.function_arn.shape"),
        ("grant_rollback", (f"{WEB}:live",), "git_hub_deploy_role.function_arn.shape"),
        ("grant_asset_sync", ("arn:aws:s3:::Bad_Bucket",),
         "git_hub_deploy_role.bucket_arn.shape"),
        ("grant_read_results", (RESULTS,), "git_hub_deploy_role.prefix.shape"),
    ],
)
def test_bad_grants_add_nothing(grant: str, args: tuple[str, ...], code: str,
                                tmp_path: Path) -> None:
    stack = LaravelStack(App(outdir=str(tmp_path)), "bad", region="eu-west-1")
    role = GitHubDeployRole(stack, "github", **GOOD)
    with pytest.raises(ConfigurationError) as error:
        getattr(role, grant)(*args, **({"prefix": "*"} if grant == "grant_read_results" else {}))
    assert error.value.code == code
    assert role.role.statements == []


def test_bad_qualifier_and_kms_key(tmp_path: Path) -> None:
    stack = LaravelStack(App(outdir=str(tmp_path)), "bad", region="eu-west-1")
    role = GitHubDeployRole(stack, "github", **GOOD)
    with pytest.raises(ConfigurationError) as error:
        role.grant_invoke(CONSOLE, qualifier="$LATEST")
    assert error.value.code == "git_hub_deploy_role.qualifier.shape"
    with pytest.raises(ConfigurationError) as error:
        role.grant_state(STATE, "k", kms_key_arn="alias/state")
    assert error.value.code == "git_hub_deploy_role.kms_key_arn.shape"
    assert role.role.statements == []


def test_a_role_needs_exactly_one_principal(tmp_path: Path) -> None:
    from serverless_laravel import ServiceRole

    stack = LaravelStack(App(outdir=str(tmp_path)), "bad", region="eu-west-1")
    with pytest.raises(ConfigurationError) as error:
        ServiceRole(stack, "role", service="lambda.amazonaws.com", federated=PROVIDER,
                    statements=[])
    assert error.value.code == "service_role.service.principal"
    assert [c.node.id for c in stack.node.children] == ["aws"]

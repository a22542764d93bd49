"""The IAM side of the pipeline: GitHub's OIDC provider, a deploy role per environment and a
read-only plan role for pull requests (behind the `plan` environment's reviewers). A stack of
its own, applied once by an administrator (the roles must exist before the pipeline can assume
them); not one of main.py's examples.

The names, ARNs and the apply statements are placeholders: put yours here.
``apply_statements`` is what ``terraform apply`` of your app's stack needs; generate it from the
stack's resource types (e.g. with policy_sentry) instead of granting administrator access, and
keep each environment's to its own resources: staging deploys without reviewers, so its role
must not reach production.
"""

from __future__ import annotations

from serverless_laravel import GitHubDeployRole, LaravelStack, PolicyStatement, S3State
from serverless_laravel.cdk import Construct

REGION = "eu-west-1"
ACCOUNT = "123456789012"
OWNER, REPO = "acme", "shop"
STATE_BUCKET = "arn:aws:s3:::acme-terraform-state"
STACK = "shop"
# GitHub environment -> the environment name main.py gives the stack's state key
# (<prefix>/<environment>/<stack>/terraform.tfstate, docs/environments.md).
STATE_ENVIRONMENTS = {"staging": "staging", "production": "prod"}
# The app stack's outputs (terraform output): function names and the assets bucket.
FUNCTIONS = {
    "staging": ("shop-staging-web", "shop-staging-console", "shop-staging-worker"),
    "production": ("shop-production-web", "shop-production-console",
                   "shop-production-worker"),
}
ASSETS_BUCKETS = {"staging": "arn:aws:s3:::shop-staging-assets-0a1b2c",
                  "production": "arn:aws:s3:::shop-production-assets-3d4e5f"}
TEST_RUNNER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shop-test-runner"
TEST_RESULTS = "arn:aws:s3:::shop-test-runner-results-0a1b2c"


def apply_statements(environment: str) -> tuple[PolicyStatement, ...]:
    """What ``terraform apply`` of ``environment``'s stack needs: that environment's functions
    only (``shop-staging-*``), never another environment's."""
    return (
        PolicyStatement(
            sid="UpdateFunctions",
            actions=("lambda:GetFunction", "lambda:PublishVersion", "lambda:UpdateFunctionCode",
                     "lambda:UpdateFunctionConfiguration"),
            resources=(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-{environment}-*",)),
    )


def state_key(environment: str, prefix: str = "serverless-laravel") -> str:
    """The state object main.py gives ``STACK`` in ``environment``."""
    return f"{prefix}/{environment}/{STACK}/terraform.tfstate"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class DeployRolesStack(LaravelStack):
    """One OIDC provider; per environment a deploy role; a plan role for pull requests."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, region=REGION,
                         state=S3State(bucket="acme-terraform-state", key="shop/iam.tfstate"))
        provider_arn = None
        for environment, names in FUNCTIONS.items():
            role = GitHubDeployRole(self, environment, owner=OWNER, repo=REPO,
                                    environments=[environment],
                                    statements=apply_statements(environment),
                                    provider_arn=provider_arn)
            provider_arn = role.provider_arn
            role.grant_state(STATE_BUCKET, state_key(STATE_ENVIRONMENTS[environment]))
            web, console, worker = map(function_arn, names)
            role.grant_invoke(console)
            for function in (web, console, worker):
                role.grant_rollback(function)
            role.grant_asset_sync(ASSETS_BUCKETS[environment])
            if environment == "staging":
                role.grant_invoke(TEST_RUNNER, qualifier=None)
                role.grant_read_results(TEST_RESULTS)
        # Trusted for the `plan` environment (required reviewers), not for every pull request:
        # the state it reads holds the stack's generated secrets (docs/ci-cd.md).
        plan = GitHubDeployRole(self, "plan", owner=OWNER, repo=REPO, environments=["plan"],
                                provider_arn=provider_arn)
        plan.grant_state(STATE_BUCKET, state_key("prod"), write=False)


def build(scope: Construct) -> list[LaravelStack]:
    """The stacks of this example."""
    return [DeployRolesStack(scope, "github-deploy-roles")]

"""``GitHubDeployRole``: the IAM role a GitHub Actions workflow assumes through OIDC.

No long-lived access keys: the workflow asks GitHub for a short-lived token whose audience is
``sts.amazonaws.com`` and whose subject names the repository and the deployment environment
(``repo:<owner>/<repo>:environment:<env>``), and STS trades it for this role's credentials. The
trust policy pins both claims with ``StringEquals`` (no wildcard subject, so a fork, another
branch or another repository of the same owner cannot assume it).

The ``grant_*`` methods add the least-privilege set the pipeline in
``examples/github-actions/`` needs on top of what ``terraform apply`` itself needs (which the
user passes as ``statements``): the state object and its lock file, invoking the console and
test-runner functions, moving a ``live`` alias back (rollback), syncing the assets bucket.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from .. import cdk
from ..cdk import Construct
from ..checks import check_int, check_kms_key_arn, is_token
from ..errors import config_error
from .iam import Condition, PolicyStatement, ServiceRole

WHERE = "GitHubDeployRole"
GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
LIVE_ALIAS = "live"
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_BRANCH = re.compile(r"^(?!/|refs/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,255}(?<![/.])$")
_PROVIDER_ARN = re.compile(
    rf"^arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_ISSUER)}$")
_FUNCTION_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+$")
_BUCKET_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KEY = re.compile(r"^[^/*?][^*?]*$")
_QUALIFIER = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _check_list(prop: str, value: object, pattern: re.Pattern[str], rule: str,
                fix: str) -> tuple[str, ...]:
    """A list or tuple of distinct strings each matching ``pattern`` (never one bare string)."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise config_error(WHERE, prop, value, "must be a list of names, not one string",
                           f"pass {prop}=[{fix}]", kind="type")
    bad = [v for v in value if not isinstance(v, str) or not pattern.match(v)]
    if bad or len(set(value)) != len(value):
        raise config_error(WHERE, prop, value, f"{rule}, without duplicates or wildcards",
                           f"pass e.g. {prop}=[{fix}]", kind="shape")
    return tuple(value)


def _check_arn(prop: str, value: object, pattern: re.Pattern[str], fix: str) -> str:
    """An ARN of the expected shape, or a token resolved at apply time."""
    if is_token(value):
        return str(value)
    if not isinstance(value, str) or not pattern.match(value):
        raise config_error(WHERE, prop, value, "is not an ARN of the expected shape", fix,
                           kind="shape")
    return value


def _check_key(prop: str, value: object, fix: str) -> str:
    """An S3 object key or prefix: no leading '/', no wildcard."""
    if not isinstance(value, str) or not _KEY.match(value):
        raise config_error(WHERE, prop, value,
                           "must be an S3 key without a leading '/' or wildcards", fix,
                           kind="shape")
    return value


def _sid(action: str, *parts: str) -> str:
    """A statement id unique per action and resource (the same grant twice is the same sid)."""
    return action + hashlib.sha256("|".join(parts).encode()).hexdigest()[:10]


def subjects(owner: str, repo: str, environments: Sequence[str], branches: Sequence[str],
             pull_requests: bool) -> list[str]:
    """The ``sub`` claims GitHub puts in the tokens of the allowed jobs."""
    base = f"repo:{owner}/{repo}"
    return ([f"{base}:environment:{e}" for e in environments]
            + [f"{base}:ref:refs/heads/{b}" for b in branches]
            + ([f"{base}:pull_request"] if pull_requests else []))


class GitHubDeployRole(Construct):
    """An IAM role for GitHub Actions jobs of one repository, assumed through OIDC.

    * ``owner`` / ``repo``: the repository (``owner``: 1..39 letters, digits, single hyphens;
      ``repo``: 1..100 letters, digits, ``.``, ``_``, ``-``).
    * ``environments``: deployment environments whose jobs may assume the role (sub
      ``repo:<owner>/<repo>:environment:<env>``); use environments with protection rules.
    * ``branches``: branches whose jobs without an environment may assume it (sub
      ``...:ref:refs/heads/<branch>``); default none.
    * ``pull_requests``: jobs of pull requests may assume it (sub ``...:pull_request``); only
      for a read-only plan role; default ``False``.
    * ``provider_arn``: the account's existing GitHub OIDC provider (an account has at most
      one per URL); default: create it.
    * ``statements``: what ``terraform apply`` needs (the resource types of the stack).
    * ``max_session_duration``: 3600..43200 seconds (default 3600).
    * ``name_prefix`` / ``permissions_boundary``: as on ``ServiceRole``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        owner: str,
        repo: str,
        environments: Sequence[str] = (),
        branches: Sequence[str] = (),
        pull_requests: bool = False,
        provider_arn: str | None = None,
        statements: Sequence[PolicyStatement] = (),
        max_session_duration: int = 3600,
        name_prefix: str | None = None,
        permissions_boundary: str | None = None,
    ) -> None:
        claims = self.check(owner=owner, repo=repo, environments=environments,
                            branches=branches, pull_requests=pull_requests,
                            provider_arn=provider_arn, statements=statements,
                            max_session_duration=max_session_duration)
        super().__init__(scope, id)
        self.subjects = claims
        self.provider_arn = provider_arn or cdk.aws(
            "iam_openid_connect_provider").IamOpenidConnectProvider(
            self, "provider", url=f"https://{GITHUB_ISSUER}", client_id_list=[AUDIENCE],
        ).arn
        self.role = ServiceRole(
            self, "role", federated=self.provider_arn, statements=statements,
            name_prefix=name_prefix, permissions_boundary=permissions_boundary,
            max_session_duration=max_session_duration,
            trust_conditions=[
                Condition("StringEquals", f"{GITHUB_ISSUER}:aud", (AUDIENCE,)),
                Condition("StringEquals", f"{GITHUB_ISSUER}:sub", tuple(claims)),
            ],
        )
        output = cdk.TerraformOutput(self, "role-arn", value=self.role.arn,
                                     description="role-to-assume of the GitHub workflow")
        output.override_logical_id(re.sub(r"[^A-Za-z0-9_]", "_", f"{id}_role_arn"))

    @staticmethod
    def check(*, owner: object, repo: object, environments: object = (), branches: object = (),
              pull_requests: object = False, provider_arn: object = None,
              statements: object = (), max_session_duration: object = 3600) -> list[str]:
        """Validate every prop before anything is created; the allowed ``sub`` claims."""
        if not isinstance(owner, str) or not _OWNER.match(owner):
            raise config_error(WHERE, "owner", owner,
                               "must be a GitHub user or organization name: 1..39 letters, "
                               "digits or single hyphens, not starting or ending with '-'",
                               "pass the owner as in github.com/<owner>/<repo>", kind="shape")
        if not isinstance(repo, str) or not _REPO.match(repo) or repo in {".", ".."}:
            raise config_error(WHERE, "repo", repo,
                               "must be a repository name: 1..100 letters, digits, '.', '_' "
                               "or '-' (no owner, no wildcard)",
                               "pass the name as in github.com/<owner>/<repo>", kind="shape")
        envs = _check_list("environments", environments, _ENVIRONMENT,
                           "must list environment names of letters, digits, '.', '_' or '-'",
                           "'production'")
        refs = _check_list("branches", branches, _BRANCH,
                           "must list branch names, without 'refs/heads/'", "'main'")
        if not isinstance(pull_requests, bool):
            raise config_error(WHERE, "pull_requests", pull_requests, "must be True or False",
                               "pass pull_requests=True only for a read-only plan role",
                               kind="type")
        if not (envs or refs or pull_requests):
            raise config_error(WHERE, "environments", environments,
                               "no job could assume the role: give at least one environment, "
                               "branch or pull_requests=True",
                               "pass environments=['production']", kind="missing")
        if provider_arn is not None:
            _check_arn("provider_arn", provider_arn, _PROVIDER_ARN,
                       f"pass arn:aws:iam::<account>:oidc-provider/{GITHUB_ISSUER}, or None "
                       "to create the provider")
        if isinstance(statements, str) or not isinstance(statements, (list, tuple)) or any(
                not isinstance(s, PolicyStatement) for s in statements):
            raise config_error(WHERE, "statements", statements,
                               "must be a list of PolicyStatement",
                               "pass [PolicyStatement(sid=..., actions=(...), resources=(...))]",
                               kind="type")
        check_int(WHERE, "max_session_duration", max_session_duration, 3600, 43200,
                  unit="seconds", why="IAM's range")
        return subjects(owner, repo, envs, refs, pull_requests)

    @property
    def role_arn(self) -> str:
        """The ``role-to-assume`` of ``aws-actions/configure-aws-credentials``."""
        return self.role.arn

    def add_to_role_policy(self, statement: PolicyStatement) -> None:
        """Add one statement (e.g. what ``terraform apply`` needs for a new resource type)."""
        self.role.add(statement)

    def grant_state(self, bucket_arn: str, key: str, *, kms_key_arn: str | None = None,
                    write: bool = True) -> None:
        """Read (and with ``write``, write and lock) the Terraform state ``key``: S3 backend
        with its lock file ``<key>.tflock``. ``write=False`` suits ``terraform plan -lock=false``
        and ``terraform output``: the state object read-only, no lock file."""
        bucket = _check_arn("bucket_arn", bucket_arn, _BUCKET_ARN, "pass arn:aws:s3:::<bucket>")
        _check_key("key", key, "pass e.g. 'laravel/prod/terraform.tfstate'")
        check_kms_key_arn(WHERE, kms_key_arn)
        state, lock = f"{bucket}/{key}", f"{bucket}/{key}.tflock"
        self.role.add(PolicyStatement(_sid("ListState", bucket), ("s3:ListBucket",), (bucket,)))
        actions = ("s3:GetObject", "s3:PutObject") if write else ("s3:GetObject",)
        self.role.add(PolicyStatement(_sid("State", state, str(write)), actions, (state,)))
        if write:
            lock_actions = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
            self.role.add(PolicyStatement(_sid("StateLock", lock), lock_actions, (lock,)))
        if kms_key_arn:
            kms = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey") if write \
                else ("kms:Decrypt",)
            self.role.add(PolicyStatement(_sid("StateKey", kms_key_arn, str(write)), kms,
                                          (kms_key_arn,)))

    def grant_invoke(self, function_arn: str, *, qualifier: str | None = LIVE_ALIAS) -> None:
        """Invoke ``function_arn`` at ``qualifier`` only (``serverless-laravel artisan
        --qualifier live`` on the console function); ``None`` for the unqualified function
        (``test-run`` on the test runner, which has no alias)."""
        arn = _check_arn("function_arn", function_arn, _FUNCTION_ARN,
                         "pass arn:aws:lambda:<region>:<account>:function:<name>")
        if qualifier is not None and (not isinstance(qualifier, str)
                                      or not _QUALIFIER.match(qualifier)):
            raise config_error(WHERE, "qualifier", qualifier,
                               "must be an alias or version (letters, digits, '-', '_')",
                               "pass qualifier='live', or None for the unqualified function",
                               kind="shape")
        qualified = arn if qualifier is None else f"{arn}:{qualifier}"
        self.role.add(PolicyStatement(_sid("Invoke", qualified), ("lambda:InvokeFunction",),
                                      (qualified,)))

    def grant_rollback(self, function_arn: str) -> None:
        """List the versions of ``function_arn`` and move its alias (``serverless-laravel
        deployments`` and ``rollback``)."""
        arn = _check_arn("function_arn", function_arn, _FUNCTION_ARN,
                         "pass arn:aws:lambda:<region>:<account>:function:<name>")
        actions = ("lambda:GetAlias", "lambda:ListVersionsByFunction", "lambda:UpdateAlias")
        self.role.add(PolicyStatement(_sid("Rollback", arn), actions, (arn,)))

    def grant_asset_sync(self, bucket_arn: str, *, prefix: str = "") -> None:
        """``serverless-laravel assets sync --delete`` into ``bucket_arn`` under ``prefix``:
        list the bucket, read object headers, put and delete objects under the prefix."""
        bucket = _check_arn("bucket_arn", bucket_arn, _BUCKET_ARN, "pass arn:aws:s3:::<bucket>")
        if prefix:
            _check_key("prefix", prefix, "pass e.g. 'assets/'")
        self.role.add(PolicyStatement(_sid("ListAssets", bucket), ("s3:ListBucket",),
                                      (bucket,)))
        objects = f"{bucket}/{prefix}*"
        self.role.add(PolicyStatement(
            _sid("SyncAssets", objects), ("s3:DeleteObject", "s3:GetObject", "s3:PutObject"),
            (objects,)))

    def grant_read_results(self, bucket_arn: str, *, prefix: str = "runs/") -> None:
        """Read the test runner's results (summary and JUnit file) under ``prefix``."""
        bucket = _check_arn("bucket_arn", bucket_arn, _BUCKET_ARN, "pass arn:aws:s3:::<bucket>")
        _check_key("prefix", prefix, "pass e.g. 'runs/'")
        objects = f"{bucket}/{prefix}*"
        self.role.add(PolicyStatement(_sid("ReadResults", objects), ("s3:GetObject",),
                                      (objects,)))

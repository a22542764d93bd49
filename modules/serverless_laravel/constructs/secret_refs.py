"""``SecretRef``: where a secret lives (SSM SecureString or Secrets Manager), never its value.

A function receives ``bref-ssm:<parameter name>`` in its environment; Bref's secrets loader
(``composer require bref/secrets-loader``) swaps it for the value at cold start with one
``ssm:GetParameters`` call. Secrets Manager secrets are read through Parameter Store's reference
path ``/aws/reference/secretsmanager/<secret name>``. The grants name exactly those ARNs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import cdk
from ..cdk import Construct
from ..checks import KMS_KEY_ARN
from ..errors import config_error
from .iam import PolicyStatement, sid_for
from .stack import is_ephemeral

WHERE = "SecretRef"

BREF_SSM_PREFIX = "bref-ssm:"
KNOWN_SECRETS = frozenset({
    "APP_KEY", "APP_PREVIOUS_KEYS", "DB_URL", "DATABASE_URL", "REDIS_URL", "AWS_SESSION_TOKEN",
    "SENTRY_LARAVEL_DSN",
})
SECRET_SUFFIXES: tuple[str, ...] = ("_PASSWORD", "_SECRET", "_KEY", "_TOKEN")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?P<userinfo>[^@/]*@)?[^@]*$")


def is_secret_name(key: str) -> bool:
    """Whether a variable name says it holds a secret (a known name or a secret-like suffix)."""
    upper = key.upper()
    return upper in KNOWN_SECRETS or upper.endswith(SECRET_SUFFIXES)


def is_credential_free_url(value: object) -> bool:
    """``scheme://host...`` with no user or password in it."""
    match = _URL.match(value) if isinstance(value, str) else None
    return bool(match) and match.group("userinfo") is None


def is_reference(value: object) -> bool:
    """A ``bref-ssm:`` reference Bref resolves at cold start: the value never sits in config."""
    return isinstance(value, str) and value.startswith(BREF_SSM_PREFIX) \
        and len(value) > len(BREF_SSM_PREFIX)


def is_safe_value(key: str, value: object) -> bool:
    """What a secret-named variable may hold: a reference, or for ``*_URL`` a credential-free
    URL (e.g. ``tls://host:6379`` with the password passed separately)."""
    if not is_secret_name(key) or is_reference(value):
        return True
    return key.upper().endswith("_URL") and is_credential_free_url(value)
KINDS: dict[str, str] = {"ssm": "SSM parameter", "secretsmanager": "Secrets Manager secret"}
SECRETS_MANAGER_REFERENCE = "/aws/reference/secretsmanager/"
_PARAMETER_ARN = re.compile(
    r"^arn:(aws[a-z-]*):ssm:([a-z0-9-]+):(\d{12}):parameter/([A-Za-z0-9_.\-/]{1,1011})$"
)
# Secrets Manager appends '-' and six random characters to the name in a secret's full ARN.
_SECRET_ARN = re.compile(
    r"^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:([A-Za-z0-9/_+=.@-]+)"
    r"-[A-Za-z0-9]{6}$"
)
_NAME = re.compile(r"^[A-Za-z0-9_.\-/+=@]{1,2048}$")


@dataclass(frozen=True)
class _Parsed:
    partition: str
    region: str
    account: str
    name: str


@dataclass(frozen=True)
class SecretRef:
    """A pointer to an SSM parameter ARN or a Secrets Manager secret's full ARN.

    Build it with ``SecretRef.ssm(...)`` or ``SecretRef.secrets_manager(...)``. ``name`` and the
    kind are read from a literal ARN; when ``arn`` is a token (a resource attribute) pass
    ``name``: the parameter name (``/my-app/app-key``) or the secret name. ``kms_key_arn`` is
    the customer managed key encrypting the value, when it is not the AWS managed key.
    """

    arn: str
    kms_key_arn: str | None = None
    name: str | None = None
    json_key: str | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.arn, str) or not self.arn:
            raise config_error(
                WHERE, "arn", self.arn, "must be an SSM parameter ARN or a Secrets Manager "
                "secret ARN", "pass arn:aws:ssm:<region>:<account>:parameter/<name>", kind="empty",
            )
        if self.json_key is not None:
            raise config_error(
                WHERE, "json_key", self.json_key,
                "Bref's secrets loader puts a secret's whole SecretString in the variable; it "
                "cannot pick one JSON key",
                "store that value in its own secret or SecureString parameter and reference it",
            )
        if self.kms_key_arn is not None and not cdk.is_token(self.kms_key_arn) \
                and not KMS_KEY_ARN.match(self.kms_key_arn):
            raise config_error(
                WHERE, "kms_key_arn", self.kms_key_arn, "must be a KMS key ARN (not an alias)",
                "pass arn:aws:kms:<region>:<account>:key/<id>",
            )
        if self.kind is not None and self.kind not in KINDS:
            raise config_error(
                WHERE, "kind", self.kind, f"must be one of {list(KINDS)}",
                "build the reference with SecretRef.ssm() or SecretRef.secrets_manager()",
                kind="choice",
            )
        if cdk.is_token(self.arn):
            self._check_token_ref()
            return
        if self.name is not None:
            raise config_error(
                WHERE, "name", self.name, "is read from a literal ARN", "drop name=", kind="unused",
            )
        kind = "ssm" if _PARAMETER_ARN.match(self.arn) else "secretsmanager"
        self._parsed()
        if self.kind not in (None, kind):
            raise config_error(
                WHERE, "arn", self.arn, f"is not a {KINDS[self.kind]} ARN",
                f"use SecretRef.{'ssm' if kind == 'ssm' else 'secrets_manager'}() for it",
                kind="kind_mismatch",
            )
        object.__setattr__(self, "kind", kind)

    def _check_token_ref(self) -> None:
        """A token ARN does not carry its kind: it must be given. Without ``name`` the name is
        read from the ARN by Terraform (a ``list(string)`` or ``string`` variable, an attribute)."""
        if self.kind is None:
            raise config_error(
                WHERE, "kind", None, "is required when arn is a token",
                "build the reference with SecretRef.ssm() or SecretRef.secrets_manager()",
                kind="missing",
            )
        if self.name is None:
            object.__setattr__(self, "name", _name_from_arn(self.arn, self.kind))
        elif not cdk.is_token(self.name) and not _NAME.match(self.name):
            raise config_error(
                WHERE, "name", self.name, "must be the parameter or secret name (letters, "
                "digits and _.-/+=@)", "pass name='/my-app/app-key', or leave it out to read "
                "it from the ARN", kind="shape",
            )

    @classmethod
    def ssm(cls, parameter_arn: str, *, kms_key_arn: str | None = None,
            name: str | None = None) -> SecretRef:
        """A SecureString (or String) parameter in Parameter Store."""
        return cls(parameter_arn, kms_key_arn=kms_key_arn, name=name, kind="ssm")

    @classmethod
    def secrets_manager(cls, secret_arn: str, *, kms_key_arn: str | None = None,
                        name: str | None = None, json_key: str | None = None) -> SecretRef:
        """A Secrets Manager secret, by its full ARN (with the six-character suffix)."""
        return cls(secret_arn, kms_key_arn=kms_key_arn, name=name, json_key=json_key,
                   kind="secretsmanager")

    @property
    def is_parameter(self) -> bool:
        return self.kind == "ssm"

    def _parsed(self) -> _Parsed:
        """Partition, region, account and name out of a literal ARN; a bad ARN is an error."""
        match = _PARAMETER_ARN.match(self.arn) or _SECRET_ARN.match(self.arn)
        if not match:
            raise config_error(
                WHERE, "arn", self.arn,
                "must be an SSM parameter ARN or a Secrets Manager secret's full ARN (ending "
                "in '-' and six characters)",
                "copy the ARN from the console or `aws ssm get-parameter` / "
                "`aws secretsmanager describe-secret`", kind="shape",
            )
        partition, region, account, rest = match.groups()
        if match.re is _PARAMETER_ARN:
            rest = f"/{rest}" if "/" in rest else rest
        return _Parsed(partition, region, account, rest)

    @property
    def region(self) -> str | None:
        """The ARN's region, or None when the ARN is a token."""
        return None if cdk.is_token(self.arn) else self._parsed().region

    @property
    def parameter_name(self) -> str:
        """The Parameter Store name Bref asks for: the parameter, or the secret's reference path."""
        name = self.name if cdk.is_token(self.arn) else self._parsed().name
        if self.is_parameter:
            return str(name)
        return f"{SECRETS_MANAGER_REFERENCE}{name}"

    @property
    def env_value(self) -> str:
        """What the function's variable holds: ``bref-ssm:<parameter name>``."""
        return f"{BREF_SSM_PREFIX}{self.parameter_name}"

    def parameter_arn(self, partition: str, region: str) -> str:
        """The ARN ``ssm:GetParameters`` is authorized on (the reference path for secrets)."""
        if self.is_parameter:
            return self.arn
        if cdk.is_token(self.arn):
            account = cdk.Fn.element(cdk.Fn.split(":", self.arn), 4)
        else:
            parsed = self._parsed()
            partition, region, account = parsed.partition, parsed.region, parsed.account
        path = self.parameter_name.lstrip("/")
        return f"arn:{partition}:ssm:{region}:{account}:parameter/{path}"

    def statements(self, variable: str, partition: str, region: str) -> list[PolicyStatement]:
        """Read this one secret: GetParameters, GetSecretValue, Decrypt with its key."""
        statements = [PolicyStatement(
            sid=sid_for("ReadParameter", variable), actions=("ssm:GetParameters",),
            resources=(self.parameter_arn(partition, region),),
        )]
        if not self.is_parameter:
            statements.append(PolicyStatement(
                sid=sid_for("ReadSecret", variable), actions=("secretsmanager:GetSecretValue",),
                resources=(self.arn,),
            ))
        if self.kms_key_arn is not None:
            statements.append(PolicyStatement(
                sid=sid_for("DecryptSecret", variable), actions=("kms:Decrypt",),
                resources=(self.kms_key_arn,),
            ))
        return statements


# What Terraform strips off an ARN to get the name Bref asks Parameter Store for: a top-level
# parameter's name has no '/', a hierarchical one starts with '/'; a secret's ARN ends in '-'
# and six random characters.
_TOP_LEVEL_PARAMETER = "/^arn:[^:]+:ssm:[^:]+:[0-9]+:parameter/([^/]+)$/"
_PARAMETER_PATH = "/^arn:[^:]+:ssm:[^:]+:[0-9]+:parameter(/.+)$/"
_SECRET_NAME = "/^arn:[^:]+:secretsmanager:[^:]+:[0-9]+:secret:(.+)-[A-Za-z0-9]{6}$/"


def _name_from_arn(arn: str, kind: str) -> str:
    """The parameter or secret name in a token ARN, as a Terraform expression."""
    if kind == "ssm":
        return cdk.Fn.replace(cdk.Fn.replace(arn, _TOP_LEVEL_PARAMETER, "$1"),
                              _PARAMETER_PATH, "$1")
    return cdk.Fn.replace(arn, _SECRET_NAME, "$1")


RECOVERY_WINDOW_DAYS = 7


def recovery_window_days(scope: Construct) -> int:
    """Days a deleted secret can be restored: 7, or 0 in an ephemeral stack (a preview's secrets
    go at once, so the next preview can take the same name)."""
    return 0 if is_ephemeral(scope) else RECOVERY_WINDOW_DAYS


def generated_secret() -> str:
    """64 hex characters (256 random bits) from Terraform's ``uuid()`` (crypto/rand, no API call,
    no extra provider), evaluated at the first apply; pair it with ``ignore_changes`` so it stays.
    The value lives in the Terraform state, never in the synthesized JSON."""
    half = cdk.Fn.replace(cdk.Fn.uuid(), "-", "")
    return cdk.Fn.join("", [half, cdk.Fn.replace(cdk.Fn.uuid(), "-", "")])

"""App secrets as SSM SecureString parameters ``<prefix>/<NAME>``, the names ``SecretRef.ssm``
points at and Bref's ``bref-ssm:`` references resolve at cold start.

Values pass through memory only: nothing here prints, logs or writes one, and no error message
carries one (a refused value is shown as its length). Listing reads metadata, never values.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import config_error

WHERE = "serverless-laravel secret"
NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,127}$")
PREFIX = re.compile(r"^(/[A-Za-z0-9_.-]{1,128}){1,14}/?$")
KMS_KEY_ID = re.compile(r"^(alias/[A-Za-z0-9/_-]{1,250}|[A-Za-z0-9-]{1,128}|arn:aws[a-z-]*:kms:"
                        r"[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]{1,250})$")
RESERVED_PREFIXES = ("/aws", "/ssm")
MAX_VALUE_BYTES = 4096


@dataclass(frozen=True)
class StoredSecret:
    """A parameter just written: where it is and the line that references it."""

    name: str
    parameter: str
    arn: str
    version: int
    kms_key_arn: str | None

    @property
    def secret_ref(self) -> str:
        """The ``SecretRef.ssm(...)`` expression to paste into ``LaravelApp(secrets={...})``."""
        kms = "" if self.kms_key_arn is None else f", kms_key_arn={json.dumps(self.kms_key_arn)}"
        return f"SecretRef.ssm({json.dumps(self.arn)}{kms})"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "secret_ref": self.secret_ref}


@dataclass(frozen=True)
class SecretInfo:
    """One parameter under the prefix: its metadata, never its value."""

    name: str
    parameter: str
    type: str
    version: int
    last_modified: str
    key_id: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ssm_client(region: str | None = None) -> Any:
    """An SSM client; ``AWS_ENDPOINT_URL`` (an emulator in tests) is honoured by boto3."""
    from . import aws

    return aws.client("ssm", region)


def kms_client(region: str | None = None) -> Any:
    """A KMS client, to resolve ``--kms-key-id`` to the key ARN ``SecretRef`` grants on."""
    from . import aws

    return aws.client("kms", region)


def check_name(name: str) -> str:
    """An environment-variable name (``APP_KEY``): the variable the function receives."""
    if not NAME.match(name):
        raise config_error(
            WHERE, "name", name, "must be an environment variable name: [A-Z][A-Z0-9_]*, at "
            "most 128 characters", "use the variable's name, e.g. APP_KEY or DB_PASSWORD",
            kind="shape",
        )
    return name


def check_prefix(prefix: str) -> str:
    """``/`` and path segments (``/myapp/prod``); a trailing ``/`` is dropped."""
    if not PREFIX.match(prefix):
        raise config_error(
            WHERE, "prefix", prefix, "must be '/' followed by path segments of letters, digits, "
            "'_', '.' or '-' (at most 14 levels)", "pass e.g. --prefix /myapp/prod",
            kind="shape",
        )
    if prefix.lower().startswith(RESERVED_PREFIXES):
        raise config_error(
            WHERE, "prefix", prefix, "names starting with /aws or /ssm are reserved by AWS",
            "use the app's own prefix, e.g. /myapp/prod", kind="reserved",
        )
    return prefix.rstrip("/")


def check_kms_key_id(key_id: str | None) -> str | None:
    """A KMS key ID, key ARN, alias name or alias ARN; None for the AWS managed key."""
    if key_id is not None and not KMS_KEY_ID.match(key_id):
        raise config_error(
            WHERE, "kms_key_id", key_id, "must be a KMS key ID, key ARN, alias/NAME or alias ARN",
            "pass e.g. --kms-key-id alias/myapp-secrets", kind="shape",
        )
    return key_id


def check_value(value: str) -> str:
    """A non-empty value within the standard tier's 4 KB; errors show its length, not it."""
    size = len(value.encode())
    if not value:
        raise config_error(WHERE, "value", "<empty>", "must not be empty",
                           "pipe the value to --stdin or type it at the prompt", kind="empty")
    if size > MAX_VALUE_BYTES:
        raise config_error(
            WHERE, "value", f"<hidden, {size} bytes>",
            f"must be at most {MAX_VALUE_BYTES} bytes (a standard tier parameter)",
            "store a smaller value, or a Secrets Manager secret referenced with "
            "SecretRef.secrets_manager()", kind="too_large",
        )
    return value


def value_from_stdin(text: str) -> str:
    """What was piped in, without the one line break ``echo`` or a file adds."""
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def parameter_name(prefix: str, name: str) -> str:
    """``<prefix>/<NAME>``, both checked."""
    return f"{check_prefix(prefix)}/{check_name(name)}"


def set_secret(ssm: Any, prefix: str, name: str, value: str, *, kms: Any = None,
               kms_key_id: str | None = None, overwrite: bool = False) -> StoredSecret:
    """Write ``<prefix>/<NAME>`` as a SecureString; an existing one only with ``overwrite``."""
    from botocore.exceptions import ClientError

    parameter = parameter_name(prefix, name)
    check_value(value)
    key_arn = None
    if check_kms_key_id(kms_key_id) is not None:
        key_arn = kms.describe_key(KeyId=kms_key_id)["KeyMetadata"]["Arn"]
    request: dict[str, Any] = {"Name": parameter, "Value": value, "Type": "SecureString",
                               "Overwrite": overwrite, "Tier": "Standard"}
    if key_arn is not None:
        request["KeyId"] = key_arn
    try:
        version = int(ssm.put_parameter(**request)["Version"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterAlreadyExists":
            raise
        raise config_error(
            WHERE, "name", parameter, "already exists and was left unchanged",
            "pass --overwrite to replace its value (a new version)", kind="exists",
        ) from None
    arn = ssm.get_parameter(Name=parameter, WithDecryption=False)["Parameter"]["ARN"]
    return StoredSecret(name, parameter, arn, version, key_arn)


def list_secrets(ssm: Any, prefix: str) -> list[SecretInfo]:
    """The parameters directly under ``prefix``, by name, with metadata only."""
    path = check_prefix(prefix)
    found = []
    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Path", "Option": "OneLevel", "Values": [path]}])
    for page in pages:
        for p in page["Parameters"]:
            modified = p.get("LastModifiedDate")
            found.append(SecretInfo(
                p["Name"].rsplit("/", 1)[-1], p["Name"], p.get("Type", ""),
                int(p.get("Version", 0)), modified.isoformat() if modified else "",
                p.get("KeyId", ""),
            ))
    return sorted(found, key=lambda s: s.name)


def remove_secret(ssm: Any, prefix: str, name: str) -> str:
    """Delete ``<prefix>/<NAME>``; its name is returned, a missing one is an error."""
    from botocore.exceptions import ClientError

    parameter = parameter_name(prefix, name)
    try:
        ssm.delete_parameter(Name=parameter)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        raise config_error(
            WHERE, "name", parameter, "does not exist",
            "check the name and prefix with `serverless-laravel secret list --prefix ...`",
            kind="not_found",
        ) from None
    return parameter

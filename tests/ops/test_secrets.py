"""``secret set|list|rm`` against SSM (and KMS) in a moto server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.errors import ConfigurationError
from serverless_laravel.ops import secrets

runner = CliRunner()
VALUE = "base64:s3cr3t-Value-nobody-may-see"
PREFIX = "/shop/prod"


@pytest.fixture
def ssm(aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """An SSM client on the moto server, the working directory in the test's tmp dir."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    monkeypatch.chdir(tmp_path)
    return boto3.client("ssm")


def _stored(ssm: Any, name: str) -> dict[str, Any]:
    return ssm.get_parameter(Name=f"{PREFIX}/{name}", WithDecryption=True)["Parameter"]


def _err(result: Any) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(result.stderr.split())


def _nowhere_on_disk(root: Path, value: str) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            assert value.encode() not in path.read_bytes(), path


def test_set_from_stdin_stores_a_securestring_and_prints_its_reference(
        ssm: Any, tmp_path: Path) -> None:
    result = runner.invoke(app, ["secret", "set", "APP_KEY", "--prefix", PREFIX, "--stdin"],
                           input=VALUE + "\n")
    assert result.exit_code == 0, result.output
    stored = _stored(ssm, "APP_KEY")
    assert (stored["Type"], stored["Value"]) == ("SecureString", VALUE)
    arn, line = result.stdout.splitlines()
    assert arn == stored["ARN"] and arn.endswith(":parameter/shop/prod/APP_KEY")
    assert line == f'SecretRef.ssm("{arn}")'
    assert VALUE not in result.output
    _nowhere_on_disk(tmp_path, VALUE)


def test_the_printed_line_is_a_secret_ref_bref_resolves(ssm: Any) -> None:
    from serverless_laravel.constructs.secret_refs import SecretRef

    stored = secrets.set_secret(ssm, PREFIX, "DB_PASSWORD", VALUE)
    assert stored.secret_ref == f"SecretRef.ssm({json.dumps(stored.arn)})"
    assert SecretRef.ssm(stored.arn).env_value == "bref-ssm:/shop/prod/DB_PASSWORD"


def test_set_from_a_hidden_prompt_asked_twice(ssm: Any, tmp_path: Path) -> None:
    result = runner.invoke(app, ["secret", "set", "APP_KEY", "--prefix", PREFIX],
                           input=f"{VALUE}\n{VALUE}\n")
    assert result.exit_code == 0, result.output
    assert _stored(ssm, "APP_KEY")["Value"] == VALUE
    assert VALUE not in result.output
    _nowhere_on_disk(tmp_path, VALUE)


def test_set_with_a_customer_managed_key_names_it_in_the_reference(ssm: Any) -> None:
    key = boto3.client("kms").create_key()["KeyMetadata"]
    result = runner.invoke(app, ["secret", "set", "APP_KEY", "--prefix", PREFIX, "--stdin",
                                 "--kms-key-id", key["KeyId"], "--json"], input=VALUE)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["kms_key_arn"] == key["Arn"]
    assert f'kms_key_arn="{key["Arn"]}"' in body["secret_ref"]
    assert VALUE not in result.output


def test_an_existing_secret_is_replaced_only_with_overwrite(ssm: Any) -> None:
    secrets.set_secret(ssm, PREFIX, "APP_KEY", "first")
    argv = ["secret", "set", "APP_KEY", "--prefix", PREFIX, "--stdin"]
    refused = runner.invoke(app, argv, input=VALUE)
    assert refused.exit_code == 2
    assert "already exists" in _err(refused) and "--overwrite" in _err(refused)
    assert _stored(ssm, "APP_KEY")["Value"] == "first"
    replaced = runner.invoke(app, [*argv, "--overwrite"], input=VALUE)
    assert replaced.exit_code == 0, replaced.output
    assert (_stored(ssm, "APP_KEY")["Value"], _stored(ssm, "APP_KEY")["Version"]) == (VALUE, 2)


def test_list_shows_names_and_versions_never_values(ssm: Any) -> None:
    secrets.set_secret(ssm, PREFIX, "APP_KEY", VALUE)
    secrets.set_secret(ssm, PREFIX, "DB_PASSWORD", VALUE + "2")
    secrets.set_secret(ssm, "/shop/staging", "APP_KEY", VALUE + "3")
    listed = runner.invoke(app, ["secret", "list", "--prefix", PREFIX, "--json"])
    assert listed.exit_code == 0, listed.output
    body = json.loads(listed.stdout)
    assert [(s["name"], s["type"], s["version"]) for s in body] == [
        ("APP_KEY", "SecureString", 1), ("DB_PASSWORD", "SecureString", 1)]
    assert all(s["last_modified"] for s in body)
    table = runner.invoke(app, ["secret", "list", "--prefix", PREFIX])
    assert table.exit_code == 0 and "DB_PASSWORD" in table.stdout
    for result in (listed, table):
        assert VALUE not in result.output


def test_rm_asks_unless_yes(ssm: Any) -> None:
    secrets.set_secret(ssm, PREFIX, "APP_KEY", VALUE)
    declined = runner.invoke(app, ["secret", "rm", "APP_KEY", "--prefix", PREFIX], input="n\n")
    assert declined.exit_code == 2
    assert _stored(ssm, "APP_KEY")
    confirmed = runner.invoke(app, ["secret", "rm", "APP_KEY", "--prefix", PREFIX], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    secrets.set_secret(ssm, PREFIX, "APP_KEY", VALUE)
    forced = runner.invoke(app, ["secret", "rm", "APP_KEY", "--prefix", PREFIX, "--yes"])
    assert forced.exit_code == 0 and "deleted /shop/prod/APP_KEY" in forced.stdout
    assert ssm.describe_parameters()["Parameters"] == []
    missing = runner.invoke(app, ["secret", "rm", "APP_KEY", "--prefix", PREFIX, "--yes"])
    assert missing.exit_code == 2 and "does not exist" in _err(missing)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["set", "app_key", "--prefix", PREFIX, "--stdin"], "serverless_laravel_secret.name.shape"),
        (["set", "APP-KEY", "--prefix", PREFIX, "--stdin"], "serverless_laravel_secret.name.shape"),
        (["set", "APP_KEY", "--prefix", "shop/prod", "--stdin"],
         "serverless_laravel_secret.prefix.shape"),
        (["set", "APP_KEY", "--prefix", "/shop//prod", "--stdin"],
         "serverless_laravel_secret.prefix.shape"),
        (["set", "APP_KEY", "--prefix", "/aws/x", "--stdin"],
         "serverless_laravel_secret.prefix.reserved"),
        (["set", "APP_KEY", "--prefix", PREFIX, "--stdin", "--kms-key-id", "not a key"],
         "serverless_laravel_secret.kms_key_id.shape"),
        (["list", "--prefix", "/shop prod"], "serverless_laravel_secret.prefix.shape"),
        (["rm", "1KEY", "--prefix", PREFIX, "--yes"], "serverless_laravel_secret.name.shape"),
    ],
)
def test_bad_names_and_prefixes_exit_2_and_change_nothing(
        ssm: Any, argv: list[str], code: str) -> None:
    result = runner.invoke(app, ["secret", *argv], input=VALUE)
    assert result.exit_code == 2, result.output
    assert ssm.describe_parameters()["Parameters"] == []
    with pytest.raises(ConfigurationError) as error:
        if argv[0] == "list":
            secrets.list_secrets(ssm, argv[2])
        else:
            secrets.set_secret(ssm, argv[3], argv[1], VALUE,
                               kms_key_id=argv[6] if len(argv) > 6 else None)
    assert error.value.code == code


def test_a_value_option_does_not_exist(ssm: Any) -> None:
    result = runner.invoke(app, ["secret", "set", "APP_KEY", "--prefix", PREFIX,
                                 "--value", VALUE])
    assert result.exit_code == 2
    assert ssm.describe_parameters()["Parameters"] == []


def test_empty_and_oversized_values_are_refused_without_showing_them(ssm: Any) -> None:
    argv = ["secret", "set", "APP_KEY", "--prefix", PREFIX, "--stdin"]
    empty = runner.invoke(app, argv, input="\n")
    assert empty.exit_code == 2 and "must not be empty" in _err(empty)
    big = "x" * 5000
    large = runner.invoke(app, argv, input=big)
    assert large.exit_code == 2 and "5000 bytes" in _err(large)
    assert big not in large.output
    assert ssm.describe_parameters()["Parameters"] == []


def test_an_aws_error_exits_1(ssm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown_key = "alias/no-such-key"
    result = runner.invoke(app, ["secret", "set", "APP_KEY", "--prefix", PREFIX, "--stdin",
                                 "--kms-key-id", unknown_key], input=VALUE)
    assert result.exit_code == 1, result.output
    assert "AWS error" in _err(result) and VALUE not in result.output
    assert ssm.describe_parameters()["Parameters"] == []
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    listed = runner.invoke(app, ["secret", "list", "--prefix", PREFIX])
    assert listed.exit_code == 1 and "AWS error" in _err(listed)

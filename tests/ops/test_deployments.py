"""Deployments and rollback against Lambda in a moto server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.errors import ConfigurationError
from serverless_laravel.ops import deployments

runner = CliRunner()


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.php", text)
    return buffer.getvalue()


@pytest.fixture
def lam(aws: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A function with three published versions and live on the newest, as a deploy leaves it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    role = boto3.client("iam").create_role(
        RoleName="web-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    client = boto3.client("lambda")
    client.create_function(FunctionName="shop-web", Runtime="provided.al2023", Role=role,
                           Handler="public/index.php", Code={"ZipFile": _zip("v1")},
                           Publish=True)
    for text in ("v2", "v3"):
        client.update_function_code(FunctionName="shop-web", ZipFile=_zip(text), Publish=True)
    client.create_alias(FunctionName="shop-web", Name="live", FunctionVersion="3")
    return client


def test_deployments_lists_versions_newest_first_with_live_marked(lam: Any) -> None:
    listed = deployments.list_deployments(lam, "shop-web")
    assert [(d.version, d.live) for d in listed] == [("3", True), ("2", False), ("1", False)]
    assert len({d.code_sha256 for d in listed}) == 3


def test_rollback_moves_live_to_the_previous_version_then_further(lam: Any) -> None:
    first = deployments.rollback(lam, "shop-web")
    assert (first.from_version, first.to_version) == ("3", "2")
    assert lam.get_alias(FunctionName="shop-web", Name="live")["FunctionVersion"] == "2"
    assert deployments.rollback(lam, "shop-web").to_version == "1"
    with pytest.raises(ConfigurationError) as error:
        deployments.rollback(lam, "shop-web")
    assert error.value.code == "serverless_laravel_rollback.function.no_earlier"


def test_rollback_to_a_chosen_version_and_forward_again(lam: Any) -> None:
    assert deployments.rollback(lam, "shop-web", to="1").to_version == "1"
    assert deployments.rollback(lam, "shop-web", to="3").to_version == "3"
    with pytest.raises(ConfigurationError) as error:
        deployments.rollback(lam, "shop-web", to="9")
    assert error.value.code == "serverless_laravel_rollback.to.unknown_version"
    assert lam.get_alias(FunctionName="shop-web", Name="live")["FunctionVersion"] == "3"


def test_cli_rollback_prints_the_move_and_what_it_does_not_undo(lam: Any) -> None:
    result = runner.invoke(app, ["rollback", "--function", "shop-web"])
    assert result.exit_code == 0, result.output
    assert "shop-web: live moved from version 3 to 2" in result.stdout
    assert "database migrations" in result.stderr


def test_cli_json_shapes(lam: Any) -> None:
    listed = runner.invoke(app, ["deployments", "-f", "shop-web", "--json"])
    assert [d["version"] for d in json.loads(listed.stdout)["shop-web"]] == ["3", "2", "1"]
    moved = runner.invoke(app, ["rollback", "-f", "shop-web", "--to", "1", "--json"])
    body = json.loads(moved.stdout)
    assert body["rolled_back"] == [{"function": "shop-web", "from_version": "3",
                                    "to_version": "1"}]
    assert body["not_rolled_back"]


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["rollback", "-f", "shop-web", "--to", "7"], 2),
        (["rollback", "-f", "shop-web", "-f", "other", "--to", "1"], 2),
        (["rollback", "-f", "no-such-function"], 1),
        (["deployments", "-f", "no-such-function"], 1),
    ],
)
def test_cli_refusals_change_nothing(lam: Any, argv: list[str], code: int) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == code
    assert lam.get_alias(FunctionName="shop-web", Name="live")["FunctionVersion"] == "3"


def test_a_rollback_of_several_functions_moves_none_when_one_cannot(lam: Any) -> None:
    lam.create_function(FunctionName="shop-console", Runtime="provided.al2023",
                        Role=lam.get_function(FunctionName="shop-web")["Configuration"]["Role"],
                        Handler="artisan", Code={"ZipFile": _zip("c1")}, Publish=True)
    lam.create_alias(FunctionName="shop-console", Name="live", FunctionVersion="1")
    with pytest.raises(ConfigurationError):
        deployments.rollback_all(lam, ["shop-web", "shop-console"])
    assert lam.get_alias(FunctionName="shop-web", Name="live")["FunctionVersion"] == "3"

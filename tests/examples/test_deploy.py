"""Deploy: ``terraform apply`` of the web_function example against a moto server on 127.0.0.1,
the created resources read back with boto3, then ``terraform destroy``."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import boto3
import pytest

from examples.web_function.stack import WebFunctionStack
from serverless_laravel.build.packaging import package_app
from serverless_laravel.cdk import App
from tests import terraform
from tests.helpers import LARAVEL_APP
from tests.synth import Stack, load_stacks

reason = terraform.unavailable_reason()
pytestmark = [pytest.mark.terraform, pytest.mark.skipif(reason is not None, reason=reason or "")]

REGION = "eu-west-1"
SERVICES = ("iam", "lambda", "logs", "sts", "s3", "ec2", "kms")


def client(service: str, endpoint: str):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def publish_bref_layers(endpoint: str, layers: list[str]) -> None:
    """Moto resolves layers by name and version in its own account: publish up to each version."""
    lam = client("lambda", endpoint)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bin/php", "")
    for arn in layers:
        name, version = arn.split(":")[-2], int(arn.split(":")[-1])
        for _ in range(version):
            lam.publish_layer_version(LayerName=name, Content={"ZipFile": buffer.getvalue()})


@pytest.fixture(scope="module")
def deployed(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    outdir = tmp_path_factory.mktemp("deploy") / "cdktf.out"
    app = App(outdir=str(outdir))
    WebFunctionStack(app, "web-function", region=REGION)
    app.synth()
    stack = load_stacks(outdir)["web-function"]
    function = next(iter(stack.resources("aws_lambda_function").values()))
    publish_bref_layers(moto_endpoint, function["layers"])
    terraform.offline(stack.directory, {
        "access_key": "testing", "secret_key": "testing", "s3_use_path_style": True,
        "endpoints": [{service: moto_endpoint for service in SERVICES}],
    })
    for step in (terraform.init, terraform.apply):
        result = step(stack.directory)
        assert result.returncode == 0, result.output[-4000:]
    yield stack
    result = terraform.destroy(stack.directory)
    assert result.returncode == 0, result.output[-4000:]
    with pytest.raises(client("lambda", moto_endpoint).exceptions.ResourceNotFoundException):
        client("lambda", moto_endpoint).get_function(FunctionName="web-function-web")


def test_function_is_created_as_synthesized(deployed: Stack, moto_endpoint: str) -> None:
    config = client("lambda", moto_endpoint).get_function(
        FunctionName="web-function-web")["Configuration"]
    assert config["Runtime"] == "provided.al2023"
    assert config["Handler"] == "public/index.php"
    assert [layer["Arn"].split(":")[-2:] for layer in config["Layers"]] == [["php-84", "21"]]
    assert config["Environment"]["Variables"] == {
        "APP_ENV": "production", "LOG_CHANNEL": "stderr", "BREF_RUNTIME": "fpm",
        "BREF_PING_DISABLE": "1"}
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["MemorySize"] == 1024
    assert config["Timeout"] == 28
    package = package_app(LARAVEL_APP)
    assert config["CodeSha256"] == package.source_code_hash


def test_log_group_keeps_30_days(deployed: Stack, moto_endpoint: str) -> None:
    groups = client("logs", moto_endpoint).describe_log_groups(
        logGroupNamePrefix="/aws/lambda/web-function-web")["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups] == [
        ("/aws/lambda/web-function-web", 30)]


def test_role_policy_is_least_privilege(deployed: Stack, moto_endpoint: str) -> None:
    iam = client("iam", moto_endpoint)
    role_arn = client("lambda", moto_endpoint).get_function(
        FunctionName="web-function-web")["Configuration"]["Role"]
    role_name = role_arn.rsplit("/", 1)[-1]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert set(by_sid) == {"WriteOwnLogs", "WriteTraces"}
    assert by_sid["WriteOwnLogs"]["Resource"].endswith(
        ":log-group:/aws/lambda/web-function-web:*")

"""``serverless-laravel down`` / ``up`` against the fake Lambda Invoke endpoint on loopback
(tests/ops/test_artisan.py), the stack's outputs through ``terraform output``, and the default
maintenance page against moto's S3."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import Result
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.errors import ConfigurationError
from serverless_laravel.ops import maintenance
from tests.ops.test_artisan import FakeLambda, fake_lambda, fake_lambda_server  # noqa: F401

URL = "https://shop.example.com"
SECRET = "s3cret-Bypass_0123456789"


@pytest.fixture
def lam(fake_lambda: FakeLambda, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLambda]:  # noqa: F811
    """The fake Invoke endpoint as every Lambda client's endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", fake_lambda.url)
    yield fake_lambda


def run(*argv: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(argv), input=input)


def sent(fake: FakeLambda, name: str) -> list[str]:
    """The artisan command lines ``name`` received."""
    return [json.loads(body) for body in fake.bodies(name)]


def test_down_runs_artisan_down_with_a_generated_secret_and_prints_the_bypass_once(
        lam: FakeLambda) -> None:
    result = run("down", "--function", "ok-fn", "--url", URL)
    assert result.exit_code == 0, result.output
    (command,) = sent(lam, "ok-fn")
    secret = re.fullmatch(r"down --secret=([A-Za-z0-9_-]{32}) --retry=60", command)[1]
    assert result.stdout == f"{URL}/{secret}\n"
    assert secret not in result.stderr
    assert [i.query for i in lam.invocations] == ["Qualifier=live"]


def test_down_takes_the_secret_from_stdin_and_passes_the_options(lam: FakeLambda) -> None:
    result = run("down", "--function", "ok-fn", "--secret-from", "stdin", "--retry", "120",
                 "--refresh", "15", "--render", "errors::503", "--json", input=SECRET + "\n")
    assert result.exit_code == 0, result.output
    assert sent(lam, "ok-fn") == [
        f"down --secret={SECRET} --retry=120 --refresh=15 --render=errors::503"]
    assert json.loads(result.stdout) == {"maintenance": True, "function": "ok-fn",
                                         "bypass_url": None, "bypass_path": f"/{SECRET}"}


def test_up_runs_artisan_up(lam: FakeLambda) -> None:
    result = run("up", "--function", "ok-fn", "--json")
    assert result.exit_code == 0, result.output
    assert sent(lam, "ok-fn") == ["up"]
    assert json.loads(result.stdout) == {"maintenance": False, "function": "ok-fn"}


@pytest.mark.parametrize(("command", "function", "code", "message"), [
    ("down", "fail-fn", 1, "exit code 1"),
    ("up", "fail-fn", 1, "exit code 1"),
    ("down", "timeout-fn", 124, "timed out"),
    ("down", "throttled-fn", 1, "TooManyRequestsException"),
    ("up", "nope-fn", 1, "ResourceNotFoundException"),
])
def test_failures_on_lambda_exit_non_zero(lam: FakeLambda, command: str, function: str,
                                          code: int, message: str) -> None:
    result = run(command, "--function", function)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("argv", "input", "message"), [
    (["--secret-from", "stdin"], "short\n", "16..128"),
    (["--secret-from", "stdin"], "has a/slash-0123456789\n", "one URL path segment"),
    (["--secret-from", "email"], None, "secret_from"),
    (["--retry", "-1"], None, "retry"),
    (["--render", "errors 503"], None, "render"),
    ([], None, "--stack"),
])
def test_bad_input_exits_2_and_invokes_nothing(lam: FakeLambda, argv: list[str],
                                               input: str | None, message: str) -> None:
    function = [] if argv == [] else ["--function", "ok-fn"]
    result = run("down", *function, *argv, input=input)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "slash-0123456789" not in result.stderr
    assert lam.invocations == []


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    """An outdir whose stack ``shop`` has a Terraform state with the app's outputs."""
    if shutil.which("terraform") is None:
        pytest.skip("the terraform CLI is not on PATH")
    stack = tmp_path / "stacks" / "shop"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    outputs = {"laravel_console_function": "ok-fn", "laravel_url": URL,
               "laravel_web_function": "shop-web"}
    (stack / "terraform.tfstate").write_text(json.dumps({
        "version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "test",
        "outputs": {k: {"value": v, "type": "string"} for k, v in outputs.items()},
        "resources": []}))
    return tmp_path


@pytest.mark.terraform
def test_down_and_up_read_the_function_and_url_from_the_stack(lam: FakeLambda,
                                                              applied: Path) -> None:
    result = run("down", "--stack", "shop", "--outdir", str(applied), "--json")
    assert result.exit_code == 0, result.output
    link = json.loads(result.stdout)["bypass_url"]
    assert link.startswith(f"{URL}/")
    assert sent(lam, "ok-fn")[0].startswith(f"down --secret={link.rsplit('/', 1)[1]} ")
    result = run("up", "--stack", "shop", "--outdir", str(applied))
    assert result.exit_code == 0, result.output
    assert sent(lam, "ok-fn")[1] == "up"


@pytest.mark.terraform
def test_a_stack_without_state_is_a_failure(lam: FakeLambda, applied: Path) -> None:
    result = run("up", "--stack", "shop", "--outdir", str(applied), "--app", "other")
    assert result.exit_code == 2
    assert "other" in result.stderr
    result = run("up", "--stack", "gone", "--outdir", str(applied))
    assert result.exit_code == 1
    assert "terraform output of stack 'gone'" in result.stderr


def test_secrets_are_checked_and_generated_url_safe() -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", maintenance.generate_secret())
    assert maintenance.bypass_url(URL + "/", SECRET) == f"{URL}/{SECRET}"
    with pytest.raises(ConfigurationError) as error:
        maintenance.check_secret("x" * 200)
    assert error.value.code == "serverless_laravel_down.secret.shape"
    assert "xxxx" not in str(error.value)


def test_the_default_page_is_uploaded_only_when_the_app_has_none(aws: str,
                                                                 tmp_path: Path) -> None:
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="assets")
    public = tmp_path / "public"
    public.mkdir()
    (public / "maintenance.html").write_text("<p>ours</p>")
    assert maintenance.ensure_maintenance_page(s3, "assets", public) is False
    assert "Contents" not in s3.list_objects_v2(Bucket="assets")
    assert maintenance.ensure_maintenance_page(s3, "assets", tmp_path) is True
    page = s3.get_object(Bucket="assets", Key="maintenance.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert b"Down for maintenance" in page["Body"].read()
    assert maintenance.ensure_maintenance_page(s3, "assets", None) is False


def test_a_missing_bucket_is_an_aws_error(aws: str) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        maintenance.ensure_maintenance_page(boto3.client("s3", endpoint_url=aws), "nope")


def test_the_maintenance_page_can_be_turned_off_and_is_checked() -> None:
    from serverless_laravel import Assets, HttpApi, LaravelStack, PhpFunction
    from serverless_laravel.cdk import App, Testing
    from tests.helpers import LARAVEL_APP

    stack = LaravelStack(App(), "front", region="eu-west-1")
    api = HttpApi(stack, "api", function=PhpFunction(stack, "web", app=LARAVEL_APP))
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        Assets(stack, "bad", api=api, maintenance_page="yes")
    assert error.value.prop == "maintenance_page"
    assert len(stack.node.children) == before
    Assets(stack, "cdn", api=api, maintenance_page=False)
    (distribution,) = json.loads(Testing.synth(stack))["resource"][
        "aws_cloudfront_distribution"].values()
    assert "custom_error_response" not in distribution
    assert "/maintenance.html" not in [b["path_pattern"]
                                       for b in distribution["ordered_cache_behavior"]]


def test_laravel_app_passes_the_switch_and_checks_it() -> None:
    from serverless_laravel import LaravelApp, LaravelStack, SecretRef
    from serverless_laravel.cdk import App
    from tests.helpers import LARAVEL_APP

    stack = LaravelStack(App(), "site", region="eu-west-1")
    secrets = {"APP_KEY": SecretRef.ssm("arn:aws:ssm:eu-west-1:123456789012:parameter/k")}
    with pytest.raises(ConfigurationError) as error:
        LaravelApp(stack, "bad", app=LARAVEL_APP, secrets=secrets, maintenance_page=1)
    assert error.value.prop == "maintenance_page"
    assert stack.node.try_find_child("bad") is None
    site = LaravelApp(stack, "site", app=LARAVEL_APP, secrets=secrets, maintenance_page=False)
    assert site.assets._options.maintenance_page is False

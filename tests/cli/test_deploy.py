"""``serverless-laravel deploy``: every step for real where it can run here.

Synth runs the project's app in a subprocess, Terraform applies against a moto server on
127.0.0.1 (from the local provider mirror), the asset sync writes to moto's S3, ``migrate
--force`` reaches the fake Lambda Invoke endpoint of tests/ops/test_artisan.py (moto's invoke
needs Docker), and the smoke request goes to an HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import Result
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.ops import deploy as ops
from serverless_laravel.ops.maintenance import MAINTENANCE_KEY
from serverless_laravel.ops.outputs import functions_for, synthesized_outputs
from tests import terraform
from tests.loopback import serve
from tests.ops.test_artisan import FakeLambda, fake_lambda, fake_lambda_server  # noqa: F401

reason = terraform.unavailable_reason()
needs_terraform = pytest.mark.skipif(reason is not None, reason=reason or "")
REGION = "us-east-1"
DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
             "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
             "AWS_EC2_METADATA_DISABLED": "true"}
BUCKET = "deploy-test-assets"

APP = """
import json
import os
from pathlib import Path

from serverless_laravel import LaravelStack
from serverless_laravel import cdk

moto = os.environ["DEPLOY_TEST_MOTO"]
smoke = os.environ["DEPLOY_TEST_SMOKE"]
app = cdk.App()
stack = LaravelStack(app, "deploy-test", region="us-east-1", allow_local_state=True)
bucket = cdk.aws("s3_bucket").S3Bucket(stack, "assets", bucket="deploy-test-assets",
                                       force_destroy=True)
outputs = {
    "site_url": smoke, "site_assets_bucket": bucket.bucket, "site_console_function": "ok-fn",
    "site_web_function": "site-web",
    "broken_url": smoke + "/broken", "broken_assets_bucket": "no-such-bucket-here",
    "broken_console_function": "fail-fn",
}
for name, value in outputs.items():
    cdk.TerraformOutput(stack, name, value=value)
app.synth()
provider = {"access_key": "testing", "secret_key": "testing", "s3_use_path_style": True,
            "skip_credentials_validation": True, "skip_requesting_account_id": True,
            "skip_metadata_api_check": True, "endpoints": [{"s3": moto, "sts": moto}]}
override = Path(os.environ["CDKTF_OUTDIR"]) / "stacks" / "deploy-test" / "zz_override.tf.json"
override.write_text(json.dumps({"provider": {"aws": provider}}))
"""


@dataclass
class Smoke:
    """The app's stand-in on 127.0.0.1: 200 on /, 500 on /broken; the paths it was asked."""

    url: str
    paths: list[str] = field(default_factory=list)


class _SmokeHandler(BaseHTTPRequestHandler):
    smoke: Smoke

    def do_GET(self) -> None:
        self.smoke.paths.append(self.path)
        status = 500 if self.path.startswith("/broken") else 200
        body = b"<html>ok</html>"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def smoke() -> Iterator[Smoke]:
    found = Smoke(url="")
    with serve(_SmokeHandler, smoke=found) as found.url:
        yield found


@pytest.fixture
def env(aws: str, fake_lambda: FakeLambda, smoke: Smoke,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """S3 on moto, Lambda Invoke on the fake, the smoke server; the moto URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws)
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", fake_lambda.url)
    monkeypatch.setenv("DEPLOY_TEST_MOTO", aws)
    monkeypatch.setenv("DEPLOY_TEST_SMOKE", smoke.url)
    smoke.paths.clear()
    yield aws


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CDK project with one stack: an assets bucket and outputs of two apps."""
    root = tmp_path_factory.mktemp("project")
    (root / "cdktf.json").write_text(json.dumps({"app": "python3 app.py", "context": {}}))
    (root / "app.py").write_text(textwrap.dedent(APP))
    public = root / "public"
    (public / "build" / "assets").mkdir(parents=True)
    (public / "build" / "assets" / "app-4f3a2b1c.js").write_text("console.log(1)")
    (public / "robots.txt").write_text("User-agent: *\n")
    (public / "index.php").write_text("<?php // never uploaded")
    return root


def run(*argv: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, ["deploy", *argv], input=input)


def summary(result: Result) -> dict[str, Any]:
    """The --json summary (after the answer to a prompt, which the runner echoes to stdout)."""
    return json.loads(result.stdout[result.stdout.index("{"):])


def statuses(result: Result) -> list[tuple[str, str]]:
    return [(s["step"], s["status"]) for s in summary(result)["steps"]]


@dataclass
class Deployed:
    """What one whole deploy did, read right after it."""

    result: Result
    keys: set[str]
    bodies: list[str]
    queries: list[str]
    paths: list[str]


@pytest.fixture(scope="module")
def deployed(moto_endpoint: str, fake_lambda_server: FakeLambda,  # noqa: F811
             smoke: Smoke, project: Path) -> Deployed:
    """The whole deploy of the project, once for the module."""
    if reason is not None:
        pytest.skip(reason)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**DUMMY_AWS, "AWS_ENDPOINT_URL_S3": moto_endpoint,
                            "AWS_ENDPOINT_URL_LAMBDA": fake_lambda_server.url,
                            "DEPLOY_TEST_MOTO": moto_endpoint,
                            "DEPLOY_TEST_SMOKE": smoke.url}.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        fake_lambda_server.invocations.clear()
        smoke.paths.clear()
        result = run("--project", str(project), "--stack", "deploy-test", "--app", "site",
                     "--public-dir", str(project / "public"), "--auto-approve",
                     "--plugin-dir", str(terraform.find_mirror()), "--json")
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
        assert result.exit_code == 0, result.output
        listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return Deployed(result, {o["Key"] for o in listed}, fake_lambda_server.bodies("ok-fn"),
                        [i.query for i in fake_lambda_server.invocations], list(smoke.paths))


@pytest.mark.terraform
def test_deploy_runs_every_step_in_order(deployed: Deployed) -> None:
    assert deployed.result.exit_code == 0, deployed.result.output
    assert statuses(deployed.result) == [("synth", "ok"), ("apply", "ok"), ("assets", "ok"),
                                         ("migrate", "ok"), ("smoke", "ok")]
    assert summary(deployed.result)["failed_step"] is None
    assert deployed.keys == {"build/assets/app-4f3a2b1c.js", "robots.txt", MAINTENANCE_KEY}
    assert deployed.bodies == ['"migrate --force"']
    assert deployed.queries == ["Qualifier=live"]
    assert deployed.paths == ["/"]


@pytest.mark.terraform
@pytest.mark.parametrize(("skips", "step", "message"), [
    (("migrate", "smoke"), "assets", "no-such-bucket-here"),
    (("assets", "smoke"), "migrate", "exited 1"),
    (("assets", "migrate"), "smoke", "answered 500"),
])
def test_each_later_step_stops_the_deploy_on_failure(
        deployed: Deployed, env: str, project: Path, skips: tuple[str, ...], step: str,
        message: str) -> None:
    flags = [f"--skip={s}" for s in ("synth", "apply", *skips)]
    result = run("--project", str(project), "--stack", "deploy-test", "--app", "broken",
                 "--public-dir", str(project / "public"), *flags, "--json")
    assert result.exit_code == 1, result.output
    assert summary(result)["failed_step"] == step
    assert message in summary(result)["error"]
    assert statuses(result)[-1] == (step, "failed")
    assert f"deploy stopped at step {step}" in result.stderr


def stack_project(tmp_path: Path, moto: str, resource: dict[str, Any],
                  region: str = REGION) -> Path:
    """An outdir written by hand: one stack holding ``resource``, its provider on moto."""
    stack = tmp_path / "cdktf.out" / "stacks" / "hand"
    stack.mkdir(parents=True)
    (tmp_path / "cdktf.out" / "manifest.json").write_text(json.dumps(
        {"stacks": {"hand": {"dependencies": []}}}))
    (stack / "cdk.tf.json").write_text(json.dumps({
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}},
                      "backend": {"local": {"path": "terraform.tfstate"}}},
        "provider": {"aws": [{**terraform.OFFLINE_PROVIDER, "region": region,
                              "s3_use_path_style": True, "endpoints": [{"s3": moto}]}]},
        "resource": resource,
    }))
    return tmp_path


@pytest.mark.terraform
@needs_terraform
def test_a_declined_plan_applies_nothing_and_exits_3(env: str, tmp_path: Path) -> None:
    root = stack_project(tmp_path, env, {"aws_s3_bucket": {"b": {"bucket": "declined"}}})
    result = run("--project", str(root), "--skip", "synth", "--skip", "assets",
                 "--plugin-dir", str(terraform.find_mirror()), "--json", input="n\n")
    assert result.exit_code == 3, result.output
    assert not (root / "cdktf.out" / "stacks" / "hand" / "tfplan").exists()
    assert "1 to add, 0 to change, 0 to destroy" in result.stderr
    assert "create aws_s3_bucket.b" in result.stderr
    assert summary(result)["failed_step"] == "apply"
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=env)
    assert s3.list_buckets()["Buckets"] == []


@pytest.mark.terraform
@needs_terraform
def test_an_approved_plan_is_applied_and_no_change_asks_nothing(env: str,
                                                                tmp_path: Path) -> None:
    root = stack_project(tmp_path, env, {"aws_s3_bucket": {"b": {"bucket": "approved"}}})
    argv = ("--project", str(root), "--skip", "synth", "--skip", "assets",
            "--plugin-dir", str(terraform.find_mirror()), "--json")
    result = run(*argv, "--skip", "migrate", "--skip", "smoke", input="y\n")
    assert result.exit_code == 0, result.output
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=env)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["approved"]
    assert not (root / "cdktf.out" / "stacks" / "hand" / "tfplan").exists()  # holds secrets
    again = run(*argv, "--skip", "migrate", "--skip", "smoke")
    assert again.exit_code == 0, again.output
    assert "Apply stack" not in again.stderr
    assert summary(again)["steps"][1]["detail"] == "0 to add, 0 to change, 0 to destroy"


@pytest.mark.terraform
@needs_terraform
def test_var_files_reach_the_plan(env: str, tmp_path: Path) -> None:
    root = stack_project(tmp_path, env, {"aws_s3_bucket": {"b": {"bucket": "${var.name}"}}})
    doc_path = root / "cdktf.out" / "stacks" / "hand" / "cdk.tf.json"
    doc = json.loads(doc_path.read_text())
    doc["variable"] = {"name": {"type": "string"}}
    doc_path.write_text(json.dumps(doc))
    (tmp_path / "prod.tfvars").write_text('name = "from-the-var-file"\n')
    result = run("--project", str(root), "--skip", "synth", "--skip", "assets", "--skip",
                 "migrate", "--skip", "smoke", "--auto-approve", "--plugin-dir",
                 str(terraform.find_mirror()), "--var-file", str(tmp_path / "prod.tfvars"),
                 "--json")
    assert result.exit_code == 0, result.output
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=env)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["from-the-var-file"]


@pytest.mark.terraform
@needs_terraform
def test_a_failed_plan_names_the_stack_and_terraform_error(env: str, tmp_path: Path) -> None:
    root = stack_project(tmp_path, env,
                         {"aws_s3_bucket": {"b": {"bucket": "x", "no_such_argument": 1}}})
    result = run("--project", str(root), "--skip", "synth", "--skip", "assets",
                 "--auto-approve", "--plugin-dir", str(terraform.find_mirror()), "--json")
    assert result.exit_code == 1, result.output
    assert summary(result)["failed_step"] == "apply"
    assert "terraform plan of stack 'hand' exited 1" in summary(result)["error"]
    assert "no_such_argument" in summary(result)["error"]


@pytest.mark.terraform
@needs_terraform
def test_a_failed_apply_stops_before_the_later_steps(env: str, tmp_path: Path) -> None:
    boto3.client("s3", region_name="eu-west-1", endpoint_url=env).create_bucket(
        Bucket="taken", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    root = stack_project(tmp_path, env, {"aws_s3_bucket": {"b": {"bucket": "taken"}}},
                         region="eu-west-1")
    result = run("--project", str(root), "--skip", "synth", "--public-dir", str(tmp_path),
                 "--auto-approve", "--plugin-dir", str(terraform.find_mirror()), "--json")
    assert result.exit_code == 1, result.output
    assert "terraform apply of stack 'hand' exited 1" in summary(result)["error"]
    assert "BucketAlreadyOwnedByYou" in summary(result)["error"]
    assert statuses(result) == [("synth", "skipped"), ("apply", "failed")]


@pytest.mark.terraform
@needs_terraform
def test_a_failed_init_names_the_stack(env: str, tmp_path: Path) -> None:
    root = stack_project(tmp_path, env, {"aws_s3_bucket": {"b": {"bucket": "never"}}})
    result = run("--project", str(root), "--skip", "synth", "--skip", "assets",
                 "--plugin-dir", str(tmp_path / "no-mirror"), "--json")
    assert result.exit_code == 1, result.output
    assert "terraform init of stack 'hand' exited 1" in summary(result)["error"]


def test_a_failing_app_stops_at_synth(tmp_path: Path) -> None:
    result = run("--project", str(tmp_path), "--skip", "assets", "--json", "--synth-command",
                 f"{sys.executable} -c \"import sys; print('boom'); sys.exit(3)\"")
    assert result.exit_code == 1
    assert summary(result)["failed_step"] == "synth"
    assert "exited 3" in summary(result)["error"] and "boom" in summary(result)["error"]


def test_an_app_that_writes_no_manifest_is_a_synth_failure(tmp_path: Path) -> None:
    result = run("--project", str(tmp_path), "--skip", "assets", "--json",
                 "--synth-command", f"{sys.executable} -c pass")
    assert result.exit_code == 1
    assert "CDKTF_OUTDIR" in summary(result)["error"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--skip", "assets", "--skip", "tests"], "skip"),
    ([], "public_dir"),
    (["--public-dir", "/nonexistent/public"], "public_dir"),
    (["--skip", "assets", "--smoke-path", "health"], "smoke_path"),
    (["--skip", "assets", "--endpoint", "localhost:5000"], "endpoint"),
    (["--skip", "assets", "--var-file", "/nonexistent/prod.tfvars"], "var_file"),
    (["--skip", "assets"], "cdktf.json"),
])
def test_bad_input_exits_2_before_any_step(tmp_path: Path, argv: list[str],
                                           message: str) -> None:
    result = run("--project", str(tmp_path), *argv)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_several_stacks_need_a_choice(tmp_path: Path) -> None:
    (tmp_path / "cdktf.out").mkdir()
    (tmp_path / "cdktf.out" / "manifest.json").write_text(json.dumps(
        {"stacks": {"a": {}, "b": {"dependencies": ["a"]}}}))
    for argv in ([], ["--stack", "c"]):
        result = run("--project", str(tmp_path), "--skip", "synth", "--skip", "assets",
                     *argv, "--json")
        assert result.exit_code == 2
        assert "--stack" in summary(result)["error"]


def test_stacks_come_after_their_dependencies(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"stacks": {
        "app": {"dependencies": ["network", "data"]}, "data": {"dependencies": ["network"]},
        "network": {}}}))
    assert ops.read_manifest(tmp_path) == ["network", "data", "app"]
    assert ops.select_stacks(["network", "data", "app"], ["app", "network"]) == [
        "network", "app"]


def test_terraform_errors_are_read_from_its_json_diagnostics() -> None:
    output = "\n".join([
        json.dumps({"type": "version"}),
        json.dumps({"type": "diagnostic", "@level": "error", "diagnostic": {
            "summary": "creating S3 Bucket", "detail": "BucketAlreadyExists"}}),
        "not json",
    ])
    message = ops.terraform_error("shop", "apply", ops.Completed(1, output))
    assert message == ("terraform apply of stack 'shop' exited 1:\n"
                       "creating S3 Bucket: BucketAlreadyExists")


def test_synth_passes_outdir_and_context_and_uses_this_python(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDKTF_CONTEXT_JSON", json.dumps({"from-env": "yes", "team": "ops"}))
    (tmp_path / "cdktf.json").write_text(json.dumps(
        {"app": "python3 main.py", "context": {"team": "shop"}}))
    settings = ops.DeploySettings(project=tmp_path, endpoint="http://127.0.0.1:5000",
                                  ephemeral=True)
    assert ops.synth_argv(settings) == [sys.executable, "main.py"]
    env = ops.synth_env(settings)
    assert env["CDKTF_OUTDIR"] == str((tmp_path / "cdktf.out").resolve())
    assert json.loads(env["CDKTF_CONTEXT_JSON"]) == {
        "team": "ops", "from-env": "yes", "serverless-laravel:endpoint": "http://127.0.0.1:5000",
        "serverless-laravel:ephemeral": "true"}


def test_function_names_come_from_the_synthesized_json() -> None:
    stack = {
        "resource": {"aws_lambda_function": {
            "web_1": {"function_name": "shop-laravel-web"},
            "console_2": {"function_name": "shop-laravel-console"},
            "worker_3": {"function_name": "shop-jobs-worker"}}},
        "output": {
            "laravel_web_function": {"value": "${aws_lambda_function.web_1.function_name}"},
            "laravel_console_function": {
                "value": "${aws_lambda_function.console_2.function_name}"},
            "worker_function": {"value": "${aws_lambda_function.worker_3.function_name}"},
            "laravel_url": {"value": "https://${aws_cloudfront_distribution.d.domain_name}"},
        },
    }
    outputs = synthesized_outputs(stack)
    assert "laravel_url" not in outputs
    assert functions_for("t", outputs, "web") == ["shop-laravel-web"]
    assert functions_for("t", outputs, "all") == [
        "shop-laravel-console", "shop-laravel-web", "shop-jobs-worker"]

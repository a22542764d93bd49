"""Preview environments and the emulator switch on LaravelStack: ``ephemeral`` drops what stops a
``destroy``, ``endpoint`` points the provider at an emulator; neither changes a normal stack."""

from __future__ import annotations

import json
import warnings

import pytest

from serverless_laravel import (
    Database,
    LaravelStack,
    LocalStateWarning,
    PrivateBucket,
    PublicLoadBalancer,
    RedisCache,
    S3State,
    TestRunner,
    VpcConfig,
    cdk,
)
from serverless_laravel.cdk import App, Construct
from serverless_laravel.constructs.stack import (
    CONTEXT_ENDPOINT,
    CONTEXT_EPHEMERAL,
    ENDPOINT_SERVICES,
    is_ephemeral,
)
from serverless_laravel.errors import ConfigurationError
from tests.helpers import GROUPS, SUBNETS, VPC_ID
from tests.synth import Stack, synthesize

CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8899-aabbccddeeff"
PUBLIC = ("subnet-0b1c2d3e4f5a60718", "subnet-0e1d2c3b4a5f69788")
ENDPOINT = "http://127.0.0.1:4566"


def resources(stack: LaravelStack, pinned: bool = False) -> None:
    """A database, a bucket, a cache and a load balancer; ``pinned``: explicit production props."""
    flags = {"deletion_protection": True, "final_snapshot": True} if pinned else {}
    Database(stack, "database", vpc_id=VPC_ID, subnet_ids=SUBNETS, **flags)
    Database(stack, "reports", vpc_id=VPC_ID, subnet_ids=SUBNETS, **flags)
    PrivateBucket(stack, "storage", bucket_prefix="storage-",
                  **({"force_destroy": False} if pinned else {}))
    RedisCache(stack, "cache", vpc_id=VPC_ID, subnet_ids=SUBNETS)
    PublicLoadBalancer(stack, "alb", vpc_id=VPC_ID, subnet_ids=PUBLIC,
                       certificate_arn=CERTIFICATE,
                       **({"deletion_protection": True, "force_destroy": False} if pinned else {}))
    if not pinned:
        TestRunner(stack, "runner", vpc_id=VPC_ID, vpc=VpcConfig(SUBNETS, GROUPS),
                   image_tag="1.0.0")


def build(app: App) -> None:
    resources(LaravelStack(app, "production", region="eu-west-1", allow_local_state=True))
    resources(LaravelStack(app, "preview", region="eu-west-1", ephemeral=True,
                           allow_local_state=True))
    resources(LaravelStack(app, "pinned", region="eu-west-1", ephemeral=True,
                           allow_local_state=True), pinned=True)
    LaravelStack(app, "emulated", region="eu-west-1", endpoint=ENDPOINT + "/",
                 state=S3State(bucket="acme-state"))


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "preview", build)


def destroy_guards(stack: Stack) -> dict[str, object]:
    """Every setting that decides whether one ``terraform destroy`` goes through."""
    instances = stack.resources("aws_db_instance").values()
    return {
        "deletion_protection": {i["deletion_protection"] for i in instances},
        "skip_final_snapshot": {i["skip_final_snapshot"] for i in instances},
        "load_balancer": stack.by_path("aws_lb", "alb/load-balancer")
        ["enable_deletion_protection"],
        "force_destroy": {b["force_destroy"] for b in stack.resources("aws_s3_bucket").values()},
        "recovery_window": {s["recovery_window_in_days"]
                            for s in stack.resources("aws_secretsmanager_secret").values()},
    }


def test_production_defaults_are_unchanged(stacks: dict[str, Stack]) -> None:
    assert destroy_guards(stacks["production"]) == {
        "deletion_protection": {True}, "skip_final_snapshot": {False}, "load_balancer": True,
        "force_destroy": {False}, "recovery_window": {7},
    }


def test_an_ephemeral_stack_tears_down_in_one_destroy(stacks: dict[str, Stack]) -> None:
    assert destroy_guards(stacks["preview"]) == {
        "deletion_protection": {False}, "skip_final_snapshot": {True}, "load_balancer": False,
        "force_destroy": {True}, "recovery_window": {0},
    }


def test_an_ephemeral_image_repository_goes_with_its_images(stacks: dict[str, Stack]) -> None:
    preview = stacks["preview"].by_path("aws_ecr_repository", "runner/repository")
    assert preview["force_delete"] is True
    production = stacks["production"].by_path("aws_ecr_repository", "runner/repository")
    assert "force_delete" not in production


def test_explicit_props_win_over_the_stack(stacks: dict[str, Stack]) -> None:
    guards = destroy_guards(stacks["pinned"])
    assert guards["deletion_protection"] == {True}
    assert guards["skip_final_snapshot"] == {False}
    assert guards["load_balancer"] is True
    assert stacks["pinned"].by_path("aws_s3_bucket", "storage/bucket")["force_destroy"] is False
    assert stacks["pinned"].by_path("aws_s3_bucket", "alb/access-logs/bucket")[
        "force_destroy"] is False


def test_final_snapshots_are_unique_per_instance_and_stable(stacks: dict[str, Stack]) -> None:
    stack = stacks["production"]
    names = {}
    for path in ("database", "reports"):
        instance = stack.by_path("aws_db_instance", f"{path}/instance")
        group = stack.address_of("aws_db_subnet_group", f"{path}/subnet-group")
        prefix = stack.by_path("aws_db_subnet_group", f"{path}/subnet-group")["name_prefix"]
        names[path] = instance["final_snapshot_identifier"]
        assert names[path] == (f"{instance['identifier']}-final-"
                               f"${{trimprefix({group}.name, \"{prefix}\")}}")
    assert len(set(names.values())) == 2
    again = LaravelStack(App(), "production", region="eu-west-1", allow_local_state=True)
    resources(again)
    doc = json.loads(cdk.Testing.synth(again))
    assert {i["final_snapshot_identifier"] for i in doc["resource"]["aws_db_instance"].values()} \
        == set(names.values())


def test_the_endpoint_takes_every_service_and_a_local_state(stacks: dict[str, Stack]) -> None:
    doc = stacks["emulated"].doc
    provider = doc["provider"]["aws"][0]
    assert provider["endpoints"] == [{s: ENDPOINT for s in ENDPOINT_SERVICES}]
    assert {k: provider[k] for k in ("access_key", "secret_key", "skip_credentials_validation",
                                     "skip_requesting_account_id", "skip_metadata_api_check",
                                     "s3_use_path_style")} == {
        "access_key": "test", "secret_key": "test", "skip_credentials_validation": True,
        "skip_requesting_account_id": True, "skip_metadata_api_check": "true",
        "s3_use_path_style": True}
    assert doc["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}


def test_without_an_endpoint_the_provider_is_what_it_was(stacks: dict[str, Stack]) -> None:
    provider = stacks["production"].doc["provider"]["aws"]
    reference = cdk.TerraformStack(App(), "production")
    cdk.aws("provider").AwsProvider(reference, "aws", region="eu-west-1", default_tags=[{"tags": {
        "ManagedBy": "serverless-laravel", "Stack": "production"}}])
    assert provider == json.loads(cdk.Testing.synth(reference))["provider"]["aws"]
    backend = stacks["production"].doc["terraform"]["backend"]  # the engine's own default
    assert backend["local"]["path"].endswith("/terraform.production.tfstate")


def test_switches_off_synthesize_byte_for_byte_what_no_switch_does() -> None:
    default = LaravelStack(App(), "same", region="eu-west-1", allow_local_state=True)
    resources(default)
    off = LaravelStack(App(context={CONTEXT_EPHEMERAL: "false"}), "same", region="eu-west-1",
                       allow_local_state=True, ephemeral=False, endpoint=None)
    resources(off)
    assert cdk.Testing.synth(default) == cdk.Testing.synth(off)


def test_context_turns_both_on_for_every_stack() -> None:
    app = App(context={CONTEXT_EPHEMERAL: "true", CONTEXT_ENDPOINT: ENDPOINT})
    stack = LaravelStack(app, "ci", region="eu-west-1")
    assert (stack.ephemeral, stack.endpoint) == (True, ENDPOINT)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalStateWarning)
        cdk.synth(app)
    plain = LaravelStack(App(context={CONTEXT_EPHEMERAL: "false"}), "x", region="eu-west-1")
    assert (plain.ephemeral, plain.endpoint) == (False, None)


def test_of_finds_the_enclosing_stack() -> None:
    app = App()
    stack = LaravelStack(app, "outer", region="eu-west-1", ephemeral=True)
    inner = Construct(Construct(stack, "a"), "b")
    assert LaravelStack.of(inner) is stack and is_ephemeral(inner)
    plain = cdk.TerraformStack(app, "plain")
    assert LaravelStack.of(Construct(plain, "c")) is None and not is_ephemeral(plain)


@pytest.mark.parametrize(
    ("props", "context", "code"),
    [
        ({"ephemeral": "yes"}, {}, "laravel_stack.ephemeral.type"),
        ({"endpoint": "127.0.0.1:4566"}, {}, "laravel_stack.endpoint.shape"),
        ({"endpoint": "ftp://emulator"}, {}, "laravel_stack.endpoint.shape"),
        ({}, {CONTEXT_EPHEMERAL: "yes"},
         "laravel_stack.context_serverless_laravel_ephemeral.shape"),
        ({}, {CONTEXT_ENDPOINT: "localhost"},
         "laravel_stack.context_serverless_laravel_endpoint.shape"),
    ],
)
def test_bad_switches_are_refused_before_the_stack_exists(props: dict, context: dict,
                                                          code: str) -> None:
    app = App(context=context)
    with pytest.raises(ConfigurationError) as error:
        LaravelStack(app, "x", region="eu-west-1", **props)
    assert error.value.code == code
    assert app.node.children == []


@pytest.mark.parametrize("prop", ["deletion_protection", "final_snapshot"])
def test_database_guards_must_be_bools(prop: str) -> None:
    stack = LaravelStack(App(), "x", region="eu-west-1", allow_local_state=True)
    with pytest.raises(ConfigurationError) as error:
        Database(stack, "db", vpc_id=VPC_ID, subnet_ids=SUBNETS, **{prop: "false"})
    assert error.value.code == f"database.{prop}.type"
    assert len(stack.node.children) == 1  # the provider only


def test_bucket_force_destroy_must_be_a_bool() -> None:
    stack = LaravelStack(App(), "x", region="eu-west-1", allow_local_state=True)
    with pytest.raises(ConfigurationError) as error:
        PrivateBucket(stack, "b", bucket_prefix="b-", force_destroy="true")  # type: ignore[arg-type]
    assert error.value.code == "private_bucket.force_destroy.type"

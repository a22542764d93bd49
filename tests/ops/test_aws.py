"""Every command's boto3 clients find their region the same way: the flag, then AWS_REGION
(which boto3 alone ignores), then boto3's own lookup (AWS_DEFAULT_REGION, the profile)."""

from __future__ import annotations

import os

import pytest

from serverless_laravel.ops import artisan, assets_sync, deployments, logs, secrets


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return monkeypatch


MAKERS = [
    lambda region: deployments.lambda_client(region),
    lambda region: secrets.ssm_client(region),
    lambda region: secrets.kms_client(region),
    lambda region: artisan.lambda_client(region=region),
    lambda region: logs.logs_client(region),
]


@pytest.mark.parametrize("make", MAKERS)
def test_aws_region_alone_is_enough(env: pytest.MonkeyPatch, make) -> None:
    env.setenv("AWS_REGION", "eu-west-1")
    assert make(None).meta.region_name == "eu-west-1"


@pytest.mark.parametrize("make", MAKERS)
def test_the_flag_wins_and_aws_default_region_still_works(env: pytest.MonkeyPatch, make) -> None:
    env.setenv("AWS_REGION", "eu-west-1")
    assert make("ap-southeast-2").meta.region_name == "ap-southeast-2"
    env.delenv("AWS_REGION")
    env.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert make(None).meta.region_name == "us-west-2"


def test_assets_sync_client_uses_aws_region(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_REGION", "eu-central-1")
    assert assets_sync.make_client().meta.region_name == "eu-central-1"

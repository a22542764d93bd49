"""The origin-verification authorizer, run for real against SSM in a moto server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from serverless_laravel.runtime import origin_verify

PARAMETER = "/serverless-laravel/shop/origin-verify"


@pytest.fixture
def secret(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A SecureString in moto, the authorizer's environment, and a cold authorizer."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    monkeypatch.setenv("ORIGIN_VERIFY_PARAMETER", PARAMETER)
    monkeypatch.setenv("ORIGIN_VERIFY_HEADER", "x-origin-verify")
    monkeypatch.setattr(origin_verify, "_cache", {"secret": None, "read_at": 0.0})
    value = "f" * 64
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value=value, Type="SecureString")
    yield value


def request(headers: dict[str, str] | None) -> dict:
    return {"version": "2.0", "type": "REQUEST", "headers": headers}


@pytest.mark.parametrize("name", ["x-origin-verify", "X-Origin-Verify"])
def test_the_right_secret_passes(secret: str, name: str) -> None:
    assert origin_verify.handler(request({name: secret})) == {"isAuthorized": True}


@pytest.mark.parametrize(
    "headers",
    [None, {}, {"x-origin-verify": ""}, {"x-origin-verify": "f" * 63},
     {"x-origin-verify": "g" * 64}, {"x-other": "f" * 64}],
    ids=["no-headers", "empty", "blank", "short", "wrong", "other-header"],
)
def test_anything_else_is_refused(secret: str, headers: dict[str, str] | None) -> None:
    assert origin_verify.handler(request(headers)) == {"isAuthorized": False}


def test_the_secret_is_read_once_then_cached(secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = []
    real = origin_verify._read_secret
    monkeypatch.setattr(origin_verify, "_read_secret", lambda: reads.append(1) or real())
    for _ in range(3):
        assert origin_verify.handler(request({"x-origin-verify": secret}))["isAuthorized"]
    assert len(reads) == 1


def test_a_rotated_secret_is_honoured_after_the_refresh_interval(
    secret: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORIGIN_VERIFY_REFRESH_SECONDS", "0")
    assert origin_verify.handler(request({"x-origin-verify": secret}))["isAuthorized"]
    rotated = "e" * 64
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value=rotated, Type="SecureString",
                                      Overwrite=True)
    assert origin_verify.handler(request({"x-origin-verify": rotated}))["isAuthorized"]
    assert not origin_verify.handler(request({"x-origin-verify": secret}))["isAuthorized"]


def test_mismatches_do_not_hammer_ssm_within_the_interval(
    secret: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORIGIN_VERIFY_REFRESH_SECONDS", "3600")
    assert origin_verify.handler(request({"x-origin-verify": secret}))["isAuthorized"]
    reads = []
    monkeypatch.setattr(origin_verify, "_read_secret", lambda: reads.append(1) or b"")
    for _ in range(5):
        assert not origin_verify.handler(request({"x-origin-verify": "x" * 64}))["isAuthorized"]
    assert reads == []


def test_an_old_secret_stops_matching_once_the_cache_is_too_old(
    secret: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORIGIN_VERIFY_MAX_AGE_SECONDS", "0")
    assert origin_verify.handler(request({"x-origin-verify": secret}))["isAuthorized"]
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value="d" * 64, Type="SecureString",
                                      Overwrite=True)
    assert not origin_verify.handler(request({"x-origin-verify": secret}))["isAuthorized"]

"""API Gateway REQUEST authorizer: a request passes only when it carries the origin secret.

CloudFront adds the header (``X-Origin-Verify``) with a value Terraform generated and keeps in
an SSM SecureString; a request sent straight to the execute-api endpoint lacks it and is
refused before any PHP runs (401 without the header, 403 with a wrong value). Runs on
Lambda's Python runtime: standard library and boto3 only. Configuration, from the environment:

* ``ORIGIN_VERIFY_PARAMETER``: the SSM parameter name holding the secret.
* ``ORIGIN_VERIFY_HEADER``: the header name (default ``x-origin-verify``).
* ``ORIGIN_VERIFY_REFRESH_SECONDS``: after a mismatch, the secret is read again at most this
  often (default 60), so a rotated secret is honoured without waiting for a cold start.
* ``ORIGIN_VERIFY_MAX_AGE_SECONDS``: the cached secret is read again once it is this old
  (default 300), so an old value stops matching after a rotation on warm containers too.
"""

from __future__ import annotations

import hmac
import os
import time
from typing import Any

_cache: dict[str, Any] = {"secret": None, "read_at": 0.0}


def _read_secret() -> bytes:
    """The current secret, read from SSM (decrypted) and remembered with the time of the read."""
    import boto3

    name = os.environ["ORIGIN_VERIFY_PARAMETER"]
    value = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    _cache.update(secret=value.encode(), read_at=time.monotonic())
    return _cache["secret"]


def _matches(given: str) -> bool:
    """Constant-time comparison with the cached secret, re-read once after a stale mismatch."""
    max_age = float(os.environ.get("ORIGIN_VERIFY_MAX_AGE_SECONDS", "300"))
    stale = time.monotonic() - _cache["read_at"] >= max_age
    secret = _read_secret() if stale or not _cache["secret"] else _cache["secret"]
    if hmac.compare_digest(given.encode(), secret):
        return True
    refresh = float(os.environ.get("ORIGIN_VERIFY_REFRESH_SECONDS", "60"))
    if time.monotonic() - _cache["read_at"] < refresh:
        return False
    return hmac.compare_digest(given.encode(), _read_secret())


def handler(event: dict[str, Any], context: Any = None) -> dict[str, bool]:
    """HTTP API simple response: ``{"isAuthorized": true}`` only for the right header value."""
    header = os.environ.get("ORIGIN_VERIFY_HEADER", "x-origin-verify").lower()
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    given = headers.get(header)
    return {"isAuthorized": isinstance(given, str) and bool(given) and _matches(given)}

"""One place that makes boto3 clients, so every command finds its region the same way.

boto3 reads only ``AWS_DEFAULT_REGION``; the AWS CLI, the other SDKs and Lambda itself set
``AWS_REGION``, so a team's shell or CI often has only that one. An explicit region wins, then
``AWS_REGION``, then whatever boto3 finds (``AWS_DEFAULT_REGION``, the profile).
"""

from __future__ import annotations

import os
from typing import Any


def region_or_default(region: str | None) -> str | None:
    """``region``, else ``$AWS_REGION``, else None (boto3's own lookup then applies)."""
    return region or os.environ.get("AWS_REGION") or None


def client(service: str, region: str | None = None, **options: Any) -> Any:
    """A boto3 client for ``service`` in ``region`` (see :func:`region_or_default`)."""
    import boto3

    return boto3.client(service, region_name=region_or_default(region), **options)

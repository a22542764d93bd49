"""S3 bucket naming rules, in one place for the constructs and the CLI (no CDK import)."""

from __future__ import annotations

import re

from .errors import ConfigurationError

BUCKET_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,36}$")
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_prefix(where: str, bucket_prefix: object) -> str:
    """A ``bucket_prefix`` S3 accepts: S3 appends 26 characters, names stop at 63."""
    if not isinstance(bucket_prefix, str) or not BUCKET_PREFIX.match(bucket_prefix) \
            or bucket_prefix.startswith(RESERVED_BUCKET_PREFIXES):
        raise ConfigurationError(
            where, "bucket_prefix", bucket_prefix,
            "must be 1..37 lowercase letters, digits or hyphens, starting with a letter or "
            f"digit and not with {list(RESERVED_BUCKET_PREFIXES)} (S3 appends 26 characters)",
            "use a short lowercase prefix such as 'myapp-assets-'",
        )
    return bucket_prefix

"""``serverless-laravel down`` / ``up``: Laravel's maintenance mode without a redeploy.

``LaravelApp`` sets ``APP_MAINTENANCE_DRIVER=cache`` on every function, so ``php artisan down``
stores the maintenance state in the app's shared cache store (Laravel 11+ reads the variable in
``config/app.php``; ``APP_MAINTENANCE_STORE`` is left to the app's default cache store), not in
one execution environment's ``/tmp``. Running ``down`` once on the console function therefore
reaches every web environment at its next request. ``down`` passes a bypass secret: a visit to
``<app url>/<secret>`` sets Laravel's bypass cookie for that browser.

CloudFront answers a 503 from the app with ``/maintenance.html`` from the assets bucket (a short
error-caching TTL); :func:`ensure_maintenance_page` uploads a default page when the app's
``public/`` has none.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..checks import check_int
from ..errors import config_error

WHERE = "serverless-laravel down"
LIVE = "live"
MAINTENANCE_KEY = "maintenance.html"
SECRET_BYTES = 24
SECRET = re.compile(r"[A-Za-z0-9_-]{16,128}")
VIEW = re.compile(r"[A-Za-z0-9_.:/-]{1,200}")
MAX_RETRY = 86_400
DEFAULT_RETRY = 60
DEFAULT_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Down for maintenance</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;min-height:100vh;display:grid;
place-items:center;background:#f7f7f8;color:#222}
main{max-width:32rem;padding:2rem;text-align:center}
h1{font-size:1.5rem;margin:0 0 .5rem}
</style>
</head>
<body>
<main>
<h1>Down for maintenance</h1>
<p>We are making some improvements and will be back shortly. Please try again in a few
minutes.</p>
</main>
</body>
</html>
"""


def generate_secret() -> str:
    """A URL-safe bypass secret with 192 random bits."""
    return secrets.token_urlsafe(SECRET_BYTES)


def check_secret(secret: str) -> str:
    """A secret Laravel can match as one URL path segment, long enough not to be guessed."""
    secret = secret.strip()
    if not SECRET.fullmatch(secret):
        raise config_error(
            WHERE, "secret", f"<{len(secret)} characters>",
            "must be 16..128 letters, digits, '-' or '_' (one URL path segment)",
            "omit --secret-stdin to get a generated one, or pipe e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`", kind="shape")
    return secret


def down_args(secret: str, *, retry: int = DEFAULT_RETRY, render: str | None = None,
              refresh: int | None = None) -> list[str]:
    """The artisan arguments of ``down``, every input checked."""
    check_secret(secret)
    check_int(WHERE, "retry", retry, 0, MAX_RETRY, "pass e.g. --retry 60", unit="seconds")
    args = ["down", f"--secret={secret}", f"--retry={retry}"]
    if refresh is not None:
        check_int(WHERE, "refresh", refresh, 1, MAX_RETRY, "pass e.g. --refresh 30",
                  unit="seconds")
        args.append(f"--refresh={refresh}")
    if render is not None:
        if not VIEW.fullmatch(render):
            raise config_error(WHERE, "render", render, "must be a view name such as errors::503",
                               "pass --render errors::503", kind="shape")
        args.append(f"--render={render}")
    return args


def bypass_url(url: str, secret: str) -> str:
    """The address that sets the bypass cookie: the app's URL with the secret as its path."""
    return f"{url.rstrip('/')}/{secret}"


def run_artisan(function: str, args: Sequence[str], client: Any, timeout: int) -> Any:
    """``php artisan <args>`` on the console function's ``live`` alias (an ArtisanResult)."""
    from .artisan import invoke_artisan

    return invoke_artisan(function, list(args), client=client, timeout=timeout, qualifier=LIVE)


def ensure_maintenance_page(s3: Any, bucket: str, public_dir: Path | None = None) -> bool:
    """Upload the default ``maintenance.html`` unless the app or the bucket has one; True if so."""
    if public_dir is not None and (Path(public_dir) / MAINTENANCE_KEY).is_file():
        return False
    try:
        s3.head_object(Bucket=bucket, Key=MAINTENANCE_KEY)
        return False
    except Exception as error:  # botocore's ClientError, imported lazily
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        if code not in {"404", "NoSuchKey", "NotFound"}:
            raise
    s3.put_object(Bucket=bucket, Key=MAINTENANCE_KEY, Body=DEFAULT_PAGE.encode(),
                  ContentType="text/html; charset=utf-8", CacheControl="public, max-age=60")
    return True

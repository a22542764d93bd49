"""``assets sync`` against a real (moto) S3 endpoint: what is uploaded, with which headers, when."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from serverless_laravel.cli import app
from serverless_laravel.errors import ConfigurationError
from serverless_laravel.ops import assets_sync
from serverless_laravel.ops.assets_sync import (
    DEFAULT_CACHE_CONTROL,
    IMMUTABLE_CACHE_CONTROL,
    content_type_for,
    is_excluded,
    is_hashed_name,
    is_skipped,
    sync_assets,
)
from tests.helpers import RecordingProgress

BUCKET = "laravel-assets-test"
SHORT = DEFAULT_CACHE_CONTROL
LONG = IMMUTABLE_CACHE_CONTROL
UTF8 = "; charset=utf-8"

# Relative path -> (content, Content-Type, Cache-Control) of every file that must be uploaded.
PUBLISHED: dict[str, tuple[bytes, str, str]] = {
    "favicon.ico": (b"\x00\x00\x01\x00icon", "image/vnd.microsoft.icon", SHORT),
    "robots.txt": (b"User-agent: *\nDisallow:\n", "text/plain" + UTF8, SHORT),
    "build/manifest.json": (b'{"resources/js/app.js": {}}', "application/json" + UTF8, SHORT),
    "build/assets/app-3f9a1c2b.js": (b"console.log(1);", "text/javascript" + UTF8, LONG),
    "build/assets/app-Bx9_kQ2a.css": (b"body{margin:0}", "text/css" + UTF8, LONG),
    "js/vendor.4e8b0c1d.js": (b"export const v = 1;", "text/javascript" + UTF8, LONG),
    "images/logo.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml", SHORT),
    "fonts/x.woff2": (b"wOF2fontdata", "font/woff2", SHORT),
    "images/hero image é.png": (b"\x89PNG\r\n", "image/png", SHORT),
    "data/blob.qqzz": (b"\x01\x02\x03", "application/octet-stream", SHORT),
}
NEVER_PUBLISHED: dict[str, bytes] = {
    "index.php": b"<?php require __DIR__.'/../bootstrap/app.php';",
    ".htaccess": b"RewriteEngine On",
    "build/.DS_Store": b"\x00",
}


@pytest.fixture
def s3(aws: str) -> Any:
    """A client on the moto endpoint with an empty assets bucket."""
    client = boto3.client("s3", endpoint_url=aws)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def public(tmp_path: Path) -> Path:
    """A Laravel-like ``public/`` tree with build output, static files, PHP and dotfiles."""
    root = tmp_path / "public"
    for rel, content in {**NEVER_PUBLISHED, **{k: v[0] for k, v in PUBLISHED.items()}}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return root


def keys_in(s3: Any, prefix: str = "") -> set[str]:
    """Every key in the test bucket under ``prefix``."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {obj["Key"] for page in pages for obj in page.get("Contents", [])}


def sync(public: Path, s3: Any, **kwargs: Any) -> assets_sync.SyncReport:
    """``sync_assets`` into the test bucket with the test client and no progress bar."""
    return sync_assets(public, BUCKET, client=s3, **kwargs)


def test_first_sync_uploads_every_publishable_file_with_its_headers(public: Path, s3: Any) -> None:
    report = sync(public, s3)

    assert set(report.uploaded) == set(PUBLISHED)
    assert keys_in(s3) == set(PUBLISHED)
    assert {"index.php", ".htaccess", "build/.DS_Store"} <= set(report.skipped)
    assert report.uploaded_bytes == sum(len(v[0]) for v in PUBLISHED.values())
    for key, (content, content_type, cache_control) in PUBLISHED.items():
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache_control), key
        assert head["Metadata"]["sha256"] == hashlib.sha256(content).hexdigest()


def test_progress_reports_the_bytes_uploaded(public: Path, s3: Any) -> None:
    progress = RecordingProgress()
    report = sync_assets(public, BUCKET, client=s3, progress=progress, workers=2)

    total = report.uploaded_bytes
    assert total > 0 and progress.phases == [("Uploading", total, total)]


def test_second_sync_uploads_nothing(public: Path, s3: Any) -> None:
    sync(public, s3)

    report = sync(public, s3)

    assert report.uploaded == ()
    assert set(report.unchanged) == set(PUBLISHED)


@pytest.mark.parametrize(
    "content", [b"User-agent: *\nDisallow: /\n", b"User-agent: X\nDisallow:\n"]
)
def test_a_changed_file_is_uploaded_alone(public: Path, s3: Any, content: bytes) -> None:
    sync(public, s3)
    (public / "robots.txt").write_bytes(content)

    report = sync(public, s3)

    assert report.uploaded == ("robots.txt",)
    assert [u.reason for u in report.uploads] == ["changed"]
    assert s3.get_object(Bucket=BUCKET, Key="robots.txt")["Body"].read() == content


def test_object_whose_etag_is_not_the_md5_is_compared_by_stored_sha256(
    public: Path, s3: Any
) -> None:
    content = PUBLISHED["robots.txt"][0]
    multipart_put(s3, "robots.txt", content, {"sha256": hashlib.sha256(content).hexdigest()})
    multipart_put(s3, "favicon.ico", PUBLISHED["favicon.ico"][0], {})

    report = sync(public, s3)

    assert "robots.txt" in report.unchanged
    assert "favicon.ico" in report.uploaded


def multipart_put(s3: Any, key: str, content: bytes, metadata: dict[str, str]) -> None:
    """Store an object the way other tools do, with a multipart ETag (``md5-of-md5s-1``)."""
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, Metadata=metadata)
    part = s3.upload_part(
        Bucket=BUCKET, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=content
    )
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )


def test_check_headers_reuploads_objects_whose_cache_rule_changed(public: Path, s3: Any) -> None:
    sync(public, s3)
    new_rule = "public, max-age=60"

    unchecked = sync(public, s3, default_cache_control=new_rule)
    checked = sync(public, s3, default_cache_control=new_rule, check_headers=True)

    assert unchecked.uploaded == ()
    assert set(checked.uploaded) == {k for k, v in PUBLISHED.items() if v[2] == SHORT}
    assert {u.reason for u in checked.uploads} == {"headers"}
    assert s3.head_object(Bucket=BUCKET, Key="robots.txt")["CacheControl"] == new_rule


def test_dry_run_reports_and_changes_nothing(public: Path, s3: Any) -> None:
    sync(public, s3)
    s3.put_object(Bucket=BUCKET, Key="old.txt", Body=b"gone")
    (public / "robots.txt").write_text("changed", encoding="utf-8")

    report = sync(public, s3, dry_run=True, delete=True)

    assert report.dry_run
    assert (report.uploaded, report.deleted) == (("robots.txt",), ("old.txt",))
    assert "old.txt" in keys_in(s3)
    assert s3.get_object(Bucket=BUCKET, Key="robots.txt")["Body"].read() != b"changed"


def test_removed_file_is_deleted_only_when_asked(public: Path, s3: Any) -> None:
    sync(public, s3)
    (public / "images/logo.svg").unlink()

    kept = sync(public, s3)
    removed = sync(public, s3, delete=True)

    assert kept.deleted == ()
    assert removed.deleted == ("images/logo.svg",)
    assert keys_in(s3) == set(PUBLISHED) - {"images/logo.svg"}


def test_excludes_leave_files_out_and_protect_their_objects(public: Path, s3: Any) -> None:
    sync(public, s3)

    report = sync(public, s3, exclude=["fonts/*", "*.svg"], delete=True)

    assert {"fonts/x.woff2", "images/logo.svg"} <= set(report.skipped)
    assert report.deleted == ()
    assert keys_in(s3) == set(PUBLISHED)


def test_exclude_on_first_sync_keeps_files_out_of_the_bucket(public: Path, s3: Any) -> None:
    sync(public, s3, exclude=["data/*", "favicon.ico"])

    assert keys_in(s3) == set(PUBLISHED) - {"data/blob.qqzz", "favicon.ico"}


def test_prefix_scopes_keys_and_deletes(public: Path, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="other/keep.txt", Body=b"x")

    report = sync(public, s3, prefix="assets", delete=True)

    assert keys_in(s3, "assets/") == {f"assets/{rel}" for rel in PUBLISHED}
    assert "other/keep.txt" in keys_in(s3)
    assert report.deleted == ()


def test_symlinked_directories_are_not_followed(public: Path, s3: Any, tmp_path: Path) -> None:
    storage = tmp_path / "storage-app-public"
    storage.mkdir()
    (storage / "upload.jpg").write_bytes(b"user upload")
    (public / "storage").symlink_to(storage, target_is_directory=True)

    report = sync(public, s3, dry_run=True)

    assert not any(key.startswith("storage/") for key in report.uploaded)


def test_file_over_the_single_put_limit_is_refused(
    public: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assets_sync, "MAX_OBJECT_BYTES", 20)

    with pytest.raises(ConfigurationError, match="limit of one S3 PUT"):
        sync(public, s3)
    assert keys_in(s3) == set()


@pytest.mark.parametrize(
    ("kwargs", "prop", "rule"),
    [
        ({"public_dir": "missing"}, "public_dir", "does not exist"),
        ({"public_dir": "public/robots.txt"}, "public_dir", "is not a directory"),
        ({"bucket": ""}, "bucket", "empty"),
        ({"bucket": "Bad_Bucket"}, "bucket", "3-63 characters"),
        ({"bucket": "ab"}, "bucket", "3-63 characters"),
        ({"bucket": "a..b"}, "bucket", "3-63 characters"),
        ({"bucket": "192.168.1.10"}, "bucket", "IP addresses"),
        ({"bucket": "xn--bucket"}, "bucket", "reserved"),
        ({"bucket": "my-bucket-s3alias"}, "bucket", "reserved"),
        ({"prefix": "/assets"}, "prefix", "do not start with '/'"),
        ({"workers": 0}, "workers", "from 1 to 64"),
        ({"workers": 65}, "workers", "from 1 to 64"),
    ],
)
def test_configuration_errors_name_prop_value_rule_and_fix(
    tmp_path: Path, public: Path, kwargs: dict[str, Any], prop: str, rule: str
) -> None:
    args: dict[str, Any] = {"public_dir": "public", "bucket": BUCKET, **kwargs}
    public_dir = tmp_path / args.pop("public_dir")
    bucket = args.pop("bucket")

    with pytest.raises(ConfigurationError) as caught:
        sync_assets(public_dir, bucket, **args)

    error = caught.value
    assert (error.where, error.prop) == ("sync_assets", prop)
    assert rule in error.rule
    message = str(error)
    assert f"{prop}=" in message and repr(error.value) in message and error.fix in message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.JS", "text/javascript" + UTF8),
        ("mod.mjs", "text/javascript" + UTF8),
        ("app.js.map", "application/json" + UTF8),
        ("site.webmanifest", "application/manifest+json" + UTF8),
        ("sitemap.xml", "application/xml" + UTF8),
        ("index.html", "text/html" + UTF8),
        ("a.woff", "font/woff"),
        ("a.webp", "image/webp"),
        ("a.avif", "image/avif"),
        ("a.wasm", "application/wasm"),
        ("app.js.br", "application/octet-stream"),
        ("LICENSE", "application/octet-stream"),
        (".well-known/apple-app-site-association", "application/json" + UTF8),
    ],
)
def test_content_type_for(name: str, expected: str) -> None:
    assert content_type_for(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "app-3f9a1c2b.js",
        "app.3f9a1c2b.css",
        "app-3f9a1c2b.js.map",
        "chunk.0123456789abcdef0123.js",
        "app-Bx9_kQ2a.js",
        "my-app-Bx-9_kQa.js",
    ],
)
def test_hashed_names(name: str) -> None:
    assert is_hashed_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "app.js",
        "favicon-32x32.png",
        "report-20240101.pdf",
        "coffee-cafebabe.png",
        "Inter-Variable.woff2",
        "font-awesome4.css",
        "3f9a1c2b.js",
        "app-3f9a1c2b",
    ],
)
def test_unhashed_names(name: str) -> None:
    assert not is_hashed_name(name)


@given(st.text(alphabet="0123456789abcdef", min_size=8, max_size=32))
@settings(max_examples=50)
def test_hex_hash_with_digit_and_letter_is_hashed(token: str) -> None:
    mixed = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
    assert is_hashed_name(f"app-{token}.js") == mixed


@pytest.mark.parametrize(
    ("rel", "skipped"),
    [
        ("index.php", True),
        ("legacy/page.PHTML", True),
        (".htaccess", True),
        (".git/config", True),
        ("build/.vite/manifest.json", True),
        (".well-known/security.txt", False),
        ("mix-manifest.json", False),
        ("build/assets/app-3f9a1c2b.js", False),
    ],
)
def test_is_skipped(rel: str, skipped: bool) -> None:
    assert is_skipped(rel) is skipped


def test_is_excluded_matches_path_or_name() -> None:
    assert is_excluded("build/assets/app.js.map", ["*.map"])
    assert is_excluded("images/a/b.png", ["images/*"])
    assert is_excluded("images/a/b.png", ["b.png"])
    assert not is_excluded("images/a/b.png", ["a/*"])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NoSuchBucket", "does not exist"),
        ("AccessDenied", "s3:PutObject"),
        ("SlowDown", "SlowDown"),
    ],
)
def test_describe_aws_error(code: str, expected: str) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "m"}}, "PutObject")

    message = assets_sync.describe_aws_error(error, BUCKET)

    assert expected in message and BUCKET in message


def invoke(*args: str, **env: str) -> Any:
    """Run the CLI in-process with a wide terminal, so messages are not wrapped."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400", **env})


def test_cli_sync_prints_summary_and_exits_0(public: Path, s3: Any, aws: str) -> None:
    result = invoke("assets", "sync", str(public), "--bucket", BUCKET, "--endpoint-url", aws)

    assert result.exit_code == 0, result.output
    assert "uploaded" in result.output and "unchanged" in result.output
    assert keys_in(s3) == set(PUBLISHED)


def test_cli_dry_run_lists_changes(public: Path, s3: Any, aws: str) -> None:
    args = ("assets", "sync", str(public), "-b", BUCKET, "--dry-run", "-x", "fonts/*")

    result = invoke(*args, AWS_ENDPOINT_URL_S3=aws)

    assert result.exit_code == 0, result.output
    assert "would upload build/assets/app-3f9a1c2b.js (new" in result.output
    assert "fonts/x.woff2" not in result.output
    assert "dry run" in result.output
    assert keys_in(s3) == set()


def test_cli_missing_bucket_exits_1(public: Path, aws: str) -> None:
    result = invoke(
        "assets", "sync", str(public), "--bucket", "no-such-bucket", "--endpoint-url", aws
    )

    assert result.exit_code == 1
    assert "'no-such-bucket' does not exist" in result.output


@pytest.mark.parametrize(
    "extra",
    [
        ("--bucket", "Bad_Name"),
        ("--bucket", BUCKET, "--workers", "0"),
        ("--bucket", BUCKET, "--prefix", "/x"),
    ],
)
def test_cli_bad_input_exits_2(public: Path, extra: tuple[str, ...]) -> None:
    result = invoke("assets", "sync", str(public), *extra)

    assert result.exit_code == 2
    assert "error:" in result.output and "Fix:" in result.output


def test_cli_missing_public_dir_exits_2(tmp_path: Path) -> None:
    result = invoke("assets", "sync", str(tmp_path / "nope"), "--bucket", BUCKET)

    assert result.exit_code == 2
    assert "public_dir" in result.output and "does not exist" in result.output

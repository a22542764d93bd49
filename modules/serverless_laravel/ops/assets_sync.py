"""Upload a Laravel app's ``public/`` directory to the assets bucket, sending only what changed.

Rules, in one place so the docs and the code agree:

* Skipped: PHP files (``*.php``, ``*.phtml``, ``*.phar``: ``index.php`` must never be public as
  source), dotfiles and dot-directories (``.htaccess``, ``.DS_Store``) except ``.well-known/``,
  symlinked directories (``public/storage`` from ``storage:link``), and ``--exclude`` globs.
* Cache-Control: ``immutable_cache_control`` for files under ``build/assets/`` (Vite's output) or
  whose name carries a content hash (see :func:`is_hashed_name`); ``default_cache_control`` for
  everything else (``favicon.ico``, ``robots.txt``, ``build/manifest.json``).
* Change detection: an object is unchanged when its size matches and its ETag equals the local
  MD5 (every upload here is a single-part PUT, whose ETag is the MD5). When the size matches but
  the ETag is not the MD5 (SSE-KMS, multipart uploads by other tools), the object's
  ``x-amz-meta-sha256`` (written on every upload) is compared through one HEAD request.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import mimetypes
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeVar

from ..build.progress import ProgressReporter, Silent
from ..checks import RESERVED_BUCKET_PREFIXES, RESERVED_BUCKET_SUFFIXES, check_int
from ..errors import config_error

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
DEFAULT_CACHE_CONTROL = "public, max-age=300"
DEFAULT_WORKERS = 8
MAX_WORKERS = 64
IMMUTABLE_DIRS: tuple[str, ...] = ("build/assets/",)
SKIPPED_SUFFIXES = frozenset({".php", ".phtml", ".phar"})
ALLOWED_DOT_DIRS = frozenset({".well-known"})
SHA256_METADATA = "sha256"
MAX_OBJECT_BYTES = 5 * 1024**3
DELETE_BATCH = 1000
CHUNK = 1024 * 1024
WHERE = "sync_assets"

# Explicit so the result does not depend on the host's /etc/mime.types. ``.ico`` uses the
# IANA-registered ``image/vnd.microsoft.icon``, which every current browser accepts.
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".gz": "application/gzip",
    ".zip": "application/zip",
}
CONTENT_TYPES_BY_NAME: dict[str, str] = {"apple-app-site-association": "application/json"}
FALLBACK_CONTENT_TYPE = "application/octet-stream"
CHARSET_TYPES = frozenset({"application/json", "application/manifest+json", "application/xml"})

_HASH_CANDIDATE = re.compile(r"[-.](?=([A-Za-z0-9_-]+)\.)")
_HEX_HASH = re.compile(r"[0-9a-f]{8,}")
_B64_HASH = re.compile(r"[A-Za-z0-9_-]{8}")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})

T = TypeVar("T")
R = TypeVar("R")
Reason = Literal["new", "changed", "headers"]


def content_type_for(name: str) -> str:
    """The Content-Type of a file name; text, JSON and XML types carry ``charset=utf-8``."""
    base = PurePosixPath(name).name
    suffix = PurePosixPath(base).suffix.lower()
    ctype = CONTENT_TYPES_BY_NAME.get(base) or CONTENT_TYPES.get(suffix) or _guess_type(base)
    if ctype.startswith("text/") or ctype in CHARSET_TYPES:
        return f"{ctype}; charset=utf-8"
    return ctype


def _guess_type(name: str) -> str:
    """The host's ``mimetypes`` guess, ignoring names it reads as compressed (``x.js.br``)."""
    ctype, encoding = mimetypes.guess_type(name, strict=False)
    return ctype if ctype and encoding is None else FALLBACK_CONTENT_TYPE


def is_hashed_name(name: str) -> bool:
    """Whether a file name carries a content hash, so its content can never change.

    The hash is a segment after ``-`` or ``.`` and followed by an extension: 8+ lowercase hex
    characters with a digit and a letter (``app.3f9a1c2b.css``), or Vite/Rollup's 8-character
    base64url with a digit, an upper- and a lower-case letter (``app-Bx9_kQ2a.js``). A name that
    fits neither gets the short cache: a wrong "immutable" would pin stale content for a year.
    """
    for match in _HASH_CANDIDATE.finditer(PurePosixPath(name).name):
        token = match.group(1)
        if _HEX_HASH.fullmatch(token) and _has_all(token, (str.isdigit, str.isalpha)):
            return True
        if _B64_HASH.fullmatch(token) and _has_all(token, (str.isdigit, str.isupper, str.islower)):
            return True
    return False


def _has_all(token: str, tests: Sequence[Callable[[str], bool]]) -> bool:
    """Whether each character class test matches at least one character of the token."""
    return all(any(test(char) for char in token) for test in tests)


def cache_control_for(
    rel: str,
    immutable: str = IMMUTABLE_CACHE_CONTROL,
    default: str = DEFAULT_CACHE_CONTROL,
) -> str:
    """The Cache-Control of a path relative to ``public/``: immutable for hashed build output."""
    if rel.startswith(IMMUTABLE_DIRS) or is_hashed_name(rel):
        return immutable
    return default


def is_skipped(rel: str) -> bool:
    """Whether a path relative to ``public/`` is never uploaded: PHP sources and dotfiles."""
    path = PurePosixPath(rel)
    if path.suffix.lower() in SKIPPED_SUFFIXES or path.name.startswith("."):
        return True
    return any(p.startswith(".") and p not in ALLOWED_DOT_DIRS for p in path.parent.parts)


def is_excluded(rel: str, patterns: Sequence[str]) -> bool:
    """Whether a relative path or its file name matches an ``fnmatch`` glob (``*`` crosses /)."""
    name = PurePosixPath(rel).name
    return any(fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True)
class LocalFile:
    """A file to publish: where it is, its key, size and digests."""

    path: Path
    rel: str
    size: int
    md5: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class RemoteObject:
    """What ListObjectsV2 tells about an object: its size and unquoted ETag."""

    size: int
    etag: str


@dataclass(frozen=True)
class Upload:
    """One planned or done upload, with the headers it is sent with and why."""

    key: str
    rel: str
    size: int
    content_type: str
    cache_control: str
    reason: Reason


@dataclass(frozen=True)
class SyncReport:
    """The outcome of a sync (or, with ``dry_run``, what a sync would do)."""

    uploads: tuple[Upload, ...] = ()
    unchanged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    unchanged_bytes: int = 0
    deleted_bytes: int = 0
    dry_run: bool = False

    @property
    def uploaded(self) -> tuple[str, ...]:
        """Keys uploaded (or that would be)."""
        return tuple(u.key for u in self.uploads)

    @property
    def uploaded_bytes(self) -> int:
        """Bytes uploaded (or that would be)."""
        return sum(u.size for u in self.uploads)


@dataclass(frozen=True)
class _Settings:
    """The per-call options the planning and upload steps share."""

    bucket: str
    prefix: str
    immutable: str
    default: str
    check_headers: bool
    exclude: tuple[str, ...] = ()


def validate_bucket_name(bucket: str) -> None:
    """Raise ConfigurationError unless ``bucket`` follows the S3 general-purpose naming rules."""
    fix = "pass the assets bucket's name, e.g. the `assets_bucket` output of the stack"
    if not bucket:
        raise config_error(WHERE, "bucket", bucket, "the bucket name is empty", fix, kind="empty")
    valid = (
        _BUCKET_NAME.fullmatch(bucket)
        and ".." not in bucket
        and not _IPV4.fullmatch(bucket)
        and not bucket.startswith(RESERVED_BUCKET_PREFIXES)
        and not bucket.endswith(RESERVED_BUCKET_SUFFIXES)
    )
    if not valid:
        rule = (
            "S3 bucket names are 3-63 characters of lowercase letters, digits, '.' and '-', "
            "start and end with a letter or digit, and are not IP addresses or reserved names"
        )
        raise config_error(WHERE, "bucket", bucket, rule, fix, kind="shape")


def validate(public_dir: Path, bucket: str, prefix: str, workers: int) -> None:
    """Raise ConfigurationError for arguments that would fail or surprise before any request."""
    if not public_dir.is_dir():
        state = "does not exist" if not public_dir.exists() else "is not a directory"
        raise config_error(
            WHERE, "public_dir", str(public_dir), f"the path {state}", "pass the app's public/",
            kind="missing",
        )
    validate_bucket_name(bucket)
    if prefix.startswith("/"):
        raise config_error(
            WHERE, "prefix",
            prefix,
            "S3 keys do not start with '/'; a leading slash makes an empty first path segment",
            f"use {prefix.lstrip('/')!r}",
        )
    check_int(WHERE, "workers", workers, 1, MAX_WORKERS, "use e.g. 8")


def _normalize_prefix(prefix: str) -> str:
    """The prefix as a key prefix: empty, or ending in exactly one ``/``."""
    return prefix.rstrip("/") + "/" if prefix.strip("/") else ""


def make_client(endpoint_url: str | None = None, workers: int = DEFAULT_WORKERS) -> Any:
    """An S3 client; without ``endpoint_url`` boto3 reads ``AWS_ENDPOINT_URL(_S3)`` itself."""
    from botocore.config import Config

    from . import aws

    config = Config(max_pool_connections=max(10, workers), retries={"mode": "standard"})
    return aws.client("s3", endpoint_url=endpoint_url or None, config=config)


def _walk(public_dir: Path) -> Iterator[tuple[Path, str]]:
    """Every regular file below ``public_dir`` with its POSIX relative path; symlinked dirs not."""
    for root, dirs, files in os.walk(public_dir, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_file():
                yield path, path.relative_to(public_dir).as_posix()


def _collect(public_dir: Path, exclude: Sequence[str]) -> tuple[list[LocalFile], list[str]]:
    """The files to publish and the relative paths skipped by the rules or the excludes."""
    files: list[LocalFile] = []
    skipped: list[str] = []
    for path, rel in _walk(public_dir):
        if is_skipped(rel) or is_excluded(rel, exclude):
            skipped.append(rel)
            continue
        size = path.stat().st_size
        if size > MAX_OBJECT_BYTES:
            raise config_error(
                WHERE, "public_dir",
                rel,
                f"the file is over {MAX_OBJECT_BYTES} bytes, the limit of one S3 PUT",
                "serve large media from a separate bucket, or --exclude it", kind="size",
            )
        files.append(LocalFile(path, rel, size))
    return files, skipped


def _digest(file: LocalFile) -> LocalFile:
    """The file with its MD5 (to compare with ETags) and SHA-256 (stored in metadata)."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha256()
    with file.path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            md5.update(chunk)
            sha.update(chunk)
    return LocalFile(file.path, file.rel, file.size, md5.hexdigest(), sha.hexdigest())


def _list_remote(client: Any, bucket: str, prefix: str) -> dict[str, RemoteObject]:
    """Every object under the prefix, paginated, keyed by full key."""
    remote: dict[str, RemoteObject] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            remote[obj["Key"]] = RemoteObject(obj["Size"], obj.get("ETag", "").strip('"'))
    return remote


def _parallel(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    on_done: Callable[[T], None] | None = None,
) -> list[R]:
    """``fn`` over ``items`` on a thread pool, in input order; one failure cancels the rest."""
    if not items:
        return []
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)))
    try:
        futures = {pool.submit(fn, item): item for item in items}
        for future in as_completed(futures):
            future.result()
            if on_done:
                on_done(futures[future])
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _error_code(exc: Exception) -> str:
    """The S3 error code of a botocore ClientError (``""`` for anything else)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _verdict(
    client: Any, settings: _Settings, file: LocalFile, remote: RemoteObject | None
) -> Reason | None:
    """Why ``file`` must be uploaded, or None when the object already holds it."""
    if remote is None:
        return "new"
    if remote.size != file.size:
        return "changed"
    same_content = remote.etag == file.md5
    if same_content and not settings.check_headers:
        return None
    return _head_verdict(client, settings, file, same_content)


def _head_verdict(
    client: Any, settings: _Settings, file: LocalFile, same_content: bool
) -> Reason | None:
    """The verdict from HEAD: content by ``x-amz-meta-sha256``, then the headers if asked."""
    from botocore.exceptions import ClientError

    try:
        head = client.head_object(Bucket=settings.bucket, Key=settings.prefix + file.rel)
    except ClientError as exc:
        if _error_code(exc) in _MISSING_CODES:
            return "new"
        raise
    if not same_content and head.get("Metadata", {}).get(SHA256_METADATA) != file.sha256:
        return "changed"
    wanted = _headers(settings, file.rel)
    if settings.check_headers and (head.get("ContentType"), head.get("CacheControl")) != wanted:
        return "headers"
    return None


def _headers(settings: _Settings, rel: str) -> tuple[str, str]:
    """Content-Type and Cache-Control of a relative path under the call's settings."""
    return content_type_for(rel), cache_control_for(rel, settings.immutable, settings.default)


def _put(client: Any, settings: _Settings, file: LocalFile) -> None:
    """Upload one file in a single PUT, its MD5 checked by S3 and its SHA-256 kept in metadata."""
    content_type, cache_control = _headers(settings, file.rel)
    with file.path.open("rb") as body:
        client.put_object(
            Bucket=settings.bucket,
            Key=settings.prefix + file.rel,
            Body=body,
            ContentType=content_type,
            CacheControl=cache_control,
            ContentMD5=base64.b64encode(bytes.fromhex(file.md5)).decode("ascii"),
            Metadata={SHA256_METADATA: file.sha256},
        )


def _delete(client: Any, bucket: str, keys: Sequence[str]) -> None:
    """Delete keys in batches of 1000; raise if S3 reports any key it could not delete."""
    from botocore.exceptions import ClientError

    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
        response = client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if errors := response.get("Errors"):
            first = errors[0]
            message = f"{first.get('Key')}: {first.get('Message', '')}"
            error = {"Code": first.get("Code", ""), "Message": message}
            raise ClientError({"Error": error}, "DeleteObjects")


def _stale_keys(
    remote: dict[str, RemoteObject], files: Sequence[LocalFile], settings: _Settings
) -> list[str]:
    """Keys under the prefix with no local file to publish, except those the excludes protect."""
    wanted = {settings.prefix + f.rel for f in files}
    stale = []
    for key in sorted(remote.keys() - wanted):
        if not is_excluded(key[len(settings.prefix) :], settings.exclude):
            stale.append(key)
    return stale


def sync_assets(
    public_dir: Path,
    bucket: str,
    *,
    prefix: str = "",
    client: Any = None,
    dry_run: bool = False,
    delete: bool = False,
    exclude: Sequence[str] = (),
    workers: int = DEFAULT_WORKERS,
    progress: ProgressReporter | None = None,
    check_headers: bool = False,
    immutable_cache_control: str = IMMUTABLE_CACHE_CONTROL,
    default_cache_control: str = DEFAULT_CACHE_CONTROL,
) -> SyncReport:
    """Upload the new and changed files of ``public_dir`` to ``bucket`` under ``prefix``.

    ``delete`` removes objects under the prefix with no local file (not those matching
    ``exclude``); ``check_headers`` also re-uploads objects whose Content-Type or Cache-Control
    differ from the rules (one HEAD per object). Botocore errors propagate unchanged.
    """
    public_dir = Path(public_dir)
    validate(public_dir, bucket, prefix, workers)
    settings = _Settings(
        bucket,
        _normalize_prefix(prefix),
        immutable_cache_control,
        default_cache_control,
        check_headers,
        tuple(exclude),
    )
    client = client if client is not None else make_client(workers=workers)
    files, skipped = _collect(public_dir, settings.exclude)
    files = _parallel(_digest, files, workers)
    remote = _list_remote(client, bucket, settings.prefix)
    verdicts = _parallel(
        lambda f: _verdict(client, settings, f, remote.get(settings.prefix + f.rel)),
        files,
        workers,
    )
    to_upload = [(f, v) for f, v in zip(files, verdicts, strict=True) if v is not None]
    unchanged = [f for f, v in zip(files, verdicts, strict=True) if v is None]
    stale = _stale_keys(remote, files, settings) if delete else []
    if not dry_run:
        _apply(client, settings, [f for f, _ in to_upload], stale, workers, progress)
    return SyncReport(
        uploads=tuple(_upload_record(settings, f, reason) for f, reason in to_upload),
        unchanged=tuple(settings.prefix + f.rel for f in unchanged),
        deleted=tuple(stale),
        skipped=tuple(skipped),
        unchanged_bytes=sum(f.size for f in unchanged),
        deleted_bytes=sum(remote[key].size for key in stale),
        dry_run=dry_run,
    )


def _apply(
    client: Any,
    settings: _Settings,
    files: Sequence[LocalFile],
    stale: Sequence[str],
    workers: int,
    progress: ProgressReporter | None,
) -> None:
    """Upload in parallel, reporting bytes to ``progress``, then delete the stale keys."""
    bar = progress if progress is not None else Silent()
    bar.phase("Uploading", sum(f.size for f in files))
    _parallel(
        lambda f: _put(client, settings, f),
        files,
        workers,
        on_done=lambda f: bar.advance(f.size),
    )
    if stale:
        _delete(client, settings.bucket, stale)


def _upload_record(settings: _Settings, file: LocalFile, reason: Reason) -> Upload:
    """The report entry of one upload."""
    content_type, cache_control = _headers(settings, file.rel)
    key = settings.prefix + file.rel
    return Upload(key, file.rel, file.size, content_type, cache_control, reason)


def describe_aws_error(exc: Exception, bucket: str) -> str:
    """A one-line explanation of a botocore error, naming the bucket and what to check."""
    code = _error_code(exc)
    if code == "NoSuchBucket":
        return f"bucket {bucket!r} does not exist (check the name, account, region and endpoint)"
    if code in {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
        return (
            f"access denied to bucket {bucket!r} ({code}): check the credentials and the "
            "s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject permissions"
        )
    return f"S3 request failed for bucket {bucket!r}: {exc}"

"""``package_app`` on real trees: reproducible bytes, excludes, modes, reuse, errors, the CLI."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import shutil
import stat
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from serverless_laravel.build import packaging, stat_cache
from serverless_laravel.build.packaging import (
    DEFAULT_EXCLUDES,
    MAX_FILES,
    MB,
    Package,
    _atomic_write,
    _check_size,
    _deflate,
    _File,
    _hash_file,
    package_app,
)
from serverless_laravel.build.stat_cache import StatIndex, index_path
from serverless_laravel.cli import app as cli_app
from serverless_laravel.errors import ConfigurationError
from tests.helpers import RecordingProgress

LARAVEL = {
    "artisan": b"#!/usr/bin/env php\n<?php require __DIR__.'/vendor/autoload.php';\n",
    "composer.json": b'{"name": "laravel/laravel"}\n',
    "app/Http/Controllers/HomeController.php": b"<?php\nclass HomeController {}\n" * 40,
    "config/app.php": b"<?php\nreturn ['name' => env('APP_NAME')];\n",
    "public/index.php": b"<?php\nrequire __DIR__.'/../vendor/autoload.php';\n",
    "public/images/logo.png": random.Random(7).randbytes(40_000),
    "routes/web.php": b"<?php\nRoute::get('/', fn () => 'ok');\n",
    "vendor/autoload.php": b"<?php\n",
    "vendor/bin/phpunit": b"#!/usr/bin/env php\n",
    "vendor/acme/pkg/src/Thing.php": b"<?php\nnamespace Acme;\nclass Thing {}\n",
}
EXECUTABLE = {"artisan", "vendor/bin/phpunit"}


def write_tree(
    root: Path,
    files: Mapping[str, bytes],
    executable: set[str] = EXECUTABLE,
    order: list[str] | None = None,
) -> Path:
    """Write ``files`` under ``root`` in ``order`` (default sorted); ``executable`` ones 0755."""
    for rel in order or sorted(files):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])
        if rel in executable:
            path.chmod(0o755)
    return root


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the block under ``mask``."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def entries(package: Package) -> dict[str, zipfile.ZipInfo]:
    """The zip's entries by name."""
    with zipfile.ZipFile(package.path) as zf:
        return {info.filename: info for info in zf.infolist()}


def contents(package: Package) -> dict[str, bytes]:
    """The zip's contents by name."""
    with zipfile.ZipFile(package.path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture
def laravel(tmp_path: Path) -> Path:
    """A small Laravel-shaped app."""
    return write_tree(tmp_path / "app", LARAVEL)


def test_same_tree_gives_identical_bytes_across_mtimes_order_and_umask(tmp_path: Path) -> None:
    with umask(0o022):
        first = write_tree(tmp_path / "one", LARAVEL)
    with umask(0o077):
        second = write_tree(tmp_path / "two", LARAVEL, order=sorted(LARAVEL, reverse=True))
    for index, path in enumerate(sorted(second.rglob("*"), reverse=True)):
        os.utime(path, (1_000_000 + index, 2_000_000_000 - index * 7))
    a = package_app(first, cache_dir=tmp_path / "cache-a")
    b = package_app(second, cache_dir=tmp_path / "cache-b")
    assert a.path.read_bytes() == b.path.read_bytes()
    assert (a.sha256, a.reused, b.reused) == (b.sha256, False, False)


@pytest.mark.parametrize(
    "change",
    [
        lambda app: (app / "routes/web.php").write_bytes(b"<?php\n// changed\n"),
        lambda app: (app / "config/app.php").rename(app / "config/application.php"),
        lambda app: (app / "config/app.php").chmod(0o744),
        lambda app: (app / "artisan").chmod(0o644),
        lambda app: (app / "public/new.txt").write_bytes(b""),
    ],
    ids=["content", "rename", "exec-bit-added", "exec-bit-removed", "new-empty-file"],
)
def test_any_change_changes_the_hash(
    laravel: Path, tmp_path: Path, change: Callable[[Path], object]
) -> None:
    before = package_app(laravel, cache_dir=tmp_path / "cache")
    change(laravel)
    after = package_app(laravel, cache_dir=tmp_path / "cache")
    assert after.sha256 != before.sha256
    assert after.path != before.path
    assert not after.reused


def test_mode_change_without_exec_bit_keeps_the_package(laravel: Path, tmp_path: Path) -> None:
    before = package_app(laravel, cache_dir=tmp_path / "cache")
    (laravel / "config/app.php").chmod(0o600)
    after = package_app(laravel, cache_dir=tmp_path / "cache")
    assert (after.sha256, after.reused) == (before.sha256, True)


def test_unchanged_tree_is_reused_without_rewriting(laravel: Path, tmp_path: Path) -> None:
    first = package_app(laravel, cache_dir=tmp_path / "cache")
    written = first.path.stat()
    for path in laravel.rglob("*"):
        os.utime(path, (5, 5))
    second = package_app(laravel, cache_dir=tmp_path / "cache")
    assert second.reused and not first.reused
    assert second == Package(**{**first.__dict__, "reused": True})
    again = second.path.stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    index = index_path(tmp_path / "cache", os.path.realpath(laravel)).name
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [first.path.name, first.path.with_suffix(".json").name, index]
    )


def test_damaged_cache_entry_is_rebuilt(laravel: Path, tmp_path: Path) -> None:
    first = package_app(laravel, cache_dir=tmp_path / "cache")
    good = first.path.read_bytes()
    first.path.write_bytes(good[:100])
    assert not package_app(laravel, cache_dir=tmp_path / "cache").reused
    first.path.with_suffix(".json").write_text("{not json")
    rebuilt = package_app(laravel, cache_dir=tmp_path / "cache")
    assert not rebuilt.reused
    assert rebuilt.path.read_bytes() == good


APP_PHP = "config/app.php"
SAME_SIZE_EDIT = LARAVEL[APP_PHP].replace(b"APP_NAME", b"APP_ENVX")


@pytest.fixture
def no_racy_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the stat cache vouch for files written just now (test trees are moments old)."""
    monkeypatch.setattr(stat_cache, "RACY_MARGIN_NS", 0)


def index_of(app: Path, cache: Path) -> Path:
    """The stat cache file of ``app`` in ``cache``."""
    return index_path(cache, os.path.realpath(app))


def refuse_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if packaging reads any file of the app from now on."""

    def read(*args: object) -> bytes:
        raise AssertionError(f"a file was read: {args}")

    monkeypatch.setattr(packaging, "_read", read)
    monkeypatch.setattr(packaging, "_chunks", read)


def rewrite_keeping_mtime(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and set its mtime back to what it was; only ctime moves.

    Rewrites until the ctime differs: on a coarse clock the first rewrite may land in the same
    tick as the original write (the racy case, tested on its own).
    """
    before = path.stat()
    for _ in range(100):
        path.write_bytes(data)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = path.stat()
        if after.st_ctime_ns != before.st_ctime_ns:
            break
        time.sleep(0.01)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert after.st_ctime_ns != before.st_ctime_ns


def without_ctime(info: os.stat_result) -> tuple[int, int, int, int]:
    """A stat-cache key blind to ctime: stands for a rewrite within one timestamp tick."""
    return info.st_ino, info.st_size, info.st_mtime_ns, 0


def test_stat_cache_hit_reads_no_file_and_leaves_the_index_alone(
    laravel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_racy_margin: None
) -> None:
    cache = tmp_path / "cache"
    first = package_app(laravel, cache_dir=cache)
    index = index_of(laravel, cache)
    written = index.stat()
    assert set(StatIndex.load(index).entries) == {name.encode() for name in LARAVEL}
    refuse_reads(monkeypatch)
    progress = RecordingProgress()
    second = package_app(laravel, cache_dir=cache, progress=progress)
    assert (second.sha256, second.reused) == (first.sha256, True)
    assert progress.phases == [("hashing", 0, 0)]
    again = index.stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


def test_an_edit_rehashes_only_the_edited_file(
    laravel: Path, tmp_path: Path, no_racy_margin: None
) -> None:
    cache = tmp_path / "cache"
    first = package_app(laravel, cache_dir=cache)
    edited = b"<?php\nRoute::get('/', fn () => 'changed');\n"
    (laravel / "routes/web.php").write_bytes(edited)
    (laravel / "vendor/autoload.php").unlink()
    progress = RecordingProgress()
    after = package_app(laravel, cache_dir=cache, progress=progress)
    assert progress.phases[0] == ("hashing", len(edited), len(edited))
    assert after.sha256 != first.sha256 and not after.reused
    expected = {**LARAVEL, "routes/web.php": edited}
    del expected["vendor/autoload.php"]
    assert contents(after) == expected
    assert set(StatIndex.load(index_of(laravel, cache)).entries) == {n.encode() for n in expected}


def test_same_size_edit_with_the_old_mtime_is_detected(
    laravel: Path, tmp_path: Path, no_racy_margin: None
) -> None:
    cache = tmp_path / "cache"
    first = package_app(laravel, cache_dir=cache)
    rewrite_keeping_mtime(laravel / APP_PHP, SAME_SIZE_EDIT)
    after = package_app(laravel, cache_dir=cache)
    assert after.sha256 != first.sha256 and not after.reused
    assert contents(after) == {**LARAVEL, APP_PHP: SAME_SIZE_EDIT}


def test_racily_clean_file_is_hashed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unchanged stat data does not vouch for a file changed around the time the index was made.

    With ctime out of the key, a same-size rewrite back-dated to the old mtime looks exactly like
    the racy case (two writes in one timestamp tick). Without the margin it goes unnoticed, which
    shows that the margin is what catches it.
    """
    monkeypatch.setattr(packaging, "stamp_of", without_ctime)
    for margin, noticed in ((0, False), (stat_cache.RACY_MARGIN_NS, True)):
        monkeypatch.setattr(stat_cache, "RACY_MARGIN_NS", margin)
        app = write_tree(tmp_path / f"app-{margin}", LARAVEL)
        cache = tmp_path / f"cache-{margin}"
        package_app(app, cache_dir=cache)
        rewrite_keeping_mtime(app / APP_PHP, SAME_SIZE_EDIT)
        after = package_app(app, cache_dir=cache)
        assert (contents(after)[APP_PHP] == SAME_SIZE_EDIT) is noticed
        assert after.reused is not noticed


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: b"not an index at all\n" * 20,
        lambda data: stat_cache.MAGIC[:-1] + b"\x09" + data[len(stat_cache.MAGIC) :],
        lambda data: data[:40] + bytes([data[40] ^ 1]) + data[41:],
        lambda data: data + b"\0",
    ],
    ids=["empty", "truncated", "garbage", "other-version", "flipped-bit", "trailing-byte"],
)
def test_damaged_stat_cache_is_ignored_and_rewritten(
    laravel: Path, tmp_path: Path, no_racy_margin: None, damage: Callable[[bytes], bytes]
) -> None:
    cache = tmp_path / "cache"
    first = package_app(laravel, cache_dir=cache)
    index = index_of(laravel, cache)
    good = index.read_bytes()
    index.write_bytes(damage(good))
    assert StatIndex.load(index).entries == {}
    progress = RecordingProgress()
    again = package_app(laravel, cache_dir=cache, progress=progress)
    assert (again.sha256, again.reused) == (first.sha256, True)
    assert progress.phases == [("hashing", first.unzipped_bytes, first.unzipped_bytes)]
    assert StatIndex.load(index).entries.keys() == StatIndex.decode(good).entries.keys()


def test_unwritable_stat_cache_is_no_error(laravel: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    index_of(laravel, cache).mkdir(parents=True)
    first = package_app(laravel, cache_dir=cache)
    second = package_app(laravel, cache_dir=cache)
    assert (second.sha256, second.reused) == (first.sha256, True)
    assert index_of(laravel, cache).is_dir()


def test_same_bytes_with_and_without_the_stat_cache(
    laravel: Path, tmp_path: Path, no_racy_margin: None
) -> None:
    cold = package_app(laravel, cache_dir=tmp_path / "a")
    expected = cold.path.read_bytes()
    cold.path.unlink()
    progress = RecordingProgress()
    from_index = package_app(laravel, cache_dir=tmp_path / "a", progress=progress)
    size = cold.unzipped_bytes
    assert progress.phases == [("hashing", 0, 0), ("compressing", size, size)]
    assert not from_index.reused and from_index.path.read_bytes() == expected
    assert package_app(laravel, cache_dir=tmp_path / "b").path.read_bytes() == expected
    with zipfile.ZipFile(from_index.path) as zf:
        assert zf.testzip() is None
    assert contents(from_index) == LARAVEL


def test_stale_stat_cache_entry_is_caught_when_compressing(
    laravel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest the index vouched for is checked on the read that compresses the file."""
    monkeypatch.setattr(packaging, "stamp_of", lambda info: (info.st_ino, info.st_size, 0, 0))
    cache = tmp_path / "cache"
    first = package_app(laravel, cache_dir=cache)
    (laravel / APP_PHP).write_bytes(SAME_SIZE_EDIT)
    first.path.unlink()
    with pytest.raises(ConfigurationError, match="changed while it was being packaged"):
        package_app(laravel, cache_dir=cache)
    assert not index_of(laravel, cache).exists()
    again = package_app(laravel, cache_dir=cache)
    assert contents(again) == {**LARAVEL, APP_PHP: SAME_SIZE_EDIT}


def test_stat_index_trusts_only_unchanged_entries_older_than_its_snapshot() -> None:
    digest = hashlib.sha256(b"x").digest()
    entries = {b"old": ((7, 1, 998, 999), digest), b"new": ((8, 1, 999, 1_000), digest)}
    index = StatIndex(1_000, entries)
    assert index.digest(b"old", (7, 1, 998, 999)) == digest
    assert index.digest(b"new", (8, 1, 999, 1_000)) is None
    assert index.digest(b"old", (7, 2, 998, 999)) is None
    assert index.digest(b"old", (6, 1, 998, 999)) is None
    assert index.digest(b"missing", (7, 1, 998, 999)) is None
    future_mtime = StatIndex(1_000, {b"m": ((1, 1, 1_000, 5), digest)})
    assert future_mtime.digest(b"m", (1, 1, 1_000, 5)) is None
    decoded = StatIndex.decode(index.encode())
    assert (decoded.as_of, decoded.entries) == (index.as_of, index.entries)
    assert StatIndex.decode(StatIndex().encode()).entries == {}


EXCLUDE_CASES = (
    "*.map", "fixtures/", "vendor/acme/*", "/README.md", ".env.*", "a**b", "x[!a]y", "[ab]c",
    "foo\\*", "**/cache", "docs/**", "?z", "lib/", "node_modules",
)  # fmt: skip
EXCLUDE_PATHS = (
    "a.map", "d/a.map", "fixtures", "x/fixtures", "vendor/acme/pkg", "README.md", "d/README.md",
    ".env.local", "d/.env.x", "a/x/b", "ab", "x/y", "xby", "d/bc", "foo*", "foox", "cache",
    "d/e/cache", "docs/a/b", "zz", "qz", "d/qz", "lib", "node_modules", "d/node_modules",
)  # fmt: skip


@pytest.mark.parametrize("pattern", EXCLUDE_CASES)
def test_excludes_match_like_the_full_path_regex(pattern: str) -> None:
    """Name-only matching, the fast path, agrees with the gitignore regex on the whole path."""
    excluder = packaging._Excluder([pattern])
    regex = re.compile(packaging._pattern_regex(pattern))
    for rel in EXCLUDE_PATHS:
        for is_dir in (False, True):
            expected = bool(regex.fullmatch(rel)) and (is_dir or not pattern.endswith("/"))
            assert excluder.excludes(rel.rsplit("/", 1)[-1], rel, is_dir) is expected, (rel, is_dir)


def test_default_excludes(tmp_path: Path) -> None:
    junk = [
        ".git/HEAD",
        "node_modules/vite/index.js",
        "tests/Feature/ExampleTest.php",
        "vendor/acme/pkg/tests/ThingTest.php",
        ".env",
        ".env.production",
        "config/.env.local",
        "storage/logs/laravel.log",
        "storage/framework/cache/data/ab/cd/1234",
        "storage/framework/sessions/abc",
        "storage/framework/views/abc.php",
        "storage/logs/.gitignore",
        ".idea/workspace.xml",
        ".vscode/settings.json",
        ".fleet/settings.json",
        "cdktf.out/manifest.json",
        ".serverless-laravel/packages/old.zip",
        "public/.DS_Store",
        ".phpunit.result.cache",
        ".phpunit.cache/test-results",
        "bootstrap/cache/config.php",
        "storage/app/public/avatar.txt",
        ".envrc",
        "infra/prod.tfvars",
    ]
    kept = ["config/env.php", "app/testsuite.php",
            "bootstrap/cache/packages.php", "bootstrap/cache/services.php"]
    app = write_tree(tmp_path / "app", {**LARAVEL, **dict.fromkeys(junk + kept, b"x")})
    package = package_app(app, cache_dir=tmp_path / "cache")
    assert list(entries(package)) == sorted([*LARAVEL, *kept])
    assert package.file_count == len(LARAVEL) + len(kept)
    assert ".env" in DEFAULT_EXCLUDES


def test_user_excludes_follow_gitignore_rules(tmp_path: Path) -> None:
    extra = {
        "README.md": b"x",
        "docs/README.md": b"x",
        "public/build/app.js.map": b"x",
        "public/build/app.js": b"x",
        "resources/js/app.js": b"x",
        "resources/views/welcome.blade.php": b"x",
        "lib/fixtures": b"a file, not a directory",
        "database/fixtures/users.json": b"x",
        "a/deep/fixtures/b.json": b"x",
    }
    app = write_tree(tmp_path / "app", {**LARAVEL, **extra})
    patterns = ["/README.md", "*.map", "resources/js", "fixtures/", "vendor/acme/*"]
    package = package_app(app, exclude=patterns, cache_dir=tmp_path / "cache")
    left_out = {"README.md", "public/build/app.js.map", "resources/js/app.js"}
    left_out |= {"database/fixtures/users.json", "a/deep/fixtures/b.json"}
    left_out |= {"vendor/acme/pkg/src/Thing.php"}
    assert set(entries(package)) == (set(LARAVEL) | set(extra)) - left_out


def test_modes_are_normalized_and_the_exec_bit_kept(tmp_path: Path) -> None:
    files = {**LARAVEL, "bootstrap/run": b"#!/bin/sh\n", "private.txt": b"p", "group.txt": b"g"}
    app = write_tree(tmp_path / "app", files)
    (app / "bootstrap/run").chmod(0o700)
    (app / "private.txt").chmod(0o600)
    (app / "group.txt").chmod(0o664)
    package = package_app(app, cache_dir=tmp_path / "cache")
    modes = {name: info.external_attr >> 16 for name, info in entries(package).items()}
    executable = EXECUTABLE | {"bootstrap/run"}
    assert {n for n, m in modes.items() if m == stat.S_IFREG | 0o755} == executable
    assert {n for n, m in modes.items() if m == stat.S_IFREG | 0o644} == set(files) - executable


def test_zip_is_valid_and_round_trips(laravel: Path, tmp_path: Path) -> None:
    package = package_app(laravel, cache_dir=tmp_path / "cache")
    data = package.path.read_bytes()
    assert package.sha256 == hashlib.sha256(data).hexdigest()
    assert package.source_code_hash == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert package.zipped_bytes == len(data)
    assert package.unzipped_bytes == sum(len(v) for v in LARAVEL.values())
    with zipfile.ZipFile(package.path) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(LARAVEL)
    assert {(i.date_time, i.create_system) for i in infos} == {((1980, 1, 1, 0, 0, 0), 3)}
    methods = {i.filename: i.compress_type for i in infos}
    assert methods["public/images/logo.png"] == zipfile.ZIP_STORED
    assert methods["app/Http/Controllers/HomeController.php"] == zipfile.ZIP_DEFLATED
    assert contents(package) == LARAVEL
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-tqq", str(package.path)], check=True)


def test_non_ascii_names_are_flagged_utf8(tmp_path: Path) -> None:
    app = write_tree(tmp_path / "app", {"lang/fr/résumé.php": b"<?php\n", "a.txt": b"a"})
    package = package_app(app, cache_dir=tmp_path / "cache")
    info = entries(package)["lang/fr/résumé.php"]
    assert info.flag_bits & 0x800
    assert contents(package)["lang/fr/résumé.php"] == b"<?php\n"


def test_symlinks_inside_the_app_are_followed(laravel: Path, tmp_path: Path) -> None:
    (laravel / "resources/shared").mkdir(parents=True)
    (laravel / "resources/shared/a.txt").write_bytes(b"shared")
    (laravel / "public/shared").symlink_to(laravel / "resources/shared")
    (laravel / "config/alias.php").symlink_to("app.php")
    found = contents(package_app(laravel, cache_dir=tmp_path / "cache"))
    assert found["public/shared/a.txt"] == found["resources/shared/a.txt"] == b"shared"
    assert found["config/alias.php"] == LARAVEL["config/app.php"]


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        (lambda app, out: (app / "link").symlink_to(out), "points outside the app"),
        (lambda app, out: (app / "link").symlink_to(app / "missing"), "dangling"),
        (lambda app, out: (app / "config/loop").symlink_to(app), "loops back"),
    ],
    ids=["outside", "dangling", "loop"],
)
def test_bad_symlinks_are_refused(
    laravel: Path, tmp_path: Path, make: Callable[[Path, Path], object], rule: str
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    make(laravel, outside)
    with pytest.raises(ConfigurationError, match=rule) as caught:
        package_app(laravel, cache_dir=tmp_path / "cache")
    assert "exclude" in caught.value.fix
    package_app(laravel, exclude=["link", "loop"], cache_dir=tmp_path / "cache")


def test_cache_location_defaults(
    laravel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SERVERLESS_LARAVEL_CACHE", raising=False)
    monkeypatch.chdir(laravel)
    in_cwd = package_app(laravel)
    assert in_cwd.path.parent == laravel / ".serverless-laravel" / "packages"
    monkeypatch.setenv("SERVERLESS_LARAVEL_CACHE", str(tmp_path / "env-cache"))
    from_env = package_app(laravel)
    assert from_env.path.parent == tmp_path / "env-cache"
    assert from_env.sha256 == in_cwd.sha256
    assert not from_env.reused


def test_cache_inside_the_app_is_never_packaged(laravel: Path) -> None:
    first = package_app(laravel, cache_dir=laravel / "build-cache")
    second = package_app(laravel, cache_dir=laravel / "build-cache")
    assert second.reused and second.sha256 == first.sha256
    assert not any(name.startswith("build-cache") for name in entries(second))


def test_progress_reports_every_byte_hashed_then_compressed(laravel: Path, tmp_path: Path) -> None:
    progress = RecordingProgress()
    package = package_app(laravel, cache_dir=tmp_path / "cache", progress=progress)
    size = package.unzipped_bytes
    assert progress.phases == [("hashing", size, size), ("compressing", size, size)]
    again = RecordingProgress()
    package_app(laravel, cache_dir=tmp_path / "cache", progress=again)
    assert [phase for phase, _, _ in again.phases] == ["hashing"]


@pytest.mark.parametrize("app", ["missing", "composer.json"], ids=["missing", "not-a-directory"])
def test_app_must_be_an_existing_directory(laravel: Path, tmp_path: Path, app: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        package_app(laravel / app, cache_dir=tmp_path / "cache")
    assert (caught.value.where, caught.value.prop) == ("package_app", "app")


def test_empty_tree_is_refused(tmp_path: Path) -> None:
    app = write_tree(tmp_path / "app", {".env": b"SECRET=1", "node_modules/x.js": b"x"})
    (app / "empty-dir").mkdir()
    with pytest.raises(ConfigurationError, match="no files"):
        package_app(app, cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigurationError, match="no files"):
        package_app(write_tree(tmp_path / "b", LARAVEL), exclude=["*"], cache_dir=tmp_path / "c")


@pytest.mark.parametrize("bad", ["", "   ", "/", 3, None, "!vendor", "[!]"])
def test_bad_exclude_patterns_are_refused(laravel: Path, tmp_path: Path, bad: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        package_app(laravel, exclude=["*.map", bad], cache_dir=tmp_path / "cache")
    assert (caught.value.prop, caught.value.value) == ("exclude", bad)


def test_exclude_must_be_a_list_not_a_string(laravel: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="list of patterns"):
        package_app(laravel, exclude="vendor", cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_bad_size_limit_is_refused(laravel: Path, tmp_path: Path, bad: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        package_app(laravel, max_unzipped_bytes=bad, cache_dir=tmp_path / "cache")
    assert caught.value.prop == "max_unzipped_bytes"


def test_oversized_tree_is_refused_before_compressing(laravel: Path, tmp_path: Path) -> None:
    huge = laravel / "resources/huge.bin"
    huge.parent.mkdir(parents=True)
    huge.touch()
    os.truncate(huge, 300 * MB)
    cache = tmp_path / "cache"
    with pytest.raises(ConfigurationError) as caught:
        package_app(laravel, cache_dir=cache, max_unzipped_bytes=250 * MB)
    message = str(caught.value)
    assert "300.0 MB" in message and "250.0 MB" in message
    assert "image_uri" in message and "exclude" in message
    assert not cache.exists() or not any(cache.iterdir())


def test_zip_format_limits_are_refused_without_zip64() -> None:
    many = [_File(f"f{i}".encode(), "", 0, False) for i in range(MAX_FILES + 1)]
    with pytest.raises(ConfigurationError, match="65,536 files exceed 65,535"):
        _check_size(Path("app"), many, None)
    with pytest.raises(ConfigurationError, match="4 GiB zip limit"):
        _check_size(Path("app"), [_File(b"big.bin", "", 2**32, False)], None)
    assert _check_size(Path("app"), many[:MAX_FILES], None) == 0


def test_atomic_write_leaves_nothing_behind_on_error(tmp_path: Path) -> None:
    target = tmp_path / "package.zip"

    def explode(out: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _atomic_write(target, explode)
    assert list(tmp_path.iterdir()) == []


def test_file_changed_between_hash_and_compress_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.php"
    path.write_bytes(b"<?php echo 1;\n")
    file = _File(b"a.php", str(path), path.stat().st_size, False)
    hashed = _hash_file(file, keep=False)
    assert _deflate(file, hashed).size == file.size
    path.write_bytes(b"<?php echo 2;\n")
    with pytest.raises(ConfigurationError, match="changed while"):
        _deflate(file, hashed)


def test_cli_package_prints_a_summary(laravel: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["package", str(laravel), "--cache-dir", str(tmp_path / "cache"), "-x", "*.png"]
    first = runner.invoke(cli_app, args, env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    package = package_app(laravel, exclude=["*.png"], cache_dir=tmp_path / "cache")
    assert package.sha256 in first.output and "public/images/logo.png" not in entries(package)
    assert "reused" in first.output and " no " in first.output
    second = runner.invoke(cli_app, args, env={"COLUMNS": "200"})
    assert second.exit_code == 0 and " yes " in second.output


def test_cli_package_reports_configuration_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["package", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


names = st.text(alphabet="abcxyz", min_size=1, max_size=4)
trees = st.dictionaries(
    st.lists(names, min_size=1, max_size=3).map(lambda parts: "d/".join(parts) + ".f"),
    st.tuples(st.binary(max_size=300), st.booleans()),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees)
def test_random_trees_are_deterministic_and_round_trip(
    tree: dict[str, tuple[bytes, bool]],
) -> None:
    files = {rel: data for rel, (data, _) in tree.items()}
    executable = {rel for rel, (_, x) in tree.items() if x}
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        one = write_tree(root / "one", files, executable)
        two = write_tree(root / "two", files, executable, order=sorted(files, reverse=True))
        a = package_app(one, cache_dir=root / "cache-a")
        b = package_app(two, cache_dir=root / "cache-b")
        assert a.path.read_bytes() == b.path.read_bytes()
        assert contents(a) == files
        modes = {n: i.external_attr >> 16 & 0o777 for n, i in entries(a).items()}
        assert modes == {rel: 0o755 if rel in executable else 0o644 for rel in files}


CREDENTIALS = {
    "auth.json": b'{"http-basic": {"repo.example.com": {"password": "hunter2"}}}',
    ".npmrc": b"//registry.npmjs.org/:_authToken=npm_secret",
    ".git-credentials": b"https://user:ghp_secret@github.com",
    ".aws/credentials": b"[default]\naws_secret_access_key = secret",
    ".ssh/id_ed25519": b"-----BEGIN OPENSSH PRIVATE KEY-----",
    "id_rsa": b"-----BEGIN RSA PRIVATE KEY-----",
    "deploy/id_rsa.pub": b"ssh-rsa AAAA",
    ".docker/config.json": b'{"auths": {"x": {"auth": "c2VjcmV0"}}}',
    "ops/.docker/config.json": b'{"auths": {}}',
    ".pgpass": b"db:5432:app:app:secret",
    ".netrc": b"machine x login y password z",
    ".env": b"APP_KEY=base64:c2VjcmV0",
    "config/.env.production": b"DB_PASSWORD=secret",
    "database/database.sqlite": b"SQLite format 3",
    "storage/app/private/invoice.pdf": b"%PDF",
    "storage/oauth-private.key": b"-----BEGIN PRIVATE KEY-----",
    "certs/server.pem": b"-----BEGIN CERTIFICATE-----",
    "certs/client.p12": b"\x30\x82",
    "infra/terraform.tfstate": b'{"resources": []}',
    "infra/terraform.tfstate.backup": b'{"resources": []}',
}


def test_no_credential_file_reaches_the_zip(tmp_path: Path) -> None:
    app = write_tree(tmp_path / "app", {**LARAVEL, **CREDENTIALS})
    package = package_app(app, cache_dir=tmp_path / "cache")
    assert sorted(entries(package)) == sorted(LARAVEL)
    zipped = package.path.read_bytes()
    for secret in (b"hunter2", b"npm_secret", b"ghp_secret", b"PRIVATE KEY", b"c2VjcmV0"):
        assert secret not in zipped


def test_vendor_keeps_its_ca_bundles_but_not_private_keys(tmp_path: Path) -> None:
    bundle = "vendor/composer/ca-bundle/res/cacert.pem"
    app = write_tree(tmp_path / "app", {**LARAVEL, bundle: b"-----BEGIN CERTIFICATE-----\nMII"})
    assert bundle in entries(package_app(app, cache_dir=tmp_path / "cache"))

    key = "vendor/acme/sdk/fixtures/signing.key"
    (app / key).parent.mkdir(parents=True)
    (app / key).write_bytes(b"-----BEGIN EC PRIVATE KEY-----\nMHc")
    with pytest.raises(ConfigurationError) as caught:
        package_app(app, cache_dir=tmp_path / "cache")
    assert caught.value.code == "package_app.app.credential"
    assert caught.value.value == [key]
    assert "allow_credentials" in caught.value.fix

    allowed = package_app(app, cache_dir=tmp_path / "cache",
                          allow_credentials=["vendor/acme/sdk/fixtures/*.key"])
    assert key in entries(allowed)


@pytest.mark.parametrize("value", ["*.key", ["!x"], [""]], ids=["string", "negated", "empty"])
def test_allow_credentials_takes_patterns(tmp_path: Path, value: object) -> None:
    app = write_tree(tmp_path / "app", LARAVEL)
    with pytest.raises(ConfigurationError) as caught:
        package_app(app, cache_dir=tmp_path / "cache", allow_credentials=value)  # type: ignore[arg-type]
    assert caught.value.prop == "allow_credentials"

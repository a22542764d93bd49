"""``package_app`` on real trees: reproducible bytes, excludes, modes, reuse, errors, the CLI."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import shutil
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

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
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(
        [first.path.name, first.path.with_suffix(".json").name]
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
    ]
    kept = ["storage/app/public/avatar.txt", "config/env.php", "app/testsuite.php", ".envrc",
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
    (laravel / "storage/app/public").mkdir(parents=True)
    (laravel / "storage/app/public/a.txt").write_bytes(b"shared")
    (laravel / "public/storage").symlink_to(laravel / "storage/app/public")
    (laravel / "config/alias.php").symlink_to("app.php")
    found = contents(package_app(laravel, cache_dir=tmp_path / "cache"))
    assert found["public/storage/a.txt"] == found["storage/app/public/a.txt"] == b"shared"
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
    huge = laravel / "storage/app/huge.bin"
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

"""Time ``package_app`` (cold, warm, after an edit) against ``zip -r -X -q`` on a Laravel tree.

Run: ``python benchmarks/bench_packaging.py [--files N] [--mb M] [--runs R] [--compressors]``.
Everything runs in one process on the same tree; each figure is the median of ``--runs`` runs,
with cold, ``zip`` and ``zipfile`` runs interleaved so all see the same machine load. The goals
(cold <= 0.5x zip, warm <= 0.05x zip, the same bytes every way) are printed, not asserted.
``--compressors`` also times each candidate deflate implementation on the packaged files.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import deflate
from rich.console import Console
from rich.table import Table

from laravel_tree import generate_tree
from serverless_laravel.build.packaging import (
    COMPRESS_LEVEL,
    DEFAULT_EXCLUDES,
    MB,
    Package,
    package_app,
)

GOALS = {"package_app cold": 0.5, "package_app warm": 0.05}
ROWS = (
    "package_app cold",
    "package_app warm",
    "first warm (settle, 1 run)",
    "warm, no stat cache",
    "one file edited",
    "zip -r -X -q",
    "stdlib zipfile",
)
EDITED = "routes/web.php"


def zip_excludes(patterns: tuple[str, ...]) -> list[str]:
    """Info-ZIP ``-x`` patterns for what ``patterns`` leave out (its ``*`` crosses ``/``)."""
    result: list[str] = []
    for pattern in patterns:
        if "/" in pattern:
            result.append(pattern)
        else:
            result += [pattern, f"{pattern}/*", f"*/{pattern}", f"*/{pattern}/*"]
    return result


def run_zip(tree: Path, out: Path) -> None:
    """``zip -r -X -q out .`` in ``tree`` with the default excludes, into a fresh archive."""
    out.unlink(missing_ok=True)
    command = ["zip", "-r", "-X", "-q", str(out), ".", "-x", *zip_excludes(DEFAULT_EXCLUDES)]
    subprocess.run(command, cwd=tree, check=True)


def run_zipfile(tree: Path, names: list[str], out: Path) -> None:
    """Python's ``zipfile`` alone (one thread, deflate level 6) over the same files."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name in names:
            zf.write(tree / name, name)


def timed(action: Callable[[], object]) -> float:
    """Wall-clock seconds ``action`` takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def file_names(archive: Path) -> set[str]:
    """Names of the file entries (not directories) in a zip."""
    with zipfile.ZipFile(archive) as zf:
        return {name for name in zf.namelist() if not name.endswith("/")}


def drop_stat_cache(cache: Path) -> None:
    """Delete the stat cache in ``cache``, keeping the packages: the old warm path, all hashed."""
    for index in cache.glob("stat-*.idx"):
        index.unlink()


class Runs:
    """Timings by method, and every package built, to check they all hold the same bytes."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.sha256: set[str] = set()

    def package(self, method: str, tree: Path, cache: Path) -> Package:
        """Time one ``package_app`` call under ``method``."""
        start = time.perf_counter()
        package = package_app(tree, cache_dir=cache)
        self.times.setdefault(method, []).append(time.perf_counter() - start)
        return package

    def other(self, method: str, action: Callable[[], object]) -> None:
        """Time one run of another archiver."""
        self.times.setdefault(method, []).append(timed(action))


def measure(tree: Path, work: Path, runs: int) -> tuple[Runs, Package, Path]:
    """Cold, warm, warm without the stat cache, one file edited; ``zip`` and ``zipfile``.

    Cold, warm, ``zip`` and ``zipfile`` runs take turns, so load that comes and goes on the
    machine falls on all of them alike.
    """
    result, out, warm = Runs(), work / "out.zip", work / "cache-warm"
    names = sorted(file_names(package_app(tree, cache_dir=warm).path))
    for run in range(runs):
        result.sha256.add(result.package("package_app cold", tree, work / f"cache-{run}").sha256)
        result.other("zip -r -X -q", lambda: run_zip(tree, out))
        result.other("stdlib zipfile", lambda: run_zipfile(tree, names, work / "stdlib.zip"))
        if run == 0:
            result.package("first warm (settle, 1 run)", tree, warm)
        result.sha256.add(result.package("package_app warm", tree, warm).sha256)
    for _ in range(runs):
        drop_stat_cache(warm)
        result.sha256.add(result.package("warm, no stat cache", tree, warm).sha256)
    package = package_app(tree, cache_dir=warm)
    edit_all(result, tree, warm, runs)
    return result, package, out


def edit_all(result: Runs, tree: Path, cache: Path, runs: int) -> None:
    """Time packaging after one file changed (new zip, one file re-hashed); then restore it."""
    path = tree / EDITED
    original = path.read_bytes()
    try:
        for run in range(runs):
            path.write_bytes(original + f"// edit {run}\n".encode())
            result.package("one file edited", tree, cache)
    finally:
        path.write_bytes(original)


def report(result: Runs, package: Package, zip_out: Path, runs: int) -> Table:
    """The results table."""
    zip_time = statistics.median(result.times["zip -r -X -q"])
    sizes = {
        "zip -r -X -q": zip_out.stat().st_size,
        "stdlib zipfile": (zip_out.parent / "stdlib.zip").stat().st_size,
    }
    table = Table(title=f"Packaging {package.file_count:,} files, median of {runs}")
    for column in ("method", "seconds", "MB/s", "zipped MB", "vs zip", "goal"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for method in ROWS:
        seconds = statistics.median(result.times[method])
        ratio = seconds / zip_time
        goal = GOALS.get(method)
        verdict = "" if goal is None else f"<= {goal:.2f}x {'met' if ratio <= goal else 'MISSED'}"
        table.add_row(
            method,
            f"{seconds:.3f}",
            f"{package.unzipped_bytes / MB / seconds:.0f}",
            f"{sizes.get(method, package.zipped_bytes) / MB:.2f}",
            f"{ratio:.3f}x",
            verdict,
        )
    return table


def candidates() -> dict[str, Callable[[bytes], bytes | bytearray]]:
    """Raw deflate implementations to compare: zlib, libdeflate and, if installed, ISA-L."""

    def zlib_level(level: int) -> Callable[[bytes], bytes]:
        def compress(data: bytes) -> bytes:
            compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
            return compressor.compress(data) + compressor.flush()

        return compress

    found: dict[str, Callable[[bytes], bytes | bytearray]] = {"zlib 6": zlib_level(6)}
    for level in (1, 4, 6):
        found[f"libdeflate {level}"] = lambda data, level=level: deflate.deflate_compress(
            data, level
        )
    try:
        isal_zlib = importlib.import_module("isal.isal_zlib")
    except ImportError:
        return found
    for level in (1, 2, 3):
        found[f"isal {level}"] = lambda data, level=level: isal_zlib.compress(data, level, -15)
    return found


def compare_compressors(tree: Path, package: Package, runs: int) -> Table:
    """Each candidate deflate on every packaged file, one thread: seconds and size vs zlib 6."""
    with zipfile.ZipFile(package.path) as zf:
        files = [(tree / name).read_bytes() for name in zf.namelist()]
    total = sum(map(len, files))
    table = Table(title=f"Raw deflate of the {len(files):,} packaged files, one thread")
    for column in ("compressor", "seconds", "MB/s", "deflated MB", "vs zlib 6 size"):
        table.add_column(column, justify="left" if column == "compressor" else "right")
    baseline = 0
    for name, compress in candidates().items():
        seconds = statistics.median(
            timed(lambda compress=compress: [compress(data) for data in files]) for _ in range(runs)
        )
        size = sum(len(compress(data)) for data in files)
        baseline = baseline or size
        chosen = " (used)" if name == f"libdeflate {COMPRESS_LEVEL}" else ""
        table.add_row(
            name + chosen,
            f"{seconds:.3f}",
            f"{total / MB / seconds:.0f}",
            f"{size / MB:.2f}",
            f"{size / baseline - 1:+.1%}",
        )
    return table


def notes(args: argparse.Namespace, result: Runs, package: Package, same: bool) -> str:
    """What the figures mean and the conditions they were taken under."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    identical = "yes" if len(result.sha256) == 1 else f"NO ({len(result.sha256)} digests)"
    return (
        f"Tree: {args.files:,} files, {args.mb} MiB generated; after the default excludes "
        f"{package.file_count:,} files, {package.unzipped_bytes / MB:.1f} MiB unzipped.\n"
        "cold = empty cache: walk, hash, deflate (threads), write. warm = unchanged tree: walk "
        "and stat only, digests from the stat cache, zip from the package cache. The tree is "
        "seconds old when the first package (and stat cache) is made, so its newest files are "
        "racily clean; the first warm run re-hashes them and is shown apart as 'first warm "
        "(settle, 1 run)'. warm, no stat cache = the stat cache deleted before each run, so "
        "every file is hashed again (the warm path before the stat cache). one file edited = "
        f"{EDITED} changed: one file hashed, every other read once to deflate, a new zip.\n"
        "zip (Info-ZIP, deflate level 6) ran with -x patterns equivalent to DEFAULT_EXCLUDES; "
        f"both archives hold the same files: {'yes' if same else 'NO'}. stdlib zipfile = "
        "zipfile.ZipFile.write, one thread, level 6, same files (for reference).\n"
        f"Every cold, warm and no-stat-cache package has the same SHA-256: {identical}.\n"
        f"MB = 2**20 bytes of unzipped input per second. CPUs: {os.cpu_count()}, "
        f"load average at start: {args.load:.2f}, at end: {load:.2f}, "
        f"Python {platform.python_version()}, libdeflate (deflate {deflate.__version__}) "
        f"level {COMPRESS_LEVEL}, zlib {zlib.ZLIB_RUNTIME_VERSION}."
    )


def main() -> None:
    """Generate the tree, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=15000, help="files in the generated tree")
    parser.add_argument("--mb", type=int, default=120, help="MiB in the generated tree")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument(
        "--compressors", action="store_true", help="also compare deflate implementations"
    )
    args = parser.parse_args()
    if shutil.which("zip") is None:
        sys.exit("zip (Info-ZIP) is not installed")
    console = Console()
    args.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory(prefix="bench-packaging-") as temp:
        work = Path(temp)
        tree = generate_tree(work / "app", files=args.files, total_mb=args.mb)
        result, package, zip_out = measure(tree, work, args.runs)
        same = file_names(package.path) == file_names(zip_out)
        console.print(report(result, package, zip_out, args.runs))
        console.print(notes(args, result, package, same))
        if args.compressors:
            console.print(compare_compressors(tree, package, args.runs))


if __name__ == "__main__":
    main()

"""Time ``package_app`` (cold and warm) against ``zip -r -X -q`` on a generated Laravel tree.

Run: ``python benchmarks/bench_packaging.py [--files N] [--mb M] [--runs R]``. Everything runs in
one process on the same tree; each figure is the median of ``--runs`` runs, with cold, ``zip`` and
``zipfile`` runs interleaved so all see the same machine load. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
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

from rich.console import Console
from rich.table import Table

from laravel_tree import generate_tree
from serverless_laravel.build.packaging import DEFAULT_EXCLUDES, MB, Package, package_app


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


def measure(tree: Path, work: Path, runs: int) -> tuple[dict[str, list[float]], Package, Path]:
    """Times of cold and warm ``package_app``, ``zip`` and ``zipfile``; the package and zip."""
    times: dict[str, list[float]] = {"cold": [], "warm": [], "zip": [], "zipfile": []}
    out = work / "out.zip"
    names = sorted(file_names(package_app(tree, cache_dir=work / "cache-names").path))
    for run in range(runs):
        cache = work / f"cache-{run}"
        times["cold"].append(timed(lambda cache=cache: package_app(tree, cache_dir=cache)))
        times["zip"].append(timed(lambda: run_zip(tree, out)))
        times["zipfile"].append(timed(lambda: run_zipfile(tree, names, work / "stdlib.zip")))
    for _ in range(runs):
        times["warm"].append(timed(lambda: package_app(tree, cache_dir=work / "cache-0")))
    return times, package_app(tree, cache_dir=work / "cache-0"), out


def report(times: dict[str, list[float]], package: Package, zip_out: Path, runs: int) -> Table:
    """The results table."""
    zip_time = statistics.median(times["zip"])
    rows = {
        "package_app cold": (times["cold"], package.zipped_bytes),
        "package_app warm": (times["warm"], package.zipped_bytes),
        "zip -r -X -q": (times["zip"], zip_out.stat().st_size),
        "stdlib zipfile": (times["zipfile"], (zip_out.parent / "stdlib.zip").stat().st_size),
    }
    table = Table(title=f"Packaging {package.file_count:,} files, median of {runs}")
    for column in ("method", "seconds", "MB/s", "zipped MB", "files", "vs zip"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for method, (samples, zipped) in rows.items():
        seconds = statistics.median(samples)
        table.add_row(
            method,
            f"{seconds:.2f}",
            f"{package.unzipped_bytes / MB / seconds:.0f}",
            f"{zipped / MB:.1f}",
            f"{package.file_count:,}",
            f"{seconds / zip_time:.2f}x",
        )
    return table


def main() -> None:
    """Generate the tree, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=15000, help="files in the generated tree")
    parser.add_argument("--mb", type=int, default=120, help="MiB in the generated tree")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    if shutil.which("zip") is None:
        sys.exit("zip (Info-ZIP) is not installed")
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-packaging-") as temp:
        work = Path(temp)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        tree = generate_tree(work / "app", files=args.files, total_mb=args.mb)
        times, package, zip_out = measure(tree, work, args.runs)
        same = file_names(package.path) == file_names(zip_out)
        console.print(report(times, package, zip_out, args.runs))
        console.print(
            f"Tree: {args.files:,} files, {args.mb} MiB generated; after the default excludes "
            f"{package.file_count:,} files, {package.unzipped_bytes / MB:.1f} MiB unzipped.\n"
            "cold = empty cache: walk, hash, deflate (threads), write. warm = unchanged tree "
            "served from the cache: walk + SHA-256 of every file, i.e. the cost of hashing.\n"
            "zip (Info-ZIP, deflate level 6) ran with -x patterns equivalent to DEFAULT_EXCLUDES "
            "(node_modules, .git, tests, .env*, storage caches, ...); both archives hold the same "
            f"files: {'yes' if same else 'NO'}. stdlib zipfile = zipfile.ZipFile.write, one "
            "thread, level 6, same files (for reference).\n"
            f"MB = 2**20 bytes of unzipped input per second. CPUs: {os.cpu_count()}, "
            f"load average at start: {load:.2f}, Python {platform.python_version()}, "
            f"zlib {zlib.ZLIB_RUNTIME_VERSION}."
        )


if __name__ == "__main__":
    main()

"""A stat cache for ``package_app``, like git's index: file stat data mapped to content digests.

An unchanged tree is then packaged without reading a single file, and a changed one re-hashes
only what changed. One index per app root lives in the package cache directory.

An entry is trusted only when the file's inode, size, mtime and ctime all equal what was recorded
*and* the file was last changed (mtime and ctime) before the index's snapshot time. That time is
taken before the scan that filled the index, minus ``RACY_MARGIN_NS``: a file written within the
timestamp granularity of that scan could change again without its stat data changing (git's
"racy clean" problem), so it is re-hashed next time instead. The margin covers coarse kernel
clocks and filesystems with up to 2 s timestamps (FAT). ctime is part of the key because no
tool can set it: content written and then back-dated with ``utime`` still moves it.

The index is a cache, never a source of truth: a missing, truncated, corrupt or foreign file
reads as an empty index, and a trusted digest is checked again whenever the file is read to be
compressed.

Format (little endian): magic and version, the snapshot time and the entry count, one
fixed-size record per entry (inode, size, mtime_ns, ctime_ns, SHA-256), the entry names
(UTF-8 zip names joined by NUL), then the SHA-256 of everything before it.
"""

from __future__ import annotations

import hashlib
import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = b"SLSTAT\x00\x01"
RACY_MARGIN_NS = 2 * 10**9
DIGEST_BYTES = 32

Stamp = tuple[int, int, int, int]
"""What identifies one version of a file without reading it: inode, size, mtime_ns, ctime_ns."""

_HEADER = struct.Struct("<qI")
_RECORD = struct.Struct(f"<QQqq{DIGEST_BYTES}s")


def stamp_of(info: os.stat_result) -> Stamp:
    """The stat data an index entry is keyed on."""
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def snapshot_time() -> int:
    """The time an index filled from now on may vouch for: now, less the racy margin."""
    return time.time_ns() - RACY_MARGIN_NS


def index_path(cache: Path, real_root: str) -> Path:
    """Where the index of the app at ``real_root`` lives in ``cache``: one file per app root."""
    return cache / f"stat-{hashlib.sha256(real_root.encode()).hexdigest()[:32]}.idx"


@dataclass
class StatIndex:
    """Zip names mapped to the stat data and content digest seen at ``as_of`` (ns since epoch)."""

    as_of: int = 0
    entries: dict[bytes, tuple[Stamp, bytes]] = field(default_factory=dict)

    def digest(self, name: bytes, stamp: Stamp) -> bytes | None:
        """The recorded digest of ``name`` if its stat data is unchanged and not racy."""
        entry = self.entries.get(name)
        if entry is None or entry[0] != stamp:
            return None
        _, _, mtime, ctime = stamp
        return entry[1] if mtime < self.as_of and ctime < self.as_of else None

    def encode(self) -> bytes:
        """The index file's bytes."""
        names = list(self.entries)
        body = b"".join(
            [
                MAGIC,
                _HEADER.pack(self.as_of, len(names)),
                *(_RECORD.pack(*stamp, digest) for stamp, digest in self.entries.values()),
                b"\0".join(names),
            ]
        )
        return body + hashlib.sha256(body).digest()

    @classmethod
    def decode(cls, data: bytes) -> StatIndex:
        """The index in ``data``; anything malformed or foreign gives an empty index."""
        try:
            return cls._parse(data)
        except (ValueError, struct.error):
            return cls()

    @classmethod
    def _parse(cls, data: bytes) -> StatIndex:
        """The index in ``data``; raises ``ValueError`` unless it is complete and well formed."""
        body, checksum = data[:-DIGEST_BYTES], data[-DIGEST_BYTES:]
        if not body.startswith(MAGIC) or hashlib.sha256(body).digest() != checksum:
            raise ValueError("not a stat index of this version, or damaged")
        as_of, count = _HEADER.unpack_from(body, len(MAGIC))
        start = len(MAGIC) + _HEADER.size
        end = start + count * _RECORD.size
        names = body[end:].split(b"\0") if count else []
        if len(names) != count or len(body) < end:
            raise ValueError("entry count does not match")
        records = _RECORD.iter_unpack(body[start:end])
        entries = {name: (rec[:4], rec[4]) for name, rec in zip(names, records, strict=True)}
        return cls(as_of, entries)

    @classmethod
    def load(cls, path: Path) -> StatIndex:
        """The index stored at ``path``, or an empty one when it is missing or unreadable."""
        try:
            return cls.decode(path.read_bytes())
        except OSError:
            return cls()

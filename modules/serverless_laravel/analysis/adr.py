"""Generated blocks in Markdown: ``<!-- generated:NAME -->`` ... ``<!-- /generated:NAME -->``.

The decision record keeps its prose by hand and its figures generated: :func:`fill` replaces
each block's body with what the tools compute now, and :func:`stale_blocks` names the blocks
whose committed body differs (CI fails on them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_BLOCK = re.compile(
    r"(?P<open><!-- generated:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)"
    r"(?P<close><!-- /generated:(?P=name) -->)",
    re.DOTALL)


class AdrError(Exception):
    """The document's generated blocks do not match the blocks the tools produce."""


def block_names(text: str) -> list[str]:
    """The names of the generated blocks in ``text``, in order."""
    return [m.group("name") for m in _BLOCK.finditer(text)]


def bodies(text: str) -> dict[str, str]:
    """Each generated block's current body, by name."""
    return {m.group("name"): m.group("body") for m in _BLOCK.finditer(text)}


def _normalized(body: str) -> str:
    return body.strip("\n") + "\n" if body.strip() else ""


def fill(text: str, blocks: Mapping[str, str], *, every_block: bool = True) -> str:
    """``text`` with every generated block's body replaced by ``blocks[name]``.

    Every block in the text must have a body in ``blocks``, so a renamed block is an error
    rather than a silently stale figure; with ``every_block`` (the decision record) every body
    must also have its block, while a document quoting a few (the README) passes False.
    """
    names = block_names(text)
    duplicated = sorted({n for n in names if names.count(n) > 1})
    missing = sorted(set(names) - set(blocks))
    unused = sorted(set(blocks) - set(names)) if every_block else []
    if duplicated or missing or unused:
        raise AdrError(f"generated blocks do not match: duplicated {duplicated}, no content for "
                       f"{missing}, no block for {unused}")
    return _BLOCK.sub(lambda m: m.group("open") + _normalized(blocks[m.group("name")])
                      + m.group("close"), text)


def stale_blocks(text: str, blocks: Mapping[str, str], *, every_block: bool = True
                 ) -> list[str]:
    """The names of the blocks whose committed body differs from ``blocks`` (sorted)."""
    current = bodies(fill(text, blocks, every_block=every_block))
    return sorted(name for name, body in bodies(text).items() if body != current[name])

"""Generated blocks in the decision record: filled, checked for drift, refused when mismatched."""

from __future__ import annotations

import pytest

from serverless_laravel.analysis.adr import AdrError, block_names, fill, stale_blocks

DOC = """# Title

Prose kept by hand.

<!-- generated:cost -->
| old | table |
<!-- /generated:cost -->

More prose.

<!-- generated:summary -->
<!-- /generated:summary -->
"""


def test_fill_replaces_only_the_bodies() -> None:
    filled = fill(DOC, {"cost": "| new | table |", "summary": "two\nlines\n\n"})
    assert filled == DOC.replace("| old | table |", "| new | table |").replace(
        "<!-- generated:summary -->\n", "<!-- generated:summary -->\ntwo\nlines\n")
    assert block_names(filled) == ["cost", "summary"]


def test_fill_is_idempotent() -> None:
    blocks = {"cost": "a\n", "summary": "b"}
    assert fill(fill(DOC, blocks), blocks) == fill(DOC, blocks)


def test_stale_blocks_names_each_drifted_block() -> None:
    blocks = {"cost": "| new | table |", "summary": ""}
    assert stale_blocks(DOC, blocks) == ["cost"]
    assert stale_blocks(fill(DOC, blocks), blocks) == []


@pytest.mark.parametrize(("blocks", "message"), [
    ({"cost": "x"}, "no content for ['summary']"),
    ({"cost": "x", "summary": "y", "extra": "z"}, "no block for ['extra']"),
])
def test_a_missing_or_unused_block_is_an_error(blocks: dict[str, str], message: str) -> None:
    with pytest.raises(AdrError, match=message.replace("[", r"\[").replace("]", r"\]")):
        fill(DOC, blocks)


def test_a_duplicated_block_is_an_error() -> None:
    twice = DOC + "<!-- generated:cost -->\n<!-- /generated:cost -->\n"
    with pytest.raises(AdrError, match=r"duplicated \['cost'\]"):
        fill(twice, {"cost": "x", "summary": "y"})


def test_a_document_quoting_some_blocks_fills_only_those() -> None:
    quoting = "# README\n\n<!-- generated:summary -->\nold\n<!-- /generated:summary -->\n"
    blocks = {"cost": "x", "summary": "new"}
    with pytest.raises(AdrError, match=r"no block for \['cost'\]"):
        fill(quoting, blocks)
    assert fill(quoting, blocks, every_block=False) == quoting.replace("old", "new")
    assert stale_blocks(quoting, blocks, every_block=False) == ["summary"]
    with pytest.raises(AdrError, match=r"no content for \['other'\]"):
        fill(quoting + "<!-- generated:other -->\n<!-- /generated:other -->\n", blocks,
             every_block=False)

"""Reading synthesized Terraform JSON: find resources by construct path, follow references."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

_REF = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}")


@dataclass
class Stack:
    """One synthesized stack: its JSON document and the folder Terraform would run in."""

    name: str
    doc: dict[str, Any]
    directory: Path

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return self.doc.get("resource", {}).get(type_, {})

    def data(self, type_: str) -> dict[str, dict[str, Any]]:
        return self.doc.get("data", {}).get(type_, {})

    def by_path(self, type_: str, path: str, data: bool = False) -> dict[str, Any]:
        """The block whose construct path is ``<stack>/<path>``."""
        blocks = self.data(type_) if data else self.resources(type_)
        full = f"{self.name}/{path}"
        found = [b for b in blocks.values() if b["//"]["metadata"]["path"] == full]
        assert len(found) == 1, f"{type_} at {full}: found {len(found)} in {sorted(blocks)}"
        return found[0]

    def deref(self, reference: str) -> dict[str, Any]:
        """The block a ``${type.name.attr}`` reference points at."""
        match = _REF.match(reference)
        assert match, f"not a reference: {reference!r}"
        is_data, type_, name, _ = match.groups()
        blocks = self.data(type_) if is_data else self.resources(type_)
        return blocks[name]

    def address(self, reference: str) -> str:
        match = _REF.match(reference)
        assert match, f"not a reference: {reference!r}"
        return f"{match.group(2)}.{match.group(3)}"

    def address_of(self, type_: str, path: str) -> str:
        full = f"{self.name}/{path}"
        for name, block in self.resources(type_).items():
            if block["//"]["metadata"]["path"] == full:
                return f"{type_}.{name}"
        raise AssertionError(f"no {type_} at {full}")

    def role_statements(self, role_path: str) -> dict[str, dict[str, Any]]:
        """The inline policy statements of the ServiceRole at ``role_path``, by sid."""
        policy = self.by_path("aws_iam_role_policy", f"{role_path}/inline")
        document = self.deref(policy["policy"])
        return {s["sid"]: s for s in document["statement"]}


def load_stacks(outdir: Path) -> dict[str, Stack]:
    stacks = {}
    for path in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        stacks[path.parent.name] = Stack(path.parent.name, json.loads(path.read_text()),
                                         path.parent)
    return stacks


def synthesize(
    factory: pytest.TempPathFactory, name: str, build: Callable[[Any], object]
) -> dict[str, Stack]:
    """One App built by ``build``, synthesized once into a temporary folder, read back."""
    from serverless_laravel.cdk import App

    outdir = factory.mktemp(name) / "cdktf.out"
    app = App(outdir=str(outdir))
    build(app)
    app.synth()
    return load_stacks(outdir)

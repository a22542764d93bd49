"""How long-running work reports progress without knowing who displays it (the CLI draws bars)."""

from __future__ import annotations

from typing import Protocol


class ProgressReporter(Protocol):
    """Receives progress in bytes, one phase (hashing, compressing, uploading) after another."""

    def phase(self, description: str, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...


class Silent:
    """The reporter used when nobody is watching."""

    def phase(self, description: str, total: int) -> None:
        """Ignore the phase."""

    def advance(self, amount: int) -> None:
        """Ignore the progress."""

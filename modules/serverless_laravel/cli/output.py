"""What every command shares: errors on stderr with an exit code, and a byte progress bar."""

from __future__ import annotations

from typing import Any, TypeVar

import typer

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def fail_with(error: BaseException | str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``error`` on stderr (markup escaped) and return the Exit to raise with ``code``."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
    return typer.Exit(code)


_Bar = TypeVar("_Bar", bound="OptionalBar")


class OptionalBar:
    """A rich ``Progress`` (``self._bar``, None when disabled) started and stopped as a context."""

    _bar: Any = None

    def __enter__(self: _Bar) -> _Bar:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()


class RichBytesProgress(OptionalBar):
    """A ProgressReporter drawing a rich bar per phase on stderr; does nothing when disabled."""

    def __init__(self, *, enabled: bool, transient: bool = True) -> None:
        self._bar: Any = None
        self._task: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(),
                DownloadColumn(binary_units=True), TransferSpeedColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), transient=transient,
            )

    def phase(self, description: str, total: int) -> None:
        """Start a new bar of ``total`` bytes."""
        if self._bar is not None:
            self._task = self._bar.add_task(description, total=total)

    def advance(self, amount: int) -> None:
        """Move the current bar forward by ``amount`` bytes."""
        if self._bar is not None:
            self._bar.advance(self._task, amount)

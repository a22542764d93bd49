"""What every command shares: the progress bar and the error line on stderr."""

from __future__ import annotations

import pytest
import typer

from serverless_laravel.cli.output import RichBytesProgress, fail_with


def test_progress_bar_draws_on_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    with RichBytesProgress(enabled=True, transient=False) as bar:
        bar.phase("Uploading", 2048)
        bar.advance(2048)
    captured = capsys.readouterr()
    assert "Uploading" in captured.err and captured.out == ""


def test_disabled_progress_bar_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with RichBytesProgress(enabled=False) as bar:
        bar.phase("Uploading", 10)
        bar.advance(10)
    assert capsys.readouterr() == ("", "")


def test_fail_with_prints_the_error_and_returns_the_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exit_ = fail_with(ValueError("bucket [x] is gone"), 1)
    assert isinstance(exit_, typer.Exit) and exit_.exit_code == 1
    assert "error: bucket [x] is gone" in capsys.readouterr().err

"""Where the example Laravel app lives, for every example stack."""

from pathlib import Path

LARAVEL_APP = Path(__file__).resolve().parent / "fixtures" / "laravel-app"

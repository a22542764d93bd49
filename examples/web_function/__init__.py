"""Example: one Bref web function (PHP-FPM) running the example Laravel app."""

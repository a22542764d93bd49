"""serverless-laravel's checkov policies: ``checkov --external-checks-dir <this folder>``.

Checkov loads the Python checks of a folder only when it holds an ``__init__.py``: this file.
See README.md and docs/policies.md.
"""

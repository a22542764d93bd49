"""The example Laravel app as a complete web deployment: one ``LaravelApp`` in us-east-1.

us-east-1 is where CloudFront web ACLs live, so the WAF rate limit is created in this stack.
The secret ARNs are placeholders: create the parameter and the secret, then put their ARNs here.
"""

from __future__ import annotations

from pathlib import Path

from constructs import Construct

from examples.paths import LARAVEL_APP
from serverless_laravel import LaravelApp, LaravelStack, SecretRef

REGION = "us-east-1"
APP_KEY_PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/example-laravel/app-key"
DB_PASSWORD_SECRET = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:example-laravel/db-password-Ab12Cd"
)


class ServerlessLaravelStack(LaravelStack):
    """CloudFront + WAF + HTTP API + web/console functions + storage for the example app."""

    def __init__(self, scope: Construct, id: str, *, app: Path = LARAVEL_APP) -> None:
        super().__init__(scope, id, region=REGION, tags={"Example": "serverless_laravel"})
        self.laravel = LaravelApp(
            self,
            "laravel",
            app=app,
            name="example-laravel",
            secrets={
                "APP_KEY": SecretRef.ssm(APP_KEY_PARAMETER),
                "DB_PASSWORD": SecretRef.secrets_manager(DB_PASSWORD_SECRET),
            },
            environment={"SESSION_DRIVER": "cookie", "CACHE_STORE": "array"},
            waf_rate_limit=2000,
            log_retention_days=30,
        )


def build(scope: Construct) -> list[LaravelStack]:
    """The stacks of this example."""
    return [ServerlessLaravelStack(scope, "serverless-laravel")]

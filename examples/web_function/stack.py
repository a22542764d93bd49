"""A single web ``PhpFunction`` on Bref 3 layers: the smallest deployable Laravel on Lambda."""

from __future__ import annotations

from pathlib import Path

from examples.paths import LARAVEL_APP
from serverless_laravel import LaravelStack, PhpFunction
from serverless_laravel.cdk import Construct, TerraformOutput


class WebFunctionStack(LaravelStack):
    """The example Laravel app as one web function in ``region``."""

    def __init__(
        self, scope: Construct, id: str, *, region: str = "eu-west-1", app: Path = LARAVEL_APP
    ) -> None:
        super().__init__(scope, id, region=region, tags={"Example": "web_function"})
        self.web = PhpFunction(
            self,
            "web",
            app=app,
            php_version="8.4",
            runtime="fpm",
            environment={"APP_ENV": "production", "LOG_CHANNEL": "stderr"},
        )
        TerraformOutput(self, "function_name", value=self.web.function.function_name)
        TerraformOutput(self, "function_arn", value=self.web.arn)
        TerraformOutput(self, "log_group", value=self.web.log_group.name)


def build(scope: Construct) -> list[LaravelStack]:
    """The stacks of this example."""
    return [WebFunctionStack(scope, "web-function")]

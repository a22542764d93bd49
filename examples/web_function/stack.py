"""A single web ``PhpFunction`` on Bref 3 layers: the smallest deployable Laravel on Lambda."""

from __future__ import annotations

from pathlib import Path

from examples.inputs import DEFAULT_OPTIONS, StackOptions
from examples.paths import LARAVEL_APP
from serverless_laravel import LaravelStack, PhpFunction
from serverless_laravel.cdk import Construct, TerraformOutput


class WebFunctionStack(LaravelStack):
    """The example Laravel app as one web function in ``region``."""

    def __init__(
        self, scope: Construct, id: str, *, region: str = "eu-west-1", app: Path = LARAVEL_APP,
        options: StackOptions = DEFAULT_OPTIONS,
    ) -> None:
        super().__init__(scope, id, region=region,
                         **options.stack_args(id, {"Example": "web_function"}))
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


def build(scope: Construct, options: StackOptions = DEFAULT_OPTIONS) -> list[LaravelStack]:
    """The stacks of this example."""
    return [WebFunctionStack(scope, "web-function", options=options)]

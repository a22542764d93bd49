"""What many tests share: paths, example ids and ARNs, and readers of synthesized functions."""

from __future__ import annotations

from pathlib import Path

from tests.synth import Stack

ROOT = Path(__file__).resolve().parents[1]
LARAVEL_APP = ROOT / "examples" / "fixtures" / "laravel-app"
BREF2_APP = ROOT / "tests" / "fixtures" / "bref2-app"
QUEUE_HANDLER = "Bref\\LaravelBridge\\Queue\\QueueHandler"
OCTANE_HANDLER = "Bref\\LaravelBridge\\Http\\OctaneHandler"
VPC_ID = "vpc-0a1b2c3d4e5f67890"
SUBNETS = ("subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788")
GROUPS = ("sg-0123456789abcdef0",)


class RecordingProgress:
    """A ProgressReporter that remembers every phase and the bytes reported in it."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, int, int]] = []

    def phase(self, description: str, total: int) -> None:
        self.phases.append((description, total, 0))

    def advance(self, amount: int) -> None:
        description, total, done = self.phases[-1]
        self.phases[-1] = (description, total, done + amount)


def image_uri(region: str) -> str:
    """An ECR image URI in ``region`` (account 123456789012)."""
    return f"123456789012.dkr.ecr.{region}.amazonaws.com/laravel:1.4.2"


def kms_key(region: str) -> str:
    """A KMS key ARN in ``region`` (account 111122223333)."""
    return f"arn:aws:kms:{region}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def ref(stack: Stack, type_: str, path: str, attribute: str) -> str:
    """The Terraform reference ``${type.name.attribute}`` to the resource at ``path``."""
    return f"${{{stack.address_of(type_, path)}.{attribute}}}"


def env(stack: Stack, path: str) -> dict[str, str]:
    """The environment variables of the PhpFunction at ``path``."""
    return stack.by_path("aws_lambda_function", f"{path}/function")["environment"]["variables"]

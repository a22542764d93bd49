"""``python main.py``: writes where the CLI asks (``CDKTF_OUTDIR``), and a configuration error
reaches the user as one message on stderr with exit code 2, not a jsii traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import main
from serverless_laravel import DatabaseProxy, LaravelStack, PhpFunction, VpcConfig
from serverless_laravel.cdk import Construct, implements_validation
from serverless_laravel.errors import ConfigurationError
from tests.helpers import LARAVEL_APP, SUBNETS, VPC_ID, image_uri

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbC123"
JSII_NOISE = ("Traceback", "jsii", "program.js", "skipValidation", "RuntimeError")

Example = Callable[[Construct], list[LaravelStack]]
RunMain = Callable[[Example], tuple[int, Path]]


def web_only(scope: Construct) -> list[LaravelStack]:
    """One small stack: a web function on the example app."""
    stack = LaravelStack(scope, "main-web", region="eu-west-1")
    PhpFunction(stack, "web", app=LARAVEL_APP)
    return [stack]


def uncapped_database_client(scope: Construct) -> list[LaravelStack]:
    """A stack the connection budget refuses at synth: a web function with no concurrency cap."""
    stack = LaravelStack(scope, "main-uncapped", region="eu-west-1")
    web = PhpFunction(stack, "web", image_uri=image_uri("eu-west-1"),
                      vpc=VpcConfig(SUBNETS, ("sg-0123456789abcdef0",)))
    proxy = DatabaseProxy(stack, "proxy", vpc_id=VPC_ID, subnet_ids=SUBNETS, engine="mysql",
                          db_instance_identifier="prod", database_name="app", username="app",
                          app_secret_arn=SECRET_ARN, max_connections=5000)
    proxy.wire(web)
    return [stack]


def bad_memory(scope: Construct) -> list[LaravelStack]:
    """A stack refused while it is built: memory below Lambda's minimum."""
    stack = LaravelStack(scope, "main-memory", region="eu-west-1")
    PhpFunction(stack, "web", image_uri=image_uri("eu-west-1"), memory_size=64)
    return [stack]


@implements_validation
class _RaisingValidation:
    """A synth-time check that raises the library's error instead of returning it."""

    def validate(self) -> list[str]:
        raise ConfigurationError("main-raising/web", "handler", "x.php", "must exist",
                                 "add x.php to the app")


def raising_validation(scope: Construct) -> list[LaravelStack]:
    """A stack whose synth-time check raises."""
    stack = LaravelStack(scope, "main-raising", region="eu-west-1")
    stack.node.add_validation(_RaisingValidation())
    return [stack]


def not_a_configuration_error(scope: Construct) -> list[LaravelStack]:
    """A bug in an example: main must not hide its traceback."""
    raise KeyError("a bug, not a configuration error")


@pytest.fixture
def run_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunMain:
    """Runs ``main.main()`` on one example, in an empty working directory, with
    ``CDKTF_OUTDIR`` set as the CLI sets it; its exit code and that directory."""

    def run(example: Example) -> tuple[int, Path]:
        outdir = tmp_path / "cli-out"
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("CDKTF_OUTDIR", str(outdir))
        monkeypatch.setattr(main, "EXAMPLES", {"example": example})
        return main.main(), outdir

    return run


def test_synthesizes_into_cdktf_outdir(
    run_main: RunMain, capsys: pytest.CaptureFixture[str]
) -> None:
    code, outdir = run_main(web_only)
    assert code == 0
    assert (outdir / "stacks" / "main-web" / "cdk.tf.json").is_file()
    assert not (outdir.parent / "cdktf.out").exists()
    assert "main-web" in capsys.readouterr().out


def test_outdir_defaults_to_cdktf_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDKTF_OUTDIR", raising=False)
    monkeypatch.setattr(main, "EXAMPLES", {})
    assert main.build_app().outdir == "cdktf.out"
    assert main.build_app("elsewhere").outdir == "elsewhere"


def test_budget_validation_is_one_message_and_exit_2(
    run_main: RunMain, capsys: pytest.CaptureFixture[str]
) -> None:
    code, outdir = run_main(uncapped_database_client)
    err = capsys.readouterr().err
    assert code == main.EXIT_CONFIGURATION_ERROR == 2
    assert err.startswith("main.py: cannot synthesize the examples:\n")
    assert "connection budget=" in err and "main-uncapped/proxy" in err
    assert "no concurrency cap" in err
    assert "Fix: set reserved_concurrency" in err
    assert [word for word in JSII_NOISE if word in err] == []
    assert not (outdir / "stacks" / "main-uncapped" / "cdk.tf.json").exists()


def test_error_raised_while_building_is_one_message(
    run_main: RunMain, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_main(bad_memory)
    err = capsys.readouterr().err
    assert code == 2
    assert "memory_size=64 is invalid" in err
    assert len(err.splitlines()) == 2


def test_error_raised_inside_a_validation_is_unwrapped(
    run_main: RunMain, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_main(raising_validation)
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines()[1] == ("main-raising/web: handler='x.php' is invalid: must exist. "
                                   "Fix: add x.php to the app")
    assert [word for word in JSII_NOISE if word in err] == []


def test_other_errors_keep_their_traceback(run_main: RunMain) -> None:
    with pytest.raises(KeyError, match="a bug"):
        run_main(not_a_configuration_error)


def test_configuration_message_ignores_unrelated_runtime_errors() -> None:
    assert main.configuration_message(RuntimeError("Error: something else broke")) is None


def test_every_failed_validation_is_listed_once() -> None:
    error = RuntimeError(
        "Error: Validation failed with the following errors:\n"
        "  [app/db] app/db: connection budget='9 > 4' is invalid: too many. Fix: cap it\n"
        "  [app] Found resources without a matching provider construct\n\n"
        "If you wish to ignore these validations, pass 'skipValidation: true' to your App "
        "configuration.\n"
    )
    assert main.configuration_message(error) == (
        "app/db: connection budget='9 > 4' is invalid: too many. Fix: cap it\n"
        "[app] Found resources without a matching provider construct"
    )

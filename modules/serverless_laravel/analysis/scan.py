"""Scan synthesized stacks with checkov: its built-in checks, the project's policies, and a
reviewed skip list whose every entry carries a written reason.

checkov runs as a subprocess (``python -m checkov.main``), one per stack and in parallel, with
``--framework terraform_json --skip-download`` and the skip list passed as ``--skip-check``, so
its own SARIF and JSON reflect exactly the reviewed state. checkov drops skipped checks without
a trace, so a second run per stack evaluates only the skipped ids: what each skip hides is
reported resource by resource, with its reason, and a skip that no longer hides anything is
reported as stale (the resources a skipped check passes on count as passed). No process here
touches the network or a checkov platform.

Exit codes (:attr:`ScanReport.exit_code`, and the CLI's): 0 no failure outside the skip list,
1 at least one, 2 bad input or configuration (:class:`ScanError`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

SCHEMA = "serverless-laravel/scan/1"
EXTRA = "scan"
CONFIG_NAME = ".checkov.yaml"
SKIP_KEY = "skip-check"
EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
MIN_REASON_WORDS = 3
"""A reason is a sentence, not a tag: at least this many words."""

SARIF_SCHEMA = ("https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/"
                "sarif-schema-2.1.0.json")
SYNTH_TIMEOUT_S = 1800
CHECKOV_TIMEOUT_S = 900
_CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
_ITEM = re.compile(r"^(?P<indent>\s*)-\s*(?P<value>[^\s#]+)\s*(?:#(?P<comment>.*))?$")
_COMMENT = re.compile(r"^(?P<indent>\s*)#(?P<comment>.*)$")
_TOP_KEY = re.compile(r"^[^\s#-][^:]*:")
# checkov reads credentials and settings from these: a scan must never reach a platform, and a
# user's CKV_* variables or ~/.checkov.yaml must not change what the reviewed config says.
_CHECKOV_ENV_PREFIXES = ("BC_", "CKV_", "PRISMA_", "CHECKOV_")


class ScanError(Exception):
    """Bad input or configuration: the scan cannot give an answer (exit code 2)."""


@dataclass(frozen=True)
class Skip:
    """One reviewed entry of the skip list: a check id and the reason written beside it."""

    check_id: str
    reason: str
    line: int


@dataclass(frozen=True, order=True)
class Finding:
    """One check result on one resource of one stack (``reason`` only on skipped results)."""

    check_id: str
    resource: str
    stack: str
    check_name: str
    construct_path: str
    file: str
    lines: tuple[int, int]
    guideline: str = ""
    reason: str = ""

    def to_json(self, *, with_reason: bool = False) -> dict[str, Any]:
        """This finding in the documented JSON shape."""
        out: dict[str, Any] = {
            "check_id": self.check_id, "check_name": self.check_name,
            "resource": self.resource, "construct_path": self.construct_path,
            "file": self.file, "lines": list(self.lines),
        }
        if self.guideline:
            out["guideline"] = self.guideline
        if with_reason:
            out["reason"] = self.reason
        return out


@dataclass
class StackResult:
    """What checkov found on one stack: passed, failed, and failed-but-skipped results."""

    name: str
    file: str
    passed: list[Finding] = field(default_factory=list)
    failed: list[Finding] = field(default_factory=list)
    skipped: list[Finding] = field(default_factory=list)
    sarif: dict[str, Any] = field(default_factory=dict)

    def checks(self) -> dict[str, dict[str, int]]:
        """``{check id: {"passed": n, "failed": n, "skipped": n}}`` over this stack's results."""
        counts: dict[str, dict[str, int]] = {}
        for outcome, findings in (("passed", self.passed), ("failed", self.failed),
                                  ("skipped", self.skipped)):
            for finding in findings:
                row = counts.setdefault(finding.check_id,
                                        {"passed": 0, "failed": 0, "skipped": 0})
                row[outcome] += 1
        return dict(sorted(counts.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "file": self.file,
            "passed": len(self.passed), "failed": len(self.failed), "skipped": len(self.skipped),
            "failures": [f.to_json() for f in sorted(self.failed)],
            "skipped_findings": [f.to_json(with_reason=True) for f in sorted(self.skipped)],
            "checks": self.checks(),
        }


@dataclass
class ScanReport:
    """Every scanned stack, the skip list applied, and what checkov and the policies were."""

    checkov_version: str
    policies: str
    config: str
    skips: tuple[Skip, ...]
    stacks: list[StackResult]

    @property
    def failures(self) -> list[Finding]:
        return sorted(f for s in self.stacks for f in s.failed)

    @property
    def stale_skips(self) -> list[str]:
        """Skipped ids that hide no failure on any scanned stack: candidates for removal."""
        hit = {f.check_id for s in self.stacks for f in s.skipped}
        return sorted({s.check_id for s in self.skips} - hit)

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.failures else EXIT_OK

    def totals(self) -> dict[str, int]:
        return {key: sum(len(getattr(s, key)) for s in self.stacks)
                for key in ("passed", "failed", "skipped")}

    def to_json(self) -> dict[str, Any]:
        """The documented, stable JSON shape (docs/scan.md); sorted, no timestamps."""
        return {
            "schema": SCHEMA,
            "checkov_version": self.checkov_version,
            "policies": self.policies,
            "config": self.config,
            "exit_code": self.exit_code,
            "totals": self.totals(),
            "stacks": [s.to_json() for s in sorted(self.stacks, key=lambda s: s.name)],
            "skips": [{"check_id": s.check_id, "reason": s.reason,
                       "hits": sum(f.check_id == s.check_id for st in self.stacks
                                   for f in st.skipped)}
                      for s in sorted(self.skips, key=lambda s: s.check_id)],
            "stale_skips": self.stale_skips,
        }


# --- the reviewed skip list --------------------------------------------------------------


def parse_skip_config(text: str, source: str = CONFIG_NAME) -> tuple[Skip, ...]:
    """The ``skip-check`` entries of a checkov config, each with the reason commented beside it.

    An entry is ``- CKV_AWS_117  # reason``; comment lines right below it, indented past its
    dash, continue the reason. Only ``skip-check`` is read (other keys would change checkov's
    behaviour unseen by the review), ids must be exact (no wildcard, no severity), and every id
    needs a reason of at least ``MIN_REASON_WORDS`` words.
    """
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScanError(f"{source}: not valid YAML: {error}") from error
    if doc is None:
        return ()
    if not isinstance(doc, dict):
        raise ScanError(f"{source}: expected a mapping with a '{SKIP_KEY}' list")
    unknown = sorted(set(doc) - {SKIP_KEY})
    if unknown:
        raise ScanError(f"{source}: only '{SKIP_KEY}' is read by the scan; remove {unknown} "
                        "(settings outside the reviewed skip list would change checkov unseen)")
    listed = doc.get(SKIP_KEY) or []
    if not isinstance(listed, list) or not all(isinstance(i, str) for i in listed):
        raise ScanError(f"{source}: '{SKIP_KEY}' must be a list of check ids, one per line")
    skips = _skips_with_reasons(text)
    if [s.check_id for s in skips] != listed:
        raise ScanError(f"{source}: write '{SKIP_KEY}' as a block list, one '- ID  # reason' "
                        "per line")
    _check_entries(skips, source)
    return tuple(skips)


def _skips_with_reasons(text: str) -> list[Skip]:
    """Entries of the ``skip-check`` block list with their comments joined into a reason."""
    skips: list[Skip] = []
    inside = False
    dash = -1
    for number, line in enumerate(text.splitlines(), 1):
        if _TOP_KEY.match(line):
            inside = line.split(":", 1)[0].strip() == SKIP_KEY
            continue
        if not inside:
            continue
        item, comment = _ITEM.match(line), _COMMENT.match(line)
        if item:
            dash = len(item.group("indent"))
            value = item.group("value").strip("'\"")
            skips.append(Skip(value, (item.group("comment") or "").strip(), number))
        elif comment and skips and len(comment.group("indent")) > dash:
            last = skips[-1]
            reason = f"{last.reason} {comment.group('comment').strip()}".strip()
            skips[-1] = Skip(last.check_id, reason, last.line)
        elif line.strip():
            dash = len(line) + 1  # a comment at the list's own indent ends the reason above
    return skips


def _check_entries(skips: Sequence[Skip], source: str) -> None:
    seen: set[str] = set()
    for skip in skips:
        where = f"{source}:{skip.line}: {skip.check_id}"
        if not _CHECK_ID.match(skip.check_id):
            raise ScanError(f"{where} is not an exact check id such as CKV_AWS_117 (wildcards "
                            "and severities would skip checks nobody reviewed)")
        if skip.check_id in seen:
            raise ScanError(f"{where} is listed twice")
        if len(skip.reason.split()) < MIN_REASON_WORDS:
            raise ScanError(f"{where} is skipped without a reason: write why beside it, "
                            f"'- {skip.check_id}  # what the construct does instead, which "
                            "prop opts into the stricter setting, and what that costs'")
        seen.add(skip.check_id)


def load_skips(path: Path | None) -> tuple[Skip, ...]:
    """The reviewed skip list at ``path``; none when ``path`` is None."""
    if path is None:
        return ()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScanError(f"cannot read the skip list {path}: {error.strerror}") from error
    return parse_skip_config(text, str(path))


# --- inputs: checkov, the policies, the stacks --------------------------------------------


def require_checkov() -> None:
    """Raise a ScanError naming the extra to install when checkov cannot be imported."""
    if find_spec("checkov") is None:
        raise ScanError("checkov is not installed: install the scan extra, "
                        f"pip install 'serverless-laravel[{EXTRA}]'")


def checkov_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("checkov")
    except PackageNotFoundError:
        return "unknown"


def default_policies_dir() -> Path:
    """The repository's ``policies/`` in a checkout, else the copy shipped in the wheel."""
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").is_file() and (checkout / "policies").is_dir():
        return checkout / "policies"
    shipped = resources.files("serverless_laravel") / "policies"
    if shipped.is_dir():
        return Path(str(shipped))
    raise ScanError("the project's checkov policies are missing (neither a checkout's policies/ "
                    "nor the wheel's serverless_laravel/policies/): pass --policies DIR")


def synthesize_app(app: Path, outdir: Path) -> Path:
    """Run the CDK app (``python main.py``) with ``CDKTF_OUTDIR=outdir``; the outdir."""
    if not app.is_file():
        raise ScanError(f"no {app.name} in {app.parent.resolve()}: run the scan from the app's "
                        "directory, pass --app FILE, or scan a synthesized --dir cdktf.out")
    env = {**os.environ, "CDKTF_OUTDIR": str(outdir)}
    result = subprocess.run([sys.executable, app.name], cwd=app.parent, env=env,
                            capture_output=True, text=True, timeout=SYNTH_TIMEOUT_S)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-30:])
        raise ScanError(f"synthesizing {app} failed (exit {result.returncode}):\n{tail}")
    return outdir


def find_stacks(outdir: Path, only: Iterable[str] = ()) -> dict[str, Path]:
    """``{stack name: cdk.tf.json}`` under ``outdir/stacks``, limited to ``only`` when given."""
    found = {p.parent.name: p for p in sorted(outdir.glob("stacks/*/cdk.tf.json"))}
    if not found:
        raise ScanError(f"no stacks in {outdir} (expected stacks/<name>/cdk.tf.json): "
                        "synthesize first, or point --dir at a cdktf.out folder")
    wanted = list(dict.fromkeys(only))
    missing = [name for name in wanted if name not in found]
    if missing:
        raise ScanError(f"no stack named {missing} in {outdir}; stacks: {sorted(found)}")
    return {name: found[name] for name in wanted} if wanted else found


# --- running checkov ----------------------------------------------------------------------


def _checkov_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CHECKOV_ENV_PREFIXES)}
    env["HOME"] = str(home)
    return env


def _run_checkov(stack_json: Path, policies: Path, out: Path, *, skip: Sequence[str] = (),
                 only: Sequence[str] = ()) -> dict[str, Any]:
    """checkov over one stack file; its JSON report (the SARIF is left in ``out``)."""
    out.mkdir(parents=True)
    command = [sys.executable, "-m", "checkov.main", "--file", stack_json.name,
               "--framework", "terraform_json", "--skip-download",
               "--external-checks-dir", str(policies.resolve()),
               "--output", "json", "--output", "sarif", "--output-file-path", str(out)]
    if skip:
        command += ["--skip-check", ",".join(skip)]
    if only:
        command += ["--check", ",".join(only)]
    result = subprocess.run(command, cwd=stack_json.parent, env=_checkov_env(out),
                            capture_output=True, text=True, timeout=CHECKOV_TIMEOUT_S)
    report = out / "results_json.json"
    if result.returncode not in (0, 1) or not report.is_file():
        tail = "\n".join(result.stderr.strip().splitlines()[-30:])
        raise ScanError(f"checkov failed on {stack_json} (exit {result.returncode}):\n{tail}")
    data = json.loads(report.read_text())
    reports = data if isinstance(data, list) else [data]
    errors = [e for r in reports for e in r.get("results", {}).get("parsing_errors", [])]
    if errors:
        raise ScanError(f"checkov could not parse {stack_json}: {errors}")
    return {"results": {key: [rec for r in reports for rec in r.get("results", {}).get(key, [])]
                        for key in ("passed_checks", "failed_checks")}}


def _block_index(doc: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """``{logical name: (Terraform address, construct path)}`` of every resource and data block."""
    index: dict[str, tuple[str, str]] = {}
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for type_, blocks in doc.get(kind, {}).items():
            for name, block in blocks.items():
                path = block.get("//", {}).get("metadata", {}).get("path", "")
                index.setdefault(name, (f"{prefix}{type_}.{name}", path))
    return index


def _finding(record: Mapping[str, Any], stack: str, file: str,
             index: Mapping[str, tuple[str, str]], reason: str = "") -> Finding:
    """A checkov record as a Finding, its resource named by Terraform address and construct."""
    raw = str(record.get("resource", ""))
    address, path = index.get(raw.rsplit(".", 1)[-1], (raw, ""))
    start, end = [*(record.get("file_line_range") or ()), 0, 0][:2]
    return Finding(check_id=record["check_id"], resource=address, stack=stack,
                   check_name=record.get("check_name") or "", construct_path=path, file=file,
                   lines=(int(start), int(end)), guideline=record.get("guideline") or "",
                   reason=reason)


def scan_stacks(stacks: Mapping[str, Path], *, policies: Path, skips: Sequence[Skip] = (),
                display_dir: str = "cdktf.out", config: str = "",
                workers: int | None = None) -> ScanReport:
    """Run checkov on every stack file (in parallel) and sort its results by the skip list.

    ``display_dir`` names the synthesized folder in findings and in the SARIF (``cdktf.out``
    when the scan synthesized into a temporary folder).
    """
    require_checkov()
    if not policies.is_dir():
        raise ScanError(f"the policies folder {policies} does not exist")
    ids = [s.check_id for s in skips]
    reasons = {s.check_id: s.reason for s in skips}
    with tempfile.TemporaryDirectory(prefix="serverless-laravel-scan-") as tmp:
        jobs = [(name, mode) for name in sorted(stacks) for mode in ("scan", "skipped")
                if mode == "scan" or ids]

        def run(job: tuple[str, str]) -> dict[str, Any]:
            name, mode = job
            out = Path(tmp) / name / mode
            if mode == "scan":
                return _run_checkov(stacks[name], policies, out, skip=ids)
            return _run_checkov(stacks[name], policies, out, only=ids)

        pool = ThreadPoolExecutor(max_workers=workers or min(len(jobs), os.cpu_count() or 1))
        with pool:
            raw = dict(zip(jobs, pool.map(run, jobs), strict=True))
        results = []
        for name in sorted(stacks):
            file = f"{display_dir}/stacks/{name}/cdk.tf.json"
            index = _block_index(json.loads(stacks[name].read_text()))
            scan = raw[(name, "scan")]["results"]
            hidden = raw.get((name, "skipped"), {"results": {}})["results"]
            sarif = json.loads((Path(tmp) / name / "scan" / "results_sarif.sarif").read_text())
            results.append(StackResult(
                name=name, file=file,
                passed=sorted(_finding(r, name, file, index) for r in
                              [*scan["passed_checks"], *hidden.get("passed_checks", [])]),
                failed=sorted(_finding(r, name, file, index) for r in scan["failed_checks"]),
                skipped=sorted(_finding(r, name, file, index, reasons.get(r["check_id"], ""))
                               for r in hidden.get("failed_checks", [])),
                sarif=sarif,
            ))
    return ScanReport(checkov_version=checkov_version(), policies=_display(policies),
                      config=config, skips=tuple(skips), stacks=results)


def _display(path: Path) -> str:
    """``path`` relative to the current directory when under it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(resolved)


# --- SARIF and JUnit ----------------------------------------------------------------------


def sarif(report: ScanReport) -> dict[str, Any]:
    """checkov's per-stack SARIF merged into one 2.1.0 run (one run per tool, as GitHub wants).

    Skipped checks are absent (checkov never ran them); each result names its stack file and,
    as a logical location, the Terraform address and construct path of the resource.
    """
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    driver: dict[str, Any] = {"name": "Checkov", "version": report.checkov_version}
    for stack in sorted(report.stacks, key=lambda s: s.name):
        by_location = {(f.check_id, f.lines[0]): f for f in stack.failed}
        for run in stack.sarif.get("runs", []):
            tool = run.get("tool", {}).get("driver", {})
            driver.update({k: tool[k] for k in ("name", "version", "informationUri") if k in tool})
            for rule in tool.get("rules", []):
                help_text = rule.get("help", {}).get("text", "").split("\nResource:", 1)[0]
                rules.setdefault(rule["id"], {**rule, "help": {"text": help_text}})
            for result in run.get("results", []):
                results.append(_sarif_result(result, stack, by_location))
    ordered = sorted(rules)
    for result in results:
        result["ruleIndex"] = ordered.index(result["ruleId"])
    results.sort(key=lambda r: (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                                r["ruleId"], r["locations"][0]["physicalLocation"]
                                .get("region", {}).get("startLine", 0)))
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {**driver, "rules": [rules[r] for r in ordered]}},
                  "results": results}],
    }


def _sarif_result(result: dict[str, Any], stack: StackResult,
                  by_location: Mapping[tuple[str, int], Finding]) -> dict[str, Any]:
    out = {k: v for k, v in result.items() if k != "attachments"}
    locations = []
    for location in out.get("locations", []):
        physical = dict(location.get("physicalLocation", {}))
        physical["artifactLocation"] = {"uri": stack.file}
        locations.append({**location, "physicalLocation": physical})
    out["locations"] = locations or [
        {"physicalLocation": {"artifactLocation": {"uri": stack.file}}}]
    start = out["locations"][0]["physicalLocation"].get("region", {}).get("startLine", 0)
    finding = by_location.get((out.get("ruleId", ""), start))
    if finding is not None:
        out["locations"][0]["logicalLocations"] = [{
            "name": finding.resource, "fullyQualifiedName": finding.construct_path,
            "kind": "resource"}]
        text = out.get("message", {}).get("text", finding.check_name)
        out["message"] = {"text": f"{text} ({finding.resource}, construct "
                                  f"{finding.construct_path or '?'})"}
    return out


def write_sarif(report: ScanReport, path: Path) -> None:
    path.write_text(json.dumps(sarif(report), indent=2, sort_keys=True) + "\n")


def junit(report: ScanReport) -> ElementTree.Element:
    """A JUnit XML tree: one suite per stack, one case per check and resource; skipped cases
    carry the reviewed reason."""
    totals = report.totals()
    root = ElementTree.Element("testsuites", name="serverless-laravel scan",
                               tests=str(sum(totals.values())), failures=str(totals["failed"]),
                               skipped=str(totals["skipped"]), errors="0")
    for stack in sorted(report.stacks, key=lambda s: s.name):
        suite = ElementTree.SubElement(
            root, "testsuite", name=stack.name,
            tests=str(len(stack.passed) + len(stack.failed) + len(stack.skipped)),
            failures=str(len(stack.failed)), skipped=str(len(stack.skipped)), errors="0")
        rows = [(f, "passed") for f in stack.passed] + [(f, "failed") for f in stack.failed] \
            + [(f, "skipped") for f in stack.skipped]
        for finding, outcome in sorted(rows, key=lambda r: (r[0].check_id, r[0].resource)):
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"{stack.name}.{finding.resource}",
                name=f"[{finding.check_id}] {finding.check_name}", file=finding.file)
            if outcome == "failed":
                failure = ElementTree.SubElement(case, "failure", type=finding.check_id,
                                                 message=finding.check_name)
                failure.text = (f"resource {finding.resource}\nconstruct "
                                f"{finding.construct_path}\nfile {finding.file}:"
                                f"{finding.lines[0]}-{finding.lines[1]}"
                                + (f"\nguideline {finding.guideline}" if finding.guideline else ""))
            elif outcome == "skipped":
                ElementTree.SubElement(case, "skipped", message=finding.reason)
    return root


def write_junit(report: ScanReport, path: Path) -> None:
    tree = ElementTree.ElementTree(junit(report))
    ElementTree.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)

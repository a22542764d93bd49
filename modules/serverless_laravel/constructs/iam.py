"""IAM built from policy documents: statements, and a service role that grows by ``grant_*`` calls.

Policies are ``aws_iam_policy_document`` data sources, never JSON strings, so checkov reads them
fully; actions are never wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .. import cdk
from ..cdk import Construct
from ..checks import check_choice
from ..errors import config_error

_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")
_DOCUMENT = "data_aws_iam_policy_document"
_NESTED_BLOCKS = {
    "principals": "DataAwsIamPolicyDocumentStatementPrincipals",
    "not_principals": "DataAwsIamPolicyDocumentStatementNotPrincipals",
    "condition": "DataAwsIamPolicyDocumentStatementCondition",
}


def statement_struct(block: Mapping[str, Any]) -> Any:
    """A policy-document statement as a typed struct, nested blocks included, so that no key
    (``not_actions``, ``not_principals``...) is dropped on its way to Terraform."""
    fields = {
        key: [cdk.struct(_DOCUMENT, _NESTED_BLOCKS[key], **item) for item in value]
        if key in _NESTED_BLOCKS else value
        for key, value in block.items()
    }
    return cdk.struct(_DOCUMENT, "DataAwsIamPolicyDocumentStatement", **fields)


def deny_insecure_transport(action: str, resources: Sequence[str]) -> dict[str, Any]:
    """A Deny of ``action`` (e.g. ``s3:*``) to everyone over plain HTTP: the one wildcard allowed,
    because it only ever takes access away."""
    return {
        "sid": "DenyInsecureTransport",
        "effect": "Deny",
        "actions": [action],
        "resources": list(resources),
        "principals": [{"type": "*", "identifiers": ["*"]}],
        "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
    }


def policy_document(scope: Construct, id: str, blocks: Sequence[Mapping[str, Any]]) -> Any:
    """An ``aws_iam_policy_document`` data source (evaluated locally, read fully by checkov)."""
    return cdk.aws(_DOCUMENT).DataAwsIamPolicyDocument(
        scope, id, statement=[statement_struct(b) for b in blocks]
    )


@dataclass(frozen=True)
class Condition:
    """One IAM condition: ``test`` (e.g. ``StringEquals``) on ``variable`` against ``values``."""

    test: str
    variable: str
    values: tuple[str, ...]

    def to_block(self) -> dict[str, object]:
        return {"test": self.test, "variable": self.variable,
                "values": cdk.expand_lists(self.values)}


@dataclass(frozen=True)
class PolicyStatement:
    """A statement with explicit actions; ``resources=("*",)`` only where AWS requires it (or in
    a Deny). ``effect`` is ``Allow`` (grants) or ``Deny`` (guard rails such as the ENI deny)."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    effect: str = "Allow"

    def __post_init__(self) -> None:
        check_choice("PolicyStatement", "effect", self.effect, ("Allow", "Deny"))
        if not re.fullmatch(r"[A-Za-z0-9]+", self.sid):
            raise config_error(
                "PolicyStatement", "sid", self.sid, "must be alphanumeric", "e.g. 'SendToQueue'"
            )
        bad = [a for a in self.actions if not _ACTION.match(a)]
        if not self.actions or bad:
            raise config_error(
                "PolicyStatement",
                "actions",
                list(self.actions),
                "must name at least one action as service:Action, without '*' wildcards",
                "list the exact actions, e.g. 'sqs:SendMessage'",
            )
        if not self.resources:
            raise config_error(
                "PolicyStatement", "resources", [], "must name at least one resource",
                "pass the ARNs the actions apply to",
            )

    def to_block(self) -> dict[str, object]:
        block: dict[str, object] = {
            "sid": self.sid,
            "effect": self.effect,
            "actions": sorted(self.actions),
            "resources": cdk.expand_lists(self.resources),
        }
        if self.conditions:
            block["condition"] = [c.to_block() for c in self.conditions]
        return block


def sid_for(action: str, construct_id: str) -> str:
    """A statement id such as ``InvokeQueueWorker`` from an action word and a construct id."""
    words = re.split(r"[^A-Za-z0-9]+", construct_id)
    return action + "".join(w[:1].upper() + w[1:] for w in words)


def grant_sid(action: str, construct: Construct) -> str:
    """The statement id of a grant by ``construct``: unique in its stack, so two constructs with
    the same id in different scopes never collide in one role."""
    return sid_for(action, cdk.relative_path(construct))


class Grantable(Protocol):
    """Anything whose role can receive statements (functions, task roles, schedules).

    ``role_arn`` names that role in resource policies that admit only known principals (the
    jobs queue accepts messages only from its producers and its worker).
    """

    def add_to_role_policy(self, statement: PolicyStatement) -> None: ...

    @property
    def role_arn(self) -> str: ...


class ServiceRole(Construct):
    """An IAM role assumable by one AWS service, with one inline policy built from statements.

    ``federated`` (an OIDC provider's ARN) instead of ``service`` makes it a web-identity role
    (``sts:AssumeRoleWithWebIdentity``), e.g. for GitHub Actions; its ``trust_conditions`` must
    then pin the token's audience and subject.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        service: str | None = None,
        statements: Sequence[PolicyStatement],
        name_prefix: str | None = None,
        permissions_boundary: str | None = None,
        trust_conditions: Sequence[Condition] = (),
        federated: str | None = None,
        max_session_duration: int | None = None,
    ) -> None:
        """``trust_conditions`` narrow who may pass the service the role (``aws:SourceAccount``,
        ``aws:SourceArn``): the guard against the confused deputy."""
        if (service is None) == (federated is None):
            raise config_error("ServiceRole", "service", service,
                               "exactly one of service and federated must be given",
                               "pass service='lambda.amazonaws.com' or federated=<provider ARN>",
                               kind="principal")
        super().__init__(scope, id)
        self._statements: dict[str, PolicyStatement] = {}
        trust: dict[str, object] = {
            "sid": "AssumedByService",
            "effect": "Allow",
            "actions": ["sts:AssumeRole"],
            "principals": [{"type": "Service", "identifiers": [service]}],
        }
        if federated is not None:
            trust.update(sid="AssumedByWebIdentity", actions=["sts:AssumeRoleWithWebIdentity"],
                         principals=[{"type": "Federated", "identifiers": [federated]}])
        if trust_conditions:
            trust["condition"] = [c.to_block() for c in trust_conditions]
        assume = policy_document(self, "assume", [trust])
        self.role = cdk.aws("iam_role").IamRole(
            self,
            "role",
            name_prefix=name_prefix,
            assume_role_policy=assume.json,
            permissions_boundary=permissions_boundary,
            max_session_duration=max_session_duration,
        )
        self._document = policy_document(self, "policy", [])
        self.policy = cdk.aws("iam_role_policy").IamRolePolicy(
            self, "inline", role=self.role.id, name="least-privilege", policy=self._document.json
        )
        for statement in statements:
            self.add(statement)

    @property
    def arn(self) -> str:
        return self.role.arn

    @property
    def name(self) -> str:
        return self.role.name

    @property
    def statements(self) -> list[PolicyStatement]:
        return list(self._statements.values())

    def add(self, statement: PolicyStatement) -> None:
        """Add a statement; a repeated ``sid`` must carry the same statement (idempotent grants)."""
        existing = self._statements.get(statement.sid)
        if existing is not None and existing != statement:
            raise config_error(
                "ServiceRole",
                "statement.sid",
                statement.sid,
                "is already used by a different statement in this role: two grants of the same "
                "kind from one construct asked for different access",
                "grant once per construct and resource, or use separate constructs",
            )
        self._statements[statement.sid] = statement
        self._document.put_statement(
            [statement_struct(s.to_block()) for s in self._statements.values()]
        )

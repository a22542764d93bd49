"""``PublicLoadBalancer``: the internet-facing Application Load Balancer of the Fargate baseline.

HTTPS only (HTTP answers with a permanent redirect), a TLS 1.3/1.2 policy, invalid headers
dropped, access logs to a private bucket, deletion protection, security headers, optionally a
WAF web ACL with the same rules as the serverless stack's CloudFront one. Its security group is
the one place the project opens to the world: 443 and 80, from 0.0.0.0/0 (and ::/0 on a
dual-stack load balancer), and it may only reach the targets it forwards to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ... import cdk
from ...cdk import Construct
from ...checks import (
    SUBNET_ID,
    check_bool,
    check_choice,
    check_int,
    check_optional_bool,
    check_vpc_id,
)
from ...errors import config_error
from ..assets import WAF_RATE_RANGE
from ..buckets import PrivateBucket
from ..function_options import LOG_RETENTION_DAYS
from ..http_api import check_certificate
from ..naming import resource_name
from ..network import Connections, PrivateSecurityGroup
from ..stack import is_ephemeral, region_of
from ..waf import logged_web_acl
from ..wiring import account_of

WHERE = "PublicLoadBalancer"
# TLS 1.3 + 1.2 policies, strongest first. The default is the one the ELB console uses and AWS
# recommends (restricted ciphers, hybrid post-quantum key exchange); all but the last are in
# Security Hub's ELB.17 list. ELBSecurityPolicy-TLS13-1-2-2021-06 adds TLS 1.2 CBC ciphers for
# old clients. TLS 1.0/1.1 policies are refused.
TLS_POLICIES: tuple[str, ...] = (
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
)
IP_ADDRESS_TYPES = ("ipv4", "dualstack")
# ALB access logs: the log delivery service principal AWS recommends in every Region (the
# per-Region ELB account is the legacy form), writing under <prefix>/AWSLogs/<account id>/.
ELB_LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"
ACCESS_LOG_PREFIX = "alb"
LOG_BUCKET_PREFIX = "laravel-alb-logs-"
HSTS = "max-age=31536000"
WORLD = {"cidr_ipv4": "0.0.0.0/0"}
WORLD_V6 = {"cidr_ipv6": "::/0"}
_REGIONAL_WEB_ACL = re.compile(
    r"^arn:aws[a-z-]*:wafv2:([a-z0-9-]+):\d{12}:regional/webacl/[\w-]+/[0-9a-f-]+$")


def _check_public_subnets(subnet_ids: object) -> tuple[str, ...]:
    """Two or more distinct public subnets (a load balancer spans at least two AZs)."""
    ids = tuple(subnet_ids) if isinstance(subnet_ids, (list, tuple)) else ()
    if cdk.is_list_token(ids):
        return ids  # a variable: Terraform checks its length and shape
    bad = [i for i in ids if not cdk.is_token(i) and not SUBNET_ID.match(str(i))]
    if len(ids) < 2 or bad or len(set(ids)) != len(ids):
        raise config_error(
            WHERE, "subnet_ids", subnet_ids,
            "must list at least 2 distinct subnet ids shaped like 'subnet-0123456789abcdef0'",
            "pass the public subnets (with a route to an internet gateway) of 2 or more "
            "Availability Zones", kind="shape")
    return ids


def _check_waf(waf_rate_limit: int | None, web_acl_arn: str | None, region: str) -> None:
    """A rate limit creates a REGIONAL web ACL; an existing one must be REGIONAL, here."""
    if waf_rate_limit is not None and web_acl_arn is not None:
        raise config_error(WHERE, "waf_rate_limit", waf_rate_limit,
                           "is ignored when web_acl_arn is given",
                           "put the rate-based rule in that web ACL, or drop web_acl_arn",
                           kind="conflict")
    if waf_rate_limit is not None:
        check_int(WHERE, "waf_rate_limit", waf_rate_limit, *WAF_RATE_RANGE, "pass e.g. 2000",
                  unit="requests per 5 minutes per IP", why="AWS WAF's range")
    if web_acl_arn is None or cdk.is_token(web_acl_arn):
        return
    match = _REGIONAL_WEB_ACL.match(str(web_acl_arn))
    if not match or match.group(1) != region:
        raise config_error(
            WHERE, "web_acl_arn", web_acl_arn,
            f"must be the ARN of a WAFv2 web ACL with scope REGIONAL in {region}",
            f"pass arn:aws:wafv2:{region}:<account>:regional/webacl/<name>/<id>", kind="shape")



class PublicLoadBalancer(Construct):
    """An internet-facing ALB terminating TLS for one web service (``WebService``).

    Props: ``vpc_id``; ``subnet_ids`` (2+ public subnets); ``certificate_arn`` (ACM, this
    Region); ``ssl_policy`` (one of ``TLS_POLICIES``, default
    ``ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09``); ``deletion_protection`` (default on, off
    in an ephemeral stack); ``idle_timeout`` (1..4,000 s, default 60); ``ip_address_type``
    (``ipv4`` or ``dualstack``); ``access_log_retention_days`` (1..3,650, default 90);
    ``security_headers`` (HSTS, nosniff, frame options; default on); ``waf_rate_limit``
    (requests per 5 minutes per IP: a REGIONAL web ACL with AWS managed rule groups, logged) or
    ``web_acl_arn`` (an existing REGIONAL one); ``waf_log_retention_days`` (default 30);
    ``force_destroy`` (the log bucket; default: only in an ephemeral stack).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc_id: str,
        subnet_ids: Sequence[str],
        certificate_arn: str,
        ssl_policy: str = TLS_POLICIES[0],
        deletion_protection: bool | None = None,
        idle_timeout: int = 60,
        ip_address_type: str = "ipv4",
        access_log_retention_days: int = 90,
        security_headers: bool = True,
        waf_rate_limit: int | None = None,
        web_acl_arn: str | None = None,
        waf_log_retention_days: int = 30,
        force_destroy: bool | None = None,
    ) -> None:
        self.region = region_of(scope, None, WHERE)
        check_vpc_id(WHERE, vpc_id)
        subnets = _check_public_subnets(subnet_ids)
        if certificate_arn is None:
            raise config_error(WHERE, "certificate_arn", None,
                               "is required: the load balancer serves HTTPS only",
                               "request or import a certificate in ACM in this Region and "
                               "pass its ARN", kind="missing")
        check_certificate(WHERE, "certificate_arn", certificate_arn, self.region,
                          "Application Load Balancers")
        check_choice(WHERE, "ssl_policy", ssl_policy, TLS_POLICIES)
        check_choice(WHERE, "ip_address_type", ip_address_type, IP_ADDRESS_TYPES)
        check_int(WHERE, "idle_timeout", idle_timeout, 1, 4000, "pass e.g. 60", unit="seconds")
        check_int(WHERE, "access_log_retention_days", access_log_retention_days, 1, 3650,
                  "pass e.g. 90", unit="days")
        check_bool(WHERE, "security_headers", security_headers)
        for prop, flag in (("deletion_protection", deletion_protection),
                           ("force_destroy", force_destroy)):
            check_optional_bool(WHERE, prop, flag)
        if deletion_protection is None:
            deletion_protection = not is_ephemeral(scope)
        _check_waf(waf_rate_limit, web_acl_arn, self.region)
        if waf_log_retention_days not in LOG_RETENTION_DAYS:
            raise config_error(WHERE, "waf_log_retention_days", waf_log_retention_days,
                               f"must be one of CloudWatch's values {list(LOG_RETENTION_DAYS)}",
                               "pick the nearest allowed value, e.g. 30", kind="choice")

        super().__init__(scope, id)
        self.name = resource_name(self, "", 32)
        self.security_group = PrivateSecurityGroup(
            self, "security-group", vpc_id=vpc_id,
            description="Public ALB: HTTPS, and HTTP that only redirects, from the internet",
        )
        self._open_to_the_world(ip_address_type == "dualstack")
        self.connections = Connections("the load balancer", owned=self.security_group,
                                       default_ports=(443,))
        self.access_logs = self._access_log_bucket(access_log_retention_days, force_destroy)
        self.load_balancer = cdk.aws("lb").Lb(
            self, "load-balancer", name=self.name, internal=False,
            load_balancer_type="application", security_groups=[self.security_group.group_id],
            subnets=list(subnets), ip_address_type=ip_address_type,
            drop_invalid_header_fields=True, enable_deletion_protection=deletion_protection,
            idle_timeout=idle_timeout, desync_mitigation_mode="defensive",
            access_logs={"bucket": self.access_logs.name, "prefix": ACCESS_LOG_PREFIX,
                         "enabled": True},
            depends_on=[self.access_logs.node.find_child("policy")],
        )
        self.http_listener = self._redirect_listener()
        self.https_listener = self._https_listener(certificate_arn, ssl_policy, security_headers)
        self._target: Any = None
        self.web_acl: Any = None
        if waf_rate_limit is not None:
            self.web_acl = self._web_acl(waf_rate_limit, waf_log_retention_days)
        acl_arn = web_acl_arn if self.web_acl is None else self.web_acl.arn
        if acl_arn is not None:
            cdk.aws("wafv2_web_acl_association").Wafv2WebAclAssociation(
                self, "web-acl-association", resource_arn=self.load_balancer.arn,
                web_acl_arn=acl_arn)

    def _open_to_the_world(self, ipv6: bool) -> None:
        """443 and 80 from any address: the only world-open rules the project creates."""
        rule = cdk.aws("vpc_security_group_ingress_rule").VpcSecurityGroupIngressRule
        sources = [("ipv4", WORLD)] + ([("ipv6", WORLD_V6)] if ipv6 else [])
        for family, source in sources:
            for port, what in ((443, "HTTPS"), (80, "HTTP, redirected to HTTPS")):
                rule(self, f"ingress-{family}-{port}",
                     security_group_id=self.security_group.group_id, ip_protocol="tcp",
                     from_port=port, to_port=port, description=f"{what} from the internet",
                     **source)

    def _access_log_bucket(self, days: int, force_destroy: bool | None) -> PrivateBucket:
        """A private bucket ELB writes to as its log delivery service, under this account's
        prefix only; SSE-S3, the one encryption ELB access logs support."""
        bucket = PrivateBucket(self, "access-logs", bucket_prefix=LOG_BUCKET_PREFIX,
                               versioned=True, expire_after_days=days,
                               force_destroy=force_destroy)
        account = account_of(self.security_group.group.arn)
        bucket.add_to_resource_policy({
            "sid": "ElbAccessLogDelivery",
            "effect": "Allow",
            "actions": ["s3:PutObject"],
            "resources": [f"{bucket.arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account}/*"],
            "principals": [{"type": "Service", "identifiers": [ELB_LOG_DELIVERY]}],
        })
        return bucket

    def _redirect_listener(self) -> Any:
        """Port 80 answers every request with a permanent redirect to HTTPS, nothing else."""
        module = "lb_listener"
        return cdk.aws(module).LbListener(
            self, "http", load_balancer_arn=self.load_balancer.arn, port=80, protocol="HTTP",
            default_action=[cdk.struct(module, "LbListenerDefaultAction", type="redirect",
                                       redirect={"port": "443", "protocol": "HTTPS",
                                                 "status_code": "HTTP_301"})],
        )

    def _https_listener(self, certificate_arn: str, ssl_policy: str, headers: bool) -> Any:
        """TLS terminates here; until a service is attached, every request gets a 503."""
        module = "lb_listener"
        extra = {
            "routing_http_response_strict_transport_security_header_value": HSTS,
            "routing_http_response_x_content_type_options_header_value": "nosniff",
            "routing_http_response_x_frame_options_header_value": "SAMEORIGIN",
        } if headers else {}
        return cdk.aws(module).LbListener(
            self, "https", load_balancer_arn=self.load_balancer.arn, port=443,
            protocol="HTTPS", ssl_policy=ssl_policy, certificate_arn=certificate_arn,
            default_action=[cdk.struct(module, "LbListenerDefaultAction", type="fixed-response",
                                       fixed_response={"content_type": "text/plain",
                                                       "status_code": "503",
                                                       "message_body": "No service"})],
            **extra,
        )

    @property
    def target(self) -> Any:
        """The web service this load balancer forwards to, once one is attached."""
        return self._target

    def forward_to(self, target: Any, target_group: Any, port: int) -> None:
        """Send every HTTPS request to ``target_group``; the load balancer may reach
        ``target``'s security group on ``port`` and nothing else."""
        if self._target is not None:
            raise config_error(
                WHERE, "target", target.node.id,
                f"the load balancer already forwards to {self._target.node.id}",
                "give each web service its own PublicLoadBalancer", kind="taken")
        self._target = target
        self.https_listener.put_default_action([cdk.struct(
            "lb_listener", "LbListenerDefaultAction", type="forward",
            target_group_arn=target_group.arn)])
        target.connections.allow_from(self, port, "the load balancer to the web tasks")
        for group in target.connections.source_groups(WHERE):
            self.security_group.allow_to_group(group, port, "to the web tasks only")

    @property
    def arn_suffix(self) -> str:
        return self.load_balancer.arn_suffix

    @property
    def dns_name(self) -> str:
        return self.load_balancer.dns_name

    def _web_acl(self, limit: int, log_retention_days: int) -> Any:
        """A REGIONAL web ACL (a per-IP rate limit, AWS managed rule groups), logged."""
        name = resource_name(self, "", 128)
        web_acl, _ = logged_web_acl(self, name=name, metric=name, kind="REGIONAL", limit=limit,
                                    managed_rules=True, log_retention_days=log_retention_days)
        return web_acl

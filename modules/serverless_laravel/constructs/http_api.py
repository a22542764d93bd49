"""``HttpApi``: an API Gateway HTTP API in front of a web ``PhpFunction``.

One Lambda proxy integration (payload 2.0) behind the ``$default`` route and an auto-deployed
``$default`` stage with JSON access logs and default-route throttling; optionally a custom
domain (regional, TLS 1.2) with Route 53 alias records, and CORS. Every prop is checked before
any resource is created.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .. import cdk
from ..cdk import Construct
from ..checks import check_bool, check_int
from ..errors import config_error
from .function_options import LOG_RETENTION_DAYS
from .origin_verify import OriginVerifyAuthorizer
from .php_function import PhpFunction, default_function_name
from .stack import region_of

WHERE = "HttpApi"

# API Gateway's default account-level throttle quota per Region: 10,000 requests per second
# with a burst of 5,000; a stage limit above it is never reached.
MAX_RATE_LIMIT = 10_000
MAX_BURST_LIMIT = 5_000
# HTTP APIs end an integration after 30 s (not adjustable); the function must stop first.
MAX_INTEGRATION_TIMEOUT = 30
MAX_WEB_TIMEOUT = MAX_INTEGRATION_TIMEOUT - 1
MAX_CORS_AGE = 86_400
OCTANE_SUFFIX = "OctaneHandler"
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "domainName": "$context.domainName",
}, separators=(",", ":"))
ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$")
DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
# API Gateway takes up to 128 characters; the name also goes into the access log group's name
# (/aws/apigateway/<name>/access), which CloudWatch Logs limits to these characters.
MAX_API_NAME = 128
API_NAME = re.compile(r"^[A-Za-z0-9_\-./#]{1,128}$")
_ORIGIN = re.compile(r"^https?://[^\s/]+$")


def check_api_name(where: str, name: object) -> None:
    """An HTTP API name that also fits in its access log group's name."""
    if not isinstance(name, str) or not API_NAME.match(name):
        raise config_error(
            where, "name", name,
            f"must be 1..{MAX_API_NAME} characters (API Gateway's limit) of letters, digits "
            "and '_-./#' (it names the access log group too)",
            "pass e.g. 'shop-web', or leave it out for <stack>-<path>",
        )


@dataclass(frozen=True)
class Cors:
    """The CORS answer API Gateway gives browsers (preflight included) for every route."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ("*",)
    allow_headers: tuple[str, ...] = ("*",)
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int = 0

    def __post_init__(self) -> None:
        for field in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
            object.__setattr__(self, field, tuple(getattr(self, field)))
        bad = [o for o in self.allow_origins if o != "*" and not _ORIGIN.match(o)]
        if not self.allow_origins or bad:
            raise config_error(
                "Cors", "allow_origins", list(self.allow_origins),
                "must list '*' or origins shaped like 'https://app.example.com' (no path)",
                "pass the exact origins of the front ends calling the API",
            )
        check_bool("Cors", "allow_credentials", self.allow_credentials)
        if self.allow_credentials and "*" in self.allow_origins:
            raise config_error(
                "Cors", "allow_credentials", True,
                "browsers refuse credentialed responses to allow_origins '*'",
                "list the exact origins, or set allow_credentials=False",
            )
        if isinstance(self.max_age, bool) or not isinstance(self.max_age, int) \
                or not 0 <= self.max_age <= MAX_CORS_AGE:
            raise config_error(
                "Cors", "max_age", self.max_age, f"must be 0..{MAX_CORS_AGE} seconds",
                "pass e.g. 600",
            )

    def to_block(self) -> dict[str, object]:
        """The ``cors_configuration`` block of the API."""
        return {
            "allow_origins": list(self.allow_origins),
            "allow_methods": list(self.allow_methods),
            "allow_headers": list(self.allow_headers),
            "expose_headers": list(self.expose_headers),
            "allow_credentials": self.allow_credentials,
            "max_age": self.max_age,
        }


def check_web_function(where: str, prop: str, runtime: str, handler: str, timeout: int) -> None:
    """A function behind the HTTP API: FPM or Octane, stopping before the 30 s integration limit."""
    octane = runtime == "function" and handler.endswith(OCTANE_SUFFIX)
    if runtime != "fpm" and not octane:
        raise config_error(
            where, f"{prop}.runtime", runtime,
            "an HTTP API needs a web function: runtime 'fpm', or runtime 'function' with "
            "Bref's Octane handler (Bref\\LaravelBridge\\Http\\OctaneHandler)",
            "pass a PhpFunction built with runtime='fpm'",
        )
    if timeout > MAX_WEB_TIMEOUT:
        raise config_error(
            where, f"{prop}.timeout", timeout,
            f"HTTP APIs end integrations after {MAX_INTEGRATION_TIMEOUT} s, so a web function "
            f"must time out by {MAX_WEB_TIMEOUT} s to answer with its own error",
            "use timeout=28 (Bref's default) and move long work to a queue worker",
        )


def check_throttling(where: str, burst: object, rate: object) -> None:
    """Default-route throttling within API Gateway's account-level quotas."""
    check_int(where, "throttling_burst_limit", burst, 1, MAX_BURST_LIMIT, "pass e.g. 1000",
              why="the account-level burst quota")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) \
            or not 0 < rate <= MAX_RATE_LIMIT:
        raise config_error(
            where, "throttling_rate_limit", rate,
            f"must be a number of requests per second above 0 and at most {MAX_RATE_LIMIT} "
            "(the account-level throttle quota)",
            "pass e.g. 500.0",
        )


def check_certificate(
    where: str, prop: str, certificate_arn: str | None, region: str, purpose: str
) -> None:
    """An ACM certificate ARN in ``region`` (literal ARNs only; tokens are trusted)."""
    if certificate_arn is None or cdk.is_token(certificate_arn):
        return
    match = ACM_ARN.match(str(certificate_arn))
    if not match:
        raise config_error(where, prop, certificate_arn, "must be an ACM certificate ARN",
                           "pass arn:aws:acm:<region>:<account>:certificate/<id>", kind="shape")
    if match.group(1) != region:
        raise config_error(
            where, prop, certificate_arn,
            f"{purpose} need a certificate issued in {region}, not {match.group(1)}",
            f"request or import the certificate in ACM in {region}", kind="region",
        )


def check_domain(where: str, prop: str, domain: str) -> None:
    """A DNS name as ACM, API Gateway and CloudFront expect it (tokens are trusted)."""
    if not cdk.is_token(domain) and not DOMAIN_NAME.match(str(domain)):
        raise config_error(where, prop, domain, "must be a lowercase DNS name",
                           "pass e.g. 'app.example.com'", kind="shape")


def check_hosted_zone(where: str, hosted_zone_id: str | None, has_domain: bool) -> None:
    """A Route 53 zone id, only where there is a domain to put records for."""
    if hosted_zone_id is None:
        return
    if not has_domain:
        raise config_error(
            where, "hosted_zone_id", hosted_zone_id,
            "alias records need a custom domain", "pass domain_name= too", kind="requires_domain",
        )
    if not cdk.is_token(hosted_zone_id) and not HOSTED_ZONE_ID.match(hosted_zone_id):
        raise config_error(
            where, "hosted_zone_id", hosted_zone_id,
            "must be a Route 53 hosted zone id", "pass e.g. 'Z0123456ABCDEFG'", kind="shape",
        )


def check_retention(where: str, days: int) -> None:
    """A retention CloudWatch Logs accepts (it refuses other day counts)."""
    if days not in LOG_RETENTION_DAYS:
        raise config_error(where, "log_retention_days", days,
                           f"must be one of CloudWatch's values {list(LOG_RETENTION_DAYS)}",
                           "pick the nearest allowed value, e.g. 30")


def alias_records(
    scope: Construct, zone_id: str, name: str, target: str, target_zone: str
) -> list[object]:
    """Route 53 A and AAAA alias records pointing ``name`` at an AWS-managed endpoint."""
    record = cdk.aws("route53_record").Route53Record
    alias = {"name": target, "zone_id": target_zone, "evaluate_target_health": False}
    return [record(scope, f"alias-{kind.lower()}", zone_id=zone_id, name=name, type=kind,
                   alias=alias) for kind in ("A", "AAAA")]


class HttpApi(Construct):
    """The public HTTPS entry of a Laravel web function: API Gateway HTTP API, stage and logs."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: PhpFunction,
        throttling_burst_limit: int = 1000,
        throttling_rate_limit: float = 500.0,
        log_retention_days: int = 30,
        domain_name: str | None = None,
        certificate_arn: str | None = None,
        hosted_zone_id: str | None = None,
        disable_execute_api_endpoint: bool = False,
        cors: Cors | None = None,
        name: str | None = None,
    ) -> None:
        region = region_of(scope, None, "HttpApi")
        if not isinstance(function, PhpFunction):
            raise config_error(WHERE, "function", function, "must be a PhpFunction",
                               "pass the web PhpFunction (runtime='fpm')")
        check_web_function("HttpApi", "function", function.runtime, function.handler,
                           function.timeout)
        check_throttling("HttpApi", throttling_burst_limit, throttling_rate_limit)
        check_retention("HttpApi", log_retention_days)
        check_bool("HttpApi", "disable_execute_api_endpoint", disable_execute_api_endpoint)
        if name is not None:
            check_api_name("HttpApi", name)
        self._check_domain(domain_name, certificate_arn, hosted_zone_id,
                           disable_execute_api_endpoint, region)
        if cors is not None and not isinstance(cors, Cors):
            raise config_error(
                WHERE, "cors", cors, "must be a Cors(...)", "pass Cors(allow_origins=[...])",
            )

        super().__init__(scope, id)
        self.domain_name = domain_name
        self.origin_authorizer: OriginVerifyAuthorizer | None = None
        self._log_retention_days = log_retention_days
        try:
            self._build(function, name, log_retention_days, disable_execute_api_endpoint, cors,
                        (throttling_burst_limit, throttling_rate_limit))
            if domain_name is not None and certificate_arn is not None:
                self._custom_domain(domain_name, certificate_arn, hosted_zone_id)
        except Exception:
            scope.node.try_remove_child(id)
            raise

    def _build(self, function: PhpFunction, name: str | None, log_retention_days: int,
               disable_execute_api_endpoint: bool, cors: Cors | None,
               throttling: tuple[int, float]) -> None:
        """Access log group, API, integration, route, stage and the invoke permission."""
        throttling_burst_limit, throttling_rate_limit = throttling
        self.function = function
        stack = cdk.TerraformStack.of(self)
        self.name = name or default_function_name(stack.node.id, self.node.path[
            len(stack.node.path) + 1:])
        self.log_group = cdk.aws("cloudwatch_log_group").CloudwatchLogGroup(
            self, "access-logs", name=f"/aws/apigateway/{self.name}/access",
            retention_in_days=log_retention_days,
        )
        self.api = cdk.aws("apigatewayv2_api").Apigatewayv2Api(
            self, "api", name=self.name, protocol_type="HTTP",
            description="Laravel web entry (serverless-laravel)",
            disable_execute_api_endpoint=disable_execute_api_endpoint,
            cors_configuration=cors.to_block() if cors else None,
        )
        self.integration = cdk.aws("apigatewayv2_integration").Apigatewayv2Integration(
            self, "integration", api_id=self.api.id, integration_type="AWS_PROXY",
            integration_method="POST", integration_uri=function.invoke_arn,
            payload_format_version="2.0",
            timeout_milliseconds=min(function.timeout + 1, MAX_INTEGRATION_TIMEOUT) * 1000,
        )
        self.route = cdk.aws("apigatewayv2_route").Apigatewayv2Route(
            self, "default-route", api_id=self.api.id, route_key="$default",
            target=f"integrations/{self.integration.id}",
        )
        self.stage = cdk.aws("apigatewayv2_stage").Apigatewayv2Stage(
            self, "stage", api_id=self.api.id, name="$default", auto_deploy=True,
            access_log_settings={"destination_arn": self.log_group.arn,
                                 "format": ACCESS_LOG_FORMAT},
            default_route_settings={"throttling_burst_limit": throttling_burst_limit,
                                    "throttling_rate_limit": throttling_rate_limit},
        )
        self.permission = cdk.aws("lambda_permission").LambdaPermission(
            self, "invoke-permission",
            statement_id=re.sub(r"[^A-Za-z0-9_-]", "-", f"AllowHttpApi-{self.name}")[:100],
            action="lambda:InvokeFunction", function_name=function.function.function_name,
            qualifier=function.alias.name,
            principal="apigateway.amazonaws.com", source_arn=f"{self.api.execution_arn}/*/*",
        )

    def require_origin_header(self, header: str, parameter_name: str, parameter_arn: str,
                              cache_seconds: int = 300) -> OriginVerifyAuthorizer:
        """Refuse, before the function runs, every request whose ``header`` does not hold the
        value of the SSM SecureString ``parameter_name`` (a Lambda REQUEST authorizer)."""
        if self.origin_authorizer is not None:
            raise config_error(
                WHERE, "origin header", header,
                f"{self.node.path} already requires an origin header",
                "put one Assets (one CloudFront distribution) in front of an HttpApi",
                kind="duplicate",
            )
        self.origin_authorizer = OriginVerifyAuthorizer(
            self, "origin-verify", api_id=self.api.id, execution_arn=self.api.execution_arn,
            header=header, parameter_name=parameter_name, parameter_arn=parameter_arn,
            cache_seconds=cache_seconds, log_retention_days=self._log_retention_days,
        )
        self.route.authorization_type = "CUSTOM"
        self.route.authorizer_id = self.origin_authorizer.authorizer_id
        return self.origin_authorizer

    @staticmethod
    def _check_domain(
        domain_name: str | None, certificate_arn: str | None, hosted_zone_id: str | None,
        disable_execute_api_endpoint: bool, region: str,
    ) -> None:
        """A custom domain needs a certificate in the API's region; the rest needs the domain."""
        if domain_name is not None:
            check_domain("HttpApi", "domain_name", domain_name)
            if certificate_arn is None:
                raise config_error(
                    WHERE, "certificate_arn", None,
                    "a custom domain needs an ACM certificate covering it",
                    f"pass certificate_arn= of a certificate for {domain_name!r} "
                    f"issued in ACM in {region}",
                )
        elif certificate_arn is not None:
            raise config_error(
                WHERE, "domain_name", None, "certificate_arn is only used with a custom domain",
                "pass domain_name= too, or drop certificate_arn",
            )
        check_certificate("HttpApi", "certificate_arn", certificate_arn, region,
                          "regional API Gateway custom domains")
        check_hosted_zone("HttpApi", hosted_zone_id, domain_name is not None)
        if disable_execute_api_endpoint and domain_name is None:
            raise config_error(
                WHERE, "disable_execute_api_endpoint", True,
                "without a custom domain the API would have no reachable endpoint",
                "pass domain_name= and certificate_arn=, or leave it False",
            )

    def _custom_domain(self, domain: str, certificate_arn: str, zone_id: str | None) -> None:
        """Regional custom domain (TLS 1.2), mapped to the stage, with optional alias records."""
        self.custom_domain = cdk.aws("apigatewayv2_domain_name").Apigatewayv2DomainName(
            self, "domain", domain_name=domain,
            domain_name_configuration={"certificate_arn": certificate_arn,
                                       "endpoint_type": "REGIONAL",
                                       "security_policy": "TLS_1_2"},
        )
        self.api_mapping = cdk.aws("apigatewayv2_api_mapping").Apigatewayv2ApiMapping(
            self, "mapping", api_id=self.api.id, domain_name=self.custom_domain.id,
            stage=self.stage.id,
        )
        if zone_id is not None:
            config = self.custom_domain.domain_name_configuration
            self.records = alias_records(self, zone_id, domain, config.target_domain_name,
                                         config.hosted_zone_id)

    @property
    def api_id(self) -> str:
        return self.api.id

    @property
    def execution_arn(self) -> str:
        return self.api.execution_arn

    @property
    def api_endpoint(self) -> str:
        return self.api.api_endpoint

    @property
    def url(self) -> str:
        """``https://<custom domain>`` when one is set, else the execute-api endpoint."""
        return f"https://{self.domain_name}" if self.domain_name else self.api.api_endpoint

    @property
    def origin_domain(self) -> str:
        """The host name a CDN reaches the API on (no scheme): custom domain or execute-api."""
        if self.domain_name:
            return self.domain_name
        return cdk.Fn.replace(self.api.api_endpoint, "https://", "")


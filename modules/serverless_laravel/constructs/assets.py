"""``Assets``: a CloudFront distribution serving the app's static files from a private bucket
and everything else from the HTTP API, with an optional WAF rate limit.

The bucket is read only by this distribution (origin access control, SigV4 always; the bucket
policy names the distribution's ARN). Dynamic responses are never cached. Requests to the API
carry an ``X-Origin-Verify`` header whose value Terraform generates (kept in an SSM
SecureString); a Lambda authorizer on the API's route refuses requests without it, so nothing
reaches PHP that bypassed CloudFront and its WAF. Every prop is checked before any resource is
created.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from .. import cdk
from ..cdk import Construct
from ..checks import check_bool, check_bucket_prefix, check_int, check_optional_bool
from ..errors import SecurityWarning, config_error
from .buckets import PrivateBucket
from .http_api import (
    HttpApi,
    alias_records,
    check_certificate,
    check_domain,
    check_hosted_zone,
    check_retention,
)
from .php_function import default_function_name
from .secret_refs import generated_secret
from .stack import region_of
from .waf import logged_web_acl

WHERE = "Assets"

DEFAULT_STATIC_PATHS: tuple[str, ...] = (
    "/build/*", "/css/*", "/js/*", "/images/*", "/favicon.ico", "/robots.txt",
)

PRICE_CLASSES: tuple[str, ...] = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
# AWS-managed CloudFront policies, by id.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# CloudFront's default quota of cache behaviours per distribution, the default one included.
MAX_CACHE_BEHAVIORS = 25
# AWS WAF rate-based rules: the lowest limit AWS accepts, and the API's upper bound.
WAF_RATE_RANGE = (10, 2_000_000_000)
CLOUDFRONT_REGION = "us-east-1"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
S3_ORIGIN = "assets-bucket"
API_ORIGIN = "http-api"
# CloudFront's limits on a distribution's (and a function's) comment and a path pattern.
MAX_COMMENT = 128
MAX_PATH_PATTERN = 255
# S3 bucket names: lowercase letters, digits and hyphens, starting with a letter or digit; S3
# appends 26 characters to a prefix, so a prefix is at most 37 (PrivateBucket's rule, checked
# here before anything is created). Names may not start with these reserved prefixes.
# Origin verification: CloudFront adds this header, with a value Terraform generates and keeps
# in an SSM SecureString, to every request it sends to the API; a Lambda REQUEST authorizer on
# the API's route (OriginVerifyAuthorizer) refuses requests without it before PHP runs, so the
# execute-api endpoint cannot be used to bypass CloudFront and its WAF.
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
# API Gateway must see its own host, so the viewer's host travels as X-Forwarded-Host (set here,
# overwriting any the viewer sent). Laravel must not trust it for URLs: see docs/request-flow.md.
FORWARD_HOST_CODE = """function handler(event) {
  var request = event.request;
  request.headers['x-forwarded-host'] = { value: request.headers.host.value };
  return request;
}
"""
HSTS_MAX_AGE = 31_536_000
# The static page CloudFront shows instead of a 503 (`serverless-laravel down`, or Lambda out of
# capacity), read from the bucket; the error is cached this many seconds, so `up` shows soon.
MAINTENANCE_PAGE_PATH = "/maintenance.html"
MAINTENANCE_ERROR_TTL = 10
_PATH = re.compile(r"^/[A-Za-z0-9_\-.*/+~@$&=]*$")
_WEB_ACL_ARN = re.compile(
    r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[\w-]+/[0-9a-f-]+$"
)


def check_static_paths(where: str, static_paths: Sequence[str]) -> tuple[str, ...]:
    """Path patterns for the bucket: each starts with '/', distinct, within CloudFront's quota."""
    paths = tuple(static_paths)
    for path in paths:
        if not isinstance(path, str) or not _PATH.match(path):
            raise config_error(
                where, "static_paths", path,
                "each path pattern must start with '/' and use URL path characters",
                f"write it as '/{str(path).lstrip('/')}'", kind="shape",
            )
        if len(path) > MAX_PATH_PATTERN:
            raise config_error(
                where, "static_paths", path,
                f"CloudFront path patterns are at most {MAX_PATH_PATTERN} characters",
                "use a shorter pattern with a wildcard, e.g. '/build/*'", kind="length",
            )
    if len(set(paths)) != len(paths) or len(paths) >= MAX_CACHE_BEHAVIORS:
        raise config_error(
            where, "static_paths", list(paths),
            f"must be distinct and fewer than {MAX_CACHE_BEHAVIORS} (CloudFront's cache "
            "behaviour quota, the default behaviour included)",
            "merge paths under a common prefix such as '/build/*'", kind="count",
        )
    return paths


def with_maintenance_page(static_paths: Sequence[str], enabled: bool) -> tuple[str, ...]:
    """The static paths plus the maintenance page's own (served from the bucket) when enabled."""
    paths = tuple(static_paths)
    if not enabled or MAINTENANCE_PAGE_PATH in paths:
        return paths
    return (*paths, MAINTENANCE_PAGE_PATH)


def check_waf(
    where: str, waf_rate_limit: int | None, web_acl_arn: str | None, region: str
) -> None:
    """A rate limit creates a CLOUDFRONT web ACL, which AWS keeps in us-east-1 only."""
    if waf_rate_limit is not None and web_acl_arn is not None:
        raise config_error(
            where, "waf_rate_limit", waf_rate_limit,
            "is ignored when web_acl_arn is given",
            "put the rate-based rule in that web ACL, or drop web_acl_arn", kind="conflict",
        )
    if web_acl_arn is not None and not cdk.is_token(web_acl_arn) \
            and not _WEB_ACL_ARN.match(web_acl_arn):
        raise config_error(
            where, "web_acl_arn", web_acl_arn,
            "must be the ARN of a WAFv2 web ACL with scope CLOUDFRONT (in us-east-1)",
            "pass arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>",
        )
    if waf_rate_limit is None:
        return
    low, high = WAF_RATE_RANGE
    check_int(where, "waf_rate_limit", waf_rate_limit, low, high, "pass e.g. 2000",
              unit="requests per 5 minutes per IP", why="AWS WAF's range")
    if region != CLOUDFRONT_REGION:
        raise config_error(
            where, "waf_rate_limit", waf_rate_limit,
            f"creates a CloudFront web ACL, which AWS WAF keeps in {CLOUDFRONT_REGION}; this "
            f"stack deploys to {region}",
            f"deploy this stack to {CLOUDFRONT_REGION}, or create the web ACL (scope "
            f"CLOUDFRONT) in a {CLOUDFRONT_REGION} stack and pass its ARN as web_acl_arn=",
            kind="region",
        )


def check_distribution(
    where: str, *, price_class: str, domain_names: Sequence[str], certificate_arn: str | None,
    hosted_zone_id: str | None,
) -> tuple[str, ...]:
    """Price class, and aliases that come with a us-east-1 certificate (and vice versa)."""
    if price_class not in PRICE_CLASSES:
        raise config_error(where, "price_class", price_class,
                           f"must be one of {list(PRICE_CLASSES)}", "pass 'PriceClass_100'")
    aliases = tuple(domain_names)
    for alias in aliases:
        check_domain(where, "domain_names", alias)
    if aliases and certificate_arn is None:
        raise config_error(
            where, "certificate_arn", None, "custom domains on CloudFront need a certificate",
            f"pass certificate_arn= of an ACM certificate in {CLOUDFRONT_REGION} covering "
            f"{list(aliases)}",
        )
    if certificate_arn is not None and not aliases:
        raise config_error(where, "domain_names", [],
                           "a certificate is only used with custom domains",
                           "pass domain_names= too, or drop certificate_arn")
    check_certificate(where, "certificate_arn", certificate_arn, CLOUDFRONT_REGION,
                      "CloudFront distributions")
    check_hosted_zone(where, hosted_zone_id, bool(aliases))
    return aliases



def _warn_about(path: str, certificate_arn: str | None, waf_rate_limit: int | None,
                web_acl_arn: str | None) -> None:
    """Warn where the distribution runs with defaults a reviewer would question."""
    if certificate_arn is None:
        warnings.warn(
            f"{path}: the distribution uses CloudFront's *.cloudfront.net certificate, which "
            "lets viewers negotiate TLS 1.0; pass domain_names= and certificate_arn= (an ACM "
            "certificate in us-east-1) to get TLSv1.2_2021", SecurityWarning, stacklevel=3)
    if waf_rate_limit is None and web_acl_arn is None:
        warnings.warn(
            f"{path}: no WAF in front of the app; pass waf_rate_limit= (a web ACL with AWS "
            "managed rules, built in us-east-1) or web_acl_arn=", SecurityWarning, stacklevel=3)


@dataclass(frozen=True)
class _Options:
    """The hardening switches of one distribution."""

    waf_managed_rules: bool
    access_logs: bool
    security_headers: bool
    log_retention_days: int
    maintenance_page: bool = True


class Assets(Construct):
    """CloudFront in front of the app: static paths from a private bucket, the rest from the API."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api: HttpApi,
        static_paths: Sequence[str] = DEFAULT_STATIC_PATHS,
        price_class: str = "PriceClass_100",
        domain_names: Sequence[str] = (),
        certificate_arn: str | None = None,
        hosted_zone_id: str | None = None,
        waf_rate_limit: int | None = None,
        web_acl_arn: str | None = None,
        bucket_prefix: str = "laravel-assets-",
        force_destroy: bool | None = None,
        set_asset_url: bool = True,
        verify_origin: bool = True,
        waf_managed_rules: bool = True,
        access_logs: bool = True,
        security_headers: bool = True,
        log_retention_days: int = 30,
        maintenance_page: bool = True,
    ) -> None:
        region = region_of(scope, None, "Assets")
        check_bool("Assets", "maintenance_page", maintenance_page)
        paths = check_static_paths("Assets", with_maintenance_page(static_paths, maintenance_page))
        aliases = check_distribution("Assets", price_class=price_class, domain_names=domain_names,
                                     certificate_arn=certificate_arn,
                                     hosted_zone_id=hosted_zone_id)
        check_waf("Assets", waf_rate_limit, web_acl_arn, region)
        check_bucket_prefix("Assets", bucket_prefix)
        check_optional_bool("Assets", "force_destroy", force_destroy)
        for prop, flag in (("set_asset_url", set_asset_url), ("verify_origin", verify_origin),
                           ("waf_managed_rules", waf_managed_rules),
                           ("access_logs", access_logs), ("security_headers", security_headers)):
            check_bool("Assets", prop, flag)
        check_retention("Assets", log_retention_days)
        if not isinstance(api, HttpApi):
            raise config_error(
                WHERE, "api", api, "must be an HttpApi", "pass the HttpApi of the web function",
            )
        if verify_origin and api.origin_authorizer is not None:
            raise config_error(
                WHERE, "verify_origin", True,
                f"{api.node.path} already requires an origin header (another Assets fronts "
                "the same HttpApi)",
                "put one Assets in front of an HttpApi, or pass verify_origin=False",
                kind="duplicate",
            )

        super().__init__(scope, id)
        self._options = _Options(waf_managed_rules, access_logs, security_headers,
                                 log_retention_days, maintenance_page)
        try:
            self._build(api, paths, aliases, price_class, certificate_arn, hosted_zone_id,
                        waf_rate_limit, web_acl_arn, bucket_prefix, force_destroy, verify_origin)
            # Only now, with the whole distribution built, touch the API and its function; the
            # authorizer last, as it is the one step that cannot fail half-way.
            if set_asset_url:
                api.function.add_environment("ASSET_URL", self.url)
            if verify_origin:
                api.require_origin_header(ORIGIN_VERIFY_HEADER, self.origin_secret_name,
                                          self.origin_secret.arn)
        except Exception:
            scope.node.try_remove_child(id)
            raise
        _warn_about(self.node.path, certificate_arn, waf_rate_limit, web_acl_arn)

    def _build(
        self, api: HttpApi, paths: tuple[str, ...], aliases: tuple[str, ...], price_class: str,
        certificate_arn: str | None, hosted_zone_id: str | None, waf_rate_limit: int | None,
        web_acl_arn: str | None, bucket_prefix: str, force_destroy: bool, verify_origin: bool,
    ) -> None:
        """Bucket, origin access control, host function, origin secret, ACL, distribution."""
        stack = cdk.TerraformStack.of(self)
        self._name = default_function_name(stack.node.id, self.node.path[len(stack.node.path) + 1:])
        self.aliases = aliases
        self.bucket = PrivateBucket(self, "bucket", bucket_prefix=bucket_prefix,
                                    force_destroy=force_destroy)
        self.origin_access_control = cdk.aws(
            "cloudfront_origin_access_control").CloudfrontOriginAccessControl(
            self, "oac", name=self._name, description="Assets bucket, read by CloudFront only",
            origin_access_control_origin_type="s3", signing_behavior="always",
            signing_protocol="sigv4",
        )
        self.forward_host = cdk.aws("cloudfront_function").CloudfrontFunction(
            self, "forward-host", name=f"{self._name[:51]}-forward-host",
            runtime="cloudfront-js-2.0", publish=True, code=FORWARD_HOST_CODE,
            comment="Copies the viewer's Host into X-Forwarded-Host",
        )
        self.origin_secret = self._origin_secret() if verify_origin else None
        acl_arn = web_acl_arn if waf_rate_limit is None else self._web_acl(waf_rate_limit).arn
        self.log_bucket = self._log_bucket(force_destroy) if self._options.access_logs else None
        self.headers_policy = self._headers_policy() if self._options.security_headers else None
        self.distribution = self._distribution(api, paths, price_class, certificate_arn, acl_arn)
        self.bucket.add_to_resource_policy(self._read_by_distribution())
        if hosted_zone_id is not None:
            self.records = [
                record for alias in aliases
                for record in alias_records(
                    Construct(self, f"dns-{alias}"), hosted_zone_id, alias,
                    self.distribution.domain_name, self.distribution.hosted_zone_id)
            ]

    def _origin_secret(self) -> object:
        """The origin-verification value: 256 random bits Terraform generates once.

        ``uuid()`` (crypto/rand, no API call, no extra provider) is evaluated at the first apply
        and ``ignore_changes`` keeps that value; it lives in the Terraform state (and in the
        distribution's configuration), never in the synthesized JSON. Rotate it with
        ``terraform apply -replace=<this parameter's address>``.
        """
        self.origin_secret_name = f"/serverless-laravel/{self._name}/origin-verify"
        return cdk.aws("ssm_parameter").SsmParameter(
            self, "origin-secret", name=self.origin_secret_name, type="SecureString",
            tier="Standard",
            description=f"{ORIGIN_VERIFY_HEADER} value CloudFront sends to the API "
                        "(serverless-laravel)",
            value=generated_secret(),
            lifecycle={"ignore_changes": ["value"]},
        )

    def _origins(self, api: HttpApi) -> list[object]:
        """The bucket (through OAC) and the API (HTTPS only, TLS 1.2, origin secret header)."""
        module = "cloudfront_distribution"
        headers = [] if self.origin_secret is None else [cdk.struct(
            module, "CloudfrontDistributionOriginCustomHeader", name=ORIGIN_VERIFY_HEADER,
            value=self.origin_secret.value)]
        return [
            cdk.struct(module, "CloudfrontDistributionOrigin", origin_id=S3_ORIGIN,
                       domain_name=self.bucket.bucket.bucket_regional_domain_name,
                       origin_access_control_id=self.origin_access_control.id),
            cdk.struct(module, "CloudfrontDistributionOrigin", origin_id=API_ORIGIN,
                       domain_name=api.origin_domain,
                       custom_origin_config={
                           "http_port": 80, "https_port": 443,
                           "origin_protocol_policy": "https-only",
                           "origin_ssl_protocols": ["TLSv1.2"],
                           "origin_read_timeout": 30, "origin_keepalive_timeout": 5,
                       },
                       custom_header=headers or None),
        ]

    def _default_behavior(self) -> object:
        """Everything not static goes to the API, uncached, with all viewer values but Host."""
        module = "cloudfront_distribution"
        return cdk.struct(
            module, "CloudfrontDistributionDefaultCacheBehavior",
            target_origin_id=API_ORIGIN, viewer_protocol_policy="redirect-to-https",
            allowed_methods=ALL_METHODS, cached_methods=["GET", "HEAD"], compress=True,
            cache_policy_id=CACHING_DISABLED,
            origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy_id=self._headers_policy_id,
            function_association=[cdk.struct(
                module, "CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation",
                event_type="viewer-request", function_arn=self.forward_host.arn)],
        )

    def _static_behaviors(self, paths: tuple[str, ...]) -> list[object]:
        """One cached, bucket-backed behaviour per static path pattern."""
        return [cdk.struct(
            "cloudfront_distribution", "CloudfrontDistributionOrderedCacheBehavior",
            path_pattern=path, target_origin_id=S3_ORIGIN,
            viewer_protocol_policy="redirect-to-https", allowed_methods=["GET", "HEAD"],
            cached_methods=["GET", "HEAD"], compress=True, cache_policy_id=CACHING_OPTIMIZED,
            response_headers_policy_id=self._headers_policy_id,
        ) for path in paths]

    def _distribution(
        self, api: HttpApi, paths: tuple[str, ...], price_class: str,
        certificate_arn: str | None, web_acl_arn: str | None,
    ) -> object:
        """The distribution: origins, behaviours, viewer certificate and web ACL."""
        if certificate_arn is not None:
            certificate = {"acm_certificate_arn": certificate_arn, "ssl_support_method": "sni-only",
                           "minimum_protocol_version": "TLSv1.2_2021"}
        else:
            certificate = {"cloudfront_default_certificate": True}
        return cdk.aws("cloudfront_distribution").CloudfrontDistribution(
            self, "distribution", enabled=True, is_ipv6_enabled=True, http_version="http2and3",
            comment=f"Laravel app {self._name} (serverless-laravel)"[:MAX_COMMENT],
            price_class=price_class,
            aliases=list(self.aliases) or None,
            origin=self._origins(api),
            default_cache_behavior=self._default_behavior(),
            ordered_cache_behavior=self._static_behaviors(paths),
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=certificate,
            web_acl_id=web_acl_arn,
            custom_error_response=self._error_pages(),
            logging_config=None if self.log_bucket is None else {
                "bucket": self.log_bucket.bucket.bucket_domain_name,
                "include_cookies": False, "prefix": "cloudfront/"},
        )

    def _error_pages(self) -> list[object] | None:
        """A 503 from the app answered with the bucket's maintenance page, briefly cached."""
        if not self._options.maintenance_page:
            return None
        return [cdk.struct(
            "cloudfront_distribution", "CloudfrontDistributionCustomErrorResponse",
            error_code=503, response_code=503, response_page_path=MAINTENANCE_PAGE_PATH,
            error_caching_min_ttl=MAINTENANCE_ERROR_TTL)]

    def _web_acl(self, limit: int) -> object:
        """A CLOUDFRONT web ACL (AWS managed rule groups, a per-IP rate limit), logged."""
        self.web_acl, self.waf_log_group = logged_web_acl(
            self, name=self._name, metric=re.sub(r"[^A-Za-z0-9_-]", "-", self._name),
            kind="CLOUDFRONT", limit=limit, managed_rules=self._options.waf_managed_rules,
            log_retention_days=self._options.log_retention_days,
        )
        return self.web_acl

    def _log_bucket(self, force_destroy: bool) -> PrivateBucket:
        """CloudFront standard logs: a private bucket with ACLs enabled (CloudFront delivers
        through an ACL grant), SSE-S3 (it cannot write to SSE-KMS), versioned so a deleted or
        overwritten log file is kept 30 days, expiring with the logs."""
        return PrivateBucket(
            self, "logs", bucket_prefix="laravel-cf-logs-", versioned=True,
            force_destroy=force_destroy, object_ownership="BucketOwnerPreferred",
            expire_after_days=self._options.log_retention_days,
        )

    def _headers_policy(self) -> object:
        """HSTS, nosniff, frame options and referrer policy on every response."""
        return cdk.aws("cloudfront_response_headers_policy").CloudfrontResponseHeadersPolicy(
            self, "security-headers", name=f"{self._name[:100]}-security",
            comment="Security headers (serverless-laravel)",
            security_headers_config={
                "strict_transport_security": {
                    "access_control_max_age_sec": HSTS_MAX_AGE, "include_subdomains": False,
                    "preload": False, "override": True},
                "content_type_options": {"override": True},
                "frame_options": {"frame_option": "SAMEORIGIN", "override": True},
                "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin",
                                    "override": True},
            },
        )

    @property
    def _headers_policy_id(self) -> str | None:
        return None if self.headers_policy is None else self.headers_policy.id

    def _read_by_distribution(self) -> dict[str, object]:
        """Bucket policy: CloudFront may read objects, only on behalf of this distribution."""
        return {
            "sid": "AllowCloudFrontRead",
            "effect": "Allow",
            "actions": ["s3:GetObject"],
            "resources": [f"{self.bucket.arn}/*"],
            "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
            "condition": [{"test": "StringEquals", "variable": "AWS:SourceArn",
                           "values": [self.distribution.arn]}],
        }

    @property
    def distribution_id(self) -> str:
        return self.distribution.id

    @property
    def domain_name(self) -> str:
        """The first custom domain, else CloudFront's ``*.cloudfront.net`` name."""
        return self.aliases[0] if self.aliases else self.distribution.domain_name

    @property
    def url(self) -> str:
        return f"https://{self.domain_name}"

    @property
    def bucket_name(self) -> str:
        return self.bucket.name

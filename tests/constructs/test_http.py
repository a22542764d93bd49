"""HttpApi, Assets and LaravelApp, synthesized once per session, asserted on the Terraform JSON."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from serverless_laravel import (
    Assets,
    Cors,
    FunctionOptions,
    HttpApi,
    LaravelApp,
    LaravelStack,
    PhpFunction,
    SecretRef,
    cdk,
)
from serverless_laravel.cdk import App, Construct, TerraformVariable
from serverless_laravel.constructs.assets import (
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    DEFAULT_STATIC_PATHS,
    MAX_COMMENT,
    ORIGIN_VERIFY_HEADER,
    check_bucket_prefix,
)
from serverless_laravel.constructs.buckets import PrivateBucket
from serverless_laravel.constructs.http_api import ACCESS_LOG_FORMAT
from serverless_laravel.errors import ConfigurationError, SecurityWarning
from tests import terraform
from tests.helpers import LARAVEL_APP, OCTANE_HANDLER, QUEUE_HANDLER, env, kms_key, ref
from tests.synth import Stack, synthesize

OCTANE = OCTANE_HANDLER
REGIONAL_CERT = "arn:aws:acm:eu-west-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567"
EDGE_CERT = "arn:aws:acm:us-east-1:111122223333:certificate/9a8b7c6d-aaaa-bbbb-cccc-1234567"
ZONE = "Z0123456789ABCDEFGHIJ"
WEB_ACL = ("arn:aws:wafv2:us-east-1:111122223333:global/webacl/shared-acl/"
           "a1b2c3d4-5678-90ab-cdef-111122223333")
APP_KEY_ARN = "arn:aws:ssm:us-east-1:111122223333:parameter/shop/app-key"
MAIL_ARN = "arn:aws:ssm:us-east-1:111122223333:parameter/shop/mail-password"
DB_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:shop/db-password-Ab12Cd"
REDIS_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:shop/redis-Zz99Yy"
KEY = kms_key("us-east-1")


def build(app: App) -> None:
    api = LaravelStack(app, "api", region="eu-west-1")
    web = PhpFunction(api, "web", app=LARAVEL_APP)
    HttpApi(api, "http", function=web, throttling_burst_limit=200, throttling_rate_limit=75.5,
            log_retention_days=14, domain_name="api.example.com", certificate_arn=REGIONAL_CERT,
            hosted_zone_id=ZONE, disable_execute_api_endpoint=True,
            cors=Cors(allow_origins=("https://app.example.com",), allow_credentials=True,
                      max_age=600))
    octane = PhpFunction(api, "octane", app=LARAVEL_APP, runtime="function", handler=OCTANE,
                         timeout=25)
    HttpApi(api, "plain", function=octane)

    front = LaravelStack(app, "front", region="eu-west-1")
    site = PhpFunction(front, "web", app=LARAVEL_APP)
    site_api = HttpApi(front, "http", function=site)
    Assets(front, "cdn", api=site_api, static_paths=("/build/*", "/vendor/*"),
           price_class="PriceClass_All", domain_names=("www.example.com", "example.com"),
           certificate_arn=EDGE_CERT, hosted_zone_id=ZONE, web_acl_arn=WEB_ACL)
    open_web = PhpFunction(front, "open-web", app=LARAVEL_APP)
    Assets(front, "open-cdn", api=HttpApi(front, "open-http", function=open_web),
           verify_origin=False, set_asset_url=False)

    shop = LaravelStack(app, "shop", region="us-east-1")
    laravel = LaravelApp(
        shop, "shop", app=LARAVEL_APP, name="Shop",
        secrets={"APP_KEY": SecretRef.ssm(APP_KEY_ARN, kms_key_arn=KEY),
                 "DB_PASSWORD": SecretRef.secrets_manager(DB_SECRET_ARN)},
        environment={"SESSION_DRIVER": "cookie"}, maintenance=True, waf_rate_limit=1500,
        domain_name="shop.example.com", certificate_arn=EDGE_CERT, hosted_zone_id=ZONE,
        web=FunctionOptions(memory_size=2048), console=FunctionOptions(timeout=300),
    )
    worker = PhpFunction(shop, "worker", app=LARAVEL_APP, runtime="function",
                         handler=QUEUE_HANDLER)
    laravel.add_function(worker)
    laravel.add_environment("QUEUE_CONNECTION", "sqs")
    laravel.add_secret("MAIL_PASSWORD", SecretRef.ssm(MAIL_ARN))

    plain = LaravelStack(app, "plain", region="eu-west-1")
    LaravelApp(plain, "site", app=LARAVEL_APP,
               secrets={"APP_KEY": SecretRef.secrets_manager(
                   "arn:aws:secretsmanager:eu-west-1:111122223333:secret:site/app-key-Qq11Ww")})


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    return synthesize(tmp_path_factory, "http", build)



# HttpApi


def test_api_is_an_http_api_without_its_default_endpoint(stacks: dict[str, Stack]) -> None:
    api = stacks["api"].by_path("aws_apigatewayv2_api", "http/api")
    assert api["protocol_type"] == "HTTP"
    assert api["name"] == "api-http"
    assert api["disable_execute_api_endpoint"] is True
    plain = stacks["api"].by_path("aws_apigatewayv2_api", "plain/api")
    assert plain["disable_execute_api_endpoint"] is False


def test_integration_is_a_lambda_proxy_with_payload_2(stacks: dict[str, Stack]) -> None:
    stack = stacks["api"]
    integration = stack.by_path("aws_apigatewayv2_integration", "http/integration")
    assert integration["integration_type"] == "AWS_PROXY"
    assert integration["payload_format_version"] == "2.0"
    assert integration["integration_uri"] == ref(stack, "aws_lambda_alias", "web/live",
                                                 "invoke_arn")
    assert integration["api_id"] == ref(stack, "aws_apigatewayv2_api", "http/api", "id")
    assert integration["timeout_milliseconds"] == 29_000


def test_default_route_targets_the_integration(stacks: dict[str, Stack]) -> None:
    stack = stacks["api"]
    route = stack.by_path("aws_apigatewayv2_route", "http/default-route")
    assert route["route_key"] == "$default"
    integration = stack.address_of("aws_apigatewayv2_integration", "http/integration")
    assert route["target"] == f"integrations/${{{integration}.id}}"


def test_stage_auto_deploys_logs_json_and_throttles(stacks: dict[str, Stack]) -> None:
    stack = stacks["api"]
    stage = stack.by_path("aws_apigatewayv2_stage", "http/stage")
    assert stage["name"] == "$default"
    assert stage["auto_deploy"] is True
    logs = stage["access_log_settings"]
    assert logs["destination_arn"] == ref(stack, "aws_cloudwatch_log_group", "http/access-logs",
                                          "arn")
    fields = json.loads(logs["format"])
    assert logs["format"] == ACCESS_LOG_FORMAT
    assert {"requestId", "ip", "requestTime", "httpMethod", "routeKey", "status", "protocol",
            "responseLength", "integrationError", "integrationLatency"} <= set(fields)
    assert fields["requestId"] == "$context.requestId"
    assert stage["default_route_settings"] == {"throttling_burst_limit": 200,
                                               "throttling_rate_limit": 75.5}
    defaults = stack.by_path("aws_apigatewayv2_stage", "plain/stage")["default_route_settings"]
    assert defaults == {"throttling_burst_limit": 1000, "throttling_rate_limit": 500}


def test_access_log_group_retention(stacks: dict[str, Stack]) -> None:
    group = stacks["api"].by_path("aws_cloudwatch_log_group", "http/access-logs")
    assert group["retention_in_days"] == 14
    assert group["name"] == "/aws/apigateway/api-http/access"
    plain = stacks["api"].by_path("aws_cloudwatch_log_group", "plain/access-logs")
    assert plain["retention_in_days"] == 30


def test_permission_is_scoped_to_this_api(stacks: dict[str, Stack]) -> None:
    stack = stacks["api"]
    permission = stack.by_path("aws_lambda_permission", "http/invoke-permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["statement_id"] == "AllowHttpApi-api-http"
    assert permission["function_name"] == ref(stack, "aws_lambda_function", "web/function",
                                              "function_name")
    assert permission["qualifier"] == ref(stack, "aws_lambda_alias", "web/live", "name")
    execution_arn = ref(stack, "aws_apigatewayv2_api", "http/api", "execution_arn")
    assert permission["source_arn"] == f"{execution_arn}/*/*"
    other = stack.by_path("aws_lambda_permission", "plain/invoke-permission")
    assert other["source_arn"].startswith(ref(stack, "aws_apigatewayv2_api", "plain/api",
                                              "execution_arn"))


def test_custom_domain_mapping_and_alias_records(stacks: dict[str, Stack]) -> None:
    stack = stacks["api"]
    domain = stack.by_path("aws_apigatewayv2_domain_name", "http/domain")
    assert domain["domain_name"] == "api.example.com"
    assert domain["domain_name_configuration"] == {
        "certificate_arn": REGIONAL_CERT, "endpoint_type": "REGIONAL",
        "security_policy": "TLS_1_2"}
    mapping = stack.by_path("aws_apigatewayv2_api_mapping", "http/mapping")
    assert mapping["api_id"] == ref(stack, "aws_apigatewayv2_api", "http/api", "id")
    assert mapping["domain_name"] == ref(stack, "aws_apigatewayv2_domain_name", "http/domain", "id")
    assert mapping["stage"] == ref(stack, "aws_apigatewayv2_stage", "http/stage", "id")
    address = stack.address_of("aws_apigatewayv2_domain_name", "http/domain")
    for kind in ("A", "AAAA"):
        record = stack.by_path("aws_route53_record", f"http/alias-{kind.lower()}")
        assert record["type"] == kind
        assert record["zone_id"] == ZONE
        assert record["name"] == "api.example.com"
        assert record["alias"] == {
            "name": f"${{{address}.domain_name_configuration[0].target_domain_name}}",
            "zone_id": f"${{{address}.domain_name_configuration[0].hosted_zone_id}}",
            "evaluate_target_health": False,
        }


def test_cors_configuration(stacks: dict[str, Stack]) -> None:
    api = stacks["api"].by_path("aws_apigatewayv2_api", "http/api")
    assert api["cors_configuration"] == {
        "allow_origins": ["https://app.example.com"], "allow_methods": ["*"],
        "allow_headers": ["*"], "expose_headers": [], "allow_credentials": True, "max_age": 600}
    assert "cors_configuration" not in stacks["api"].by_path("aws_apigatewayv2_api", "plain/api")


def test_octane_function_is_accepted(stacks: dict[str, Stack]) -> None:
    stack = stacks["api"]
    octane = stack.by_path("aws_lambda_function", "octane/function")
    assert octane["handler"] == OCTANE
    integration = stack.by_path("aws_apigatewayv2_integration", "plain/integration")
    assert integration["timeout_milliseconds"] == 26_000


# Assets


def test_distribution_routes_static_paths_to_the_bucket(stacks: dict[str, Stack]) -> None:
    stack = stacks["front"]
    distribution = stack.by_path("aws_cloudfront_distribution", "cdn/distribution")
    behaviors = distribution["ordered_cache_behavior"]
    assert [b["path_pattern"] for b in behaviors] == ["/build/*", "/vendor/*", "/maintenance.html"]
    for behavior in behaviors:
        assert behavior["target_origin_id"] == "assets-bucket"
        assert behavior["cache_policy_id"] == CACHING_OPTIMIZED
        assert behavior["viewer_protocol_policy"] == "redirect-to-https"
        assert behavior["allowed_methods"] == ["GET", "HEAD"]
    origins = {o["origin_id"]: o for o in distribution["origin"]}
    s3 = origins["assets-bucket"]
    assert s3["domain_name"] == ref(stack, "aws_s3_bucket", "cdn/bucket/bucket",
                                    "bucket_regional_domain_name")
    assert s3["origin_access_control_id"] == ref(
        stack, "aws_cloudfront_origin_access_control", "cdn/oac", "id")
    assert "s3_origin_config" not in s3


def test_default_behaviour_sends_everything_else_to_the_api_uncached(
    stacks: dict[str, Stack],
) -> None:
    stack = stacks["front"]
    distribution = stack.by_path("aws_cloudfront_distribution", "cdn/distribution")
    default = distribution["default_cache_behavior"]
    assert default["target_origin_id"] == "http-api"
    assert default["cache_policy_id"] == CACHING_DISABLED
    assert default["origin_request_policy_id"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert default["viewer_protocol_policy"] == "redirect-to-https"
    assert set(default["allowed_methods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH",
                                               "DELETE"}
    function_arn = ref(stack, "aws_cloudfront_function", "cdn/forward-host", "arn")
    assert default["function_association"] == [{"event_type": "viewer-request",
                                                 "function_arn": function_arn}]
    api = {o["origin_id"]: o for o in distribution["origin"]}["http-api"]
    endpoint = ref(stack, "aws_apigatewayv2_api", "http/api", "api_endpoint")[2:-1]
    assert api["domain_name"] == f'${{replace({endpoint}, "https://", "")}}'
    assert api["custom_origin_config"] == {
        "http_port": 80, "https_port": 443, "origin_protocol_policy": "https-only",
        "origin_ssl_protocols": ["TLSv1.2"], "origin_read_timeout": 30,
        "origin_keepalive_timeout": 5}


def test_forward_host_function(stacks: dict[str, Stack]) -> None:
    function = stacks["front"].by_path("aws_cloudfront_function", "cdn/forward-host")
    assert function["runtime"] == "cloudfront-js-2.0"
    assert function["publish"] is True
    assert "x-forwarded-host" in function["code"]


def test_distribution_tls_aliases_http3_price_class_and_acl(stacks: dict[str, Stack]) -> None:
    distribution = stacks["front"].by_path("aws_cloudfront_distribution", "cdn/distribution")
    assert distribution["aliases"] == ["www.example.com", "example.com"]
    assert distribution["viewer_certificate"] == {
        "acm_certificate_arn": EDGE_CERT, "ssl_support_method": "sni-only",
        "minimum_protocol_version": "TLSv1.2_2021"}
    assert distribution["http_version"] == "http2and3"
    assert distribution["price_class"] == "PriceClass_All"
    assert distribution["web_acl_id"] == WEB_ACL
    assert distribution["restrictions"] == {"geo_restriction": {"restriction_type": "none"}}
    assert not stacks["front"].resources("aws_wafv2_web_acl")


def test_default_certificate_without_aliases(stacks: dict[str, Stack]) -> None:
    distribution = stacks["plain"].by_path("aws_cloudfront_distribution",
                                           "site/assets/distribution")
    assert distribution["viewer_certificate"] == {"cloudfront_default_certificate": True}
    assert "aliases" not in distribution
    assert "web_acl_id" not in distribution
    assert [b["path_pattern"] for b in distribution["ordered_cache_behavior"]] == [
        *DEFAULT_STATIC_PATHS, "/maintenance.html"]
    assert distribution["custom_error_response"] == [{
        "error_code": 503, "response_code": 503, "response_page_path": "/maintenance.html",
        "error_caching_min_ttl": 10}]


def test_origin_access_control(stacks: dict[str, Stack]) -> None:
    oac = stacks["front"].by_path("aws_cloudfront_origin_access_control", "cdn/oac")
    assert oac["origin_access_control_origin_type"] == "s3"
    assert oac["signing_behavior"] == "always"
    assert oac["signing_protocol"] == "sigv4"


def test_bucket_policy_lets_only_this_distribution_read(stacks: dict[str, Stack]) -> None:
    stack = stacks["front"]
    policy = stack.by_path("aws_s3_bucket_policy", "cdn/bucket/policy")
    statements = {s["sid"]: s for s in stack.deref(policy["policy"])["statement"]}
    read = statements["AllowCloudFrontRead"]
    assert read["effect"] == "Allow"
    assert read["actions"] == ["s3:GetObject"]
    assert read["resources"] == [f"{ref(stack, 'aws_s3_bucket', 'cdn/bucket/bucket', 'arn')}/*"]
    assert read["principals"] == [{"type": "Service",
                                   "identifiers": ["cloudfront.amazonaws.com"]}]
    assert read["condition"] == [{
        "test": "StringEquals", "variable": "AWS:SourceArn",
        "values": [ref(stack, "aws_cloudfront_distribution", "cdn/distribution", "arn")]}]
    assert set(statements) == {"DenyInsecureTransport", "AllowCloudFrontRead"}


def test_web_function_gets_asset_url(stacks: dict[str, Stack]) -> None:
    web = stacks["front"].by_path("aws_lambda_function", "web/function")
    assert web["environment"]["variables"]["ASSET_URL"] == "https://www.example.com"


def test_cloudfront_alias_records(stacks: dict[str, Stack]) -> None:
    stack = stacks["front"]
    distribution = stack.address_of("aws_cloudfront_distribution", "cdn/distribution")
    for alias in ("www.example.com", "example.com"):
        for kind in ("a", "aaaa"):
            record = stack.by_path("aws_route53_record", f"cdn/dns-{alias}/alias-{kind}")
            assert record["name"] == alias
            assert record["alias"] == {"name": f"${{{distribution}.domain_name}}",
                                       "zone_id": f"${{{distribution}.hosted_zone_id}}",
                                       "evaluate_target_health": False}


def test_waf_rate_limit_acl_is_associated(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    acl = stack.by_path("aws_wafv2_web_acl", "shop/assets/web-acl")
    assert acl["scope"] == "CLOUDFRONT"
    assert acl["default_action"] == {"allow": {}}
    rule, *managed = acl["rule"]
    assert rule["action"] == {"block": {}}
    assert rule["statement"] == {"rate_based_statement": {
        "limit": 1500, "aggregate_key_type": "IP", "evaluation_window_sec": 300}}
    assert rule["visibility_config"]["cloudwatch_metrics_enabled"] is True
    assert acl["visibility_config"]["sampled_requests_enabled"] is True
    groups = {r["statement"]["managed_rule_group_statement"]["name"]: r for r in managed}
    assert set(groups) == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                           "AWSManagedRulesAnonymousIpList",
                           "AWSManagedRulesPHPRuleSet", "AWSManagedRulesSQLiRuleSet",
                           "AWSManagedRulesAmazonIpReputationList"}
    assert sorted(r["priority"] for r in acl["rule"]) == list(range(len(acl["rule"])))
    for group in groups.values():
        assert group["override_action"] == {"none": {}}
        assert group["statement"]["managed_rule_group_statement"]["vendor_name"] == "AWS"
    common = groups["AWSManagedRulesCommonRuleSet"]["statement"]["managed_rule_group_statement"]
    assert common["rule_action_override"] == [
        {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}}]
    anonymous = groups["AWSManagedRulesAnonymousIpList"]["statement"][
        "managed_rule_group_statement"]["rule_action_override"]
    assert {o["name"] for o in anonymous} == {"AnonymousIPList", "HostingProviderIPList"}
    assert {json.dumps(o["action_to_use"]) for o in anonymous} == {'{"count": {}}'}
    assert "rule_action_override" not in \
        groups["AWSManagedRulesSQLiRuleSet"]["statement"]["managed_rule_group_statement"]
    distribution = stack.by_path("aws_cloudfront_distribution", "shop/assets/distribution")
    assert distribution["web_acl_id"] == ref(stack, "aws_wafv2_web_acl", "shop/assets/web-acl",
                                             "arn")


def test_waf_logs_to_a_retained_log_group_without_credentials(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    logging = stack.by_path("aws_wafv2_web_acl_logging_configuration", "shop/assets/waf-logging")
    assert logging["resource_arn"] == ref(stack, "aws_wafv2_web_acl", "shop/assets/web-acl",
                                          "arn")
    assert logging["log_destination_configs"] == [
        ref(stack, "aws_cloudwatch_log_group", "shop/assets/waf-logs", "arn")]
    assert logging["redacted_fields"] == [{"single_header": {"name": "authorization"}},
                                          {"single_header": {"name": "cookie"}}]
    group = stack.by_path("aws_cloudwatch_log_group", "shop/assets/waf-logs")
    assert group["name"].startswith("aws-waf-logs-") and group["retention_in_days"] == 30


def test_cloudfront_writes_standard_logs_to_a_private_expiring_bucket(
    stacks: dict[str, Stack],
) -> None:
    stack = stacks["shop"]
    distribution = stack.by_path("aws_cloudfront_distribution", "shop/assets/distribution")
    assert distribution["logging_config"] == {
        "bucket": ref(stack, "aws_s3_bucket", "shop/assets/logs/bucket", "bucket_domain_name"),
        "include_cookies": False, "prefix": "cloudfront/"}
    ownership = stack.by_path("aws_s3_bucket_ownership_controls", "shop/assets/logs/ownership")
    assert ownership["rule"] == {"object_ownership": "BucketOwnerPreferred"}
    block = stack.by_path("aws_s3_bucket_public_access_block",
                          "shop/assets/logs/public-access-block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))
    [rule] = stack.by_path("aws_s3_bucket_lifecycle_configuration",
                           "shop/assets/logs/lifecycle")["rule"]
    assert rule["expiration"] == [{"days": 30}]
    encryption = stack.by_path("aws_s3_bucket_server_side_encryption_configuration",
                               "shop/assets/logs/encryption")
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "AES256"}


def test_every_response_carries_security_headers(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    policy = stack.by_path("aws_cloudfront_response_headers_policy",
                           "shop/assets/security-headers")
    headers = policy["security_headers_config"]
    assert headers["strict_transport_security"]["access_control_max_age_sec"] == 31_536_000
    assert headers["content_type_options"] == {"override": True}
    assert headers["frame_options"] == {"frame_option": "SAMEORIGIN", "override": True}
    assert headers["referrer_policy"]["referrer_policy"] == "strict-origin-when-cross-origin"
    distribution = stack.by_path("aws_cloudfront_distribution", "shop/assets/distribution")
    policy_id = ref(stack, "aws_cloudfront_response_headers_policy",
                    "shop/assets/security-headers", "id")
    behaviors = [distribution["default_cache_behavior"],
                 *distribution["ordered_cache_behavior"]]
    assert {b["response_headers_policy_id"] for b in behaviors} == {policy_id}


def test_hardening_can_be_turned_off_one_switch_at_a_time(east: LaravelStack) -> None:
    api = HttpApi(east, "api", function=PhpFunction(east, "web", app=LARAVEL_APP))
    with pytest.warns(SecurityWarning):
        Assets(east, "bare", api=api, waf_rate_limit=2000, waf_managed_rules=False,
               access_logs=False, security_headers=False)
    doc = json.loads(cdk.Testing.synth(east))
    [acl] = doc["resource"]["aws_wafv2_web_acl"].values()
    assert [r["name"] for r in acl["rule"]] == ["rate-limit-per-ip"]
    assert "aws_cloudfront_response_headers_policy" not in doc["resource"]
    [distribution] = doc["resource"]["aws_cloudfront_distribution"].values()
    assert "logging_config" not in distribution


def test_default_certificate_and_missing_waf_are_warned_about(east: LaravelStack) -> None:
    api = HttpApi(east, "api", function=PhpFunction(east, "web", app=LARAVEL_APP))
    with pytest.warns(SecurityWarning) as caught:
        Assets(east, "cdn", api=api)
    messages = " ".join(str(w.message) for w in caught)
    assert "TLS 1.0" in messages and "certificate_arn=" in messages
    assert "no WAF" in messages


# Origin verification: CloudFront proves a request came through it (and its WAF).


def test_origin_secret_is_generated_by_terraform_in_a_secure_string(
    stacks: dict[str, Stack],
) -> None:
    parameter = stacks["front"].by_path("aws_ssm_parameter", "cdn/origin-secret")
    assert parameter["type"] == "SecureString"
    assert parameter["name"] == "/serverless-laravel/front-cdn/origin-verify"
    assert "key_id" not in parameter  # the AWS managed key: no kms:Decrypt grant needed
    # Generated at the first apply (uuid() reads crypto/rand, no API call), then kept.
    assert parameter["value"] == ('${join("", [replace(uuid(), "-", ""), '
                                  'replace(uuid(), "-", "")])}')
    assert parameter["lifecycle"] == {"ignore_changes": ["value"]}


def test_cloudfront_sends_the_origin_secret_to_the_api_only(stacks: dict[str, Stack]) -> None:
    stack = stacks["front"]
    distribution = stack.by_path("aws_cloudfront_distribution", "cdn/distribution")
    origins = {o["origin_id"]: o for o in distribution["origin"]}
    assert origins["http-api"]["custom_header"] == [{
        "name": ORIGIN_VERIFY_HEADER,
        "value": ref(stack, "aws_ssm_parameter", "cdn/origin-secret", "value")}]
    assert "custom_header" not in origins["assets-bucket"]


def test_the_api_refuses_requests_without_the_origin_secret(stacks: dict[str, Stack]) -> None:
    stack = stacks["front"]
    authorizer = stack.by_path("aws_apigatewayv2_authorizer", "http/origin-verify/authorizer")
    assert authorizer["authorizer_type"] == "REQUEST"
    assert authorizer["identity_sources"] == ["$request.header.X-Origin-Verify"]
    assert authorizer["authorizer_result_ttl_in_seconds"] == 300
    assert authorizer["enable_simple_responses"] is True
    assert authorizer["authorizer_payload_format_version"] == "2.0"
    function = stack.by_path("aws_lambda_function", "http/origin-verify/function")
    assert authorizer["authorizer_uri"] == ref(stack, "aws_lambda_function",
                                               "http/origin-verify/function", "invoke_arn")
    assert (function["runtime"], function["handler"]) == ("python3.12", "origin_verify.handler")
    assert function["reserved_concurrent_executions"] == 10
    assert function["environment"]["variables"] == {
        "ORIGIN_VERIFY_PARAMETER": "/serverless-laravel/front-cdn/origin-verify",
        "ORIGIN_VERIFY_HEADER": "x-origin-verify"}
    route = stack.by_path("aws_apigatewayv2_route", "http/default-route")
    assert route["authorization_type"] == "CUSTOM"
    assert route["authorizer_id"] == ref(stack, "aws_apigatewayv2_authorizer",
                                         "http/origin-verify/authorizer", "id")
    permission = stack.by_path("aws_lambda_permission", "http/origin-verify/invoke-permission")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["source_arn"].endswith("/authorizers/" + ref(
        stack, "aws_apigatewayv2_authorizer", "http/origin-verify/authorizer", "id"))


def test_only_the_authorizer_reads_the_origin_secret(stacks: dict[str, Stack]) -> None:
    stack = stacks["front"]
    assert stack.role_statements("http/origin-verify/role") == {
        "WriteOwnLogs": {
            "sid": "WriteOwnLogs", "effect": "Allow",
            "actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "resources": [ref(stack, "aws_cloudwatch_log_group", "http/origin-verify/logs",
                              "arn") + ":*"]},
        "WriteTraces": {
            "sid": "WriteTraces", "effect": "Allow",
            "actions": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            "resources": ["*"]},
        "ReadOriginSecret": {
            "sid": "ReadOriginSecret", "effect": "Allow", "actions": ["ssm:GetParameter"],
            "resources": [ref(stack, "aws_ssm_parameter", "cdn/origin-secret", "arn")]},
    }
    web_statements = json.dumps(stack.role_statements("web/role"))
    assert "origin-secret" not in web_statements
    assert not any("ORIGIN" in key for key in env(stack, "web"))


def test_verify_origin_false_adds_nothing(stacks: dict[str, Stack]) -> None:
    stack = stacks["front"]
    assert [p["//"]["metadata"]["path"] for p in stack.resources("aws_ssm_parameter").values()
            ] == ["front/cdn/origin-secret"]
    distribution = stack.by_path("aws_cloudfront_distribution", "open-cdn/distribution")
    assert all("custom_header" not in o for o in distribution["origin"])
    assert "ASSET_URL" not in env(stack, "open-web")
    route = stack.by_path("aws_apigatewayv2_route", "open-http/default-route")
    assert "authorization_type" not in route and "authorizer_id" not in route


def test_distribution_comment_fits_cloudfront(stacks: dict[str, Stack]) -> None:
    for stack in stacks.values():
        for distribution in stack.resources("aws_cloudfront_distribution").values():
            assert len(distribution["comment"]) <= MAX_COMMENT


def test_long_construct_paths_keep_names_and_comment_within_limits() -> None:
    stack = LaravelStack(App(), "s" * 60, region="eu-west-1")
    deep: Construct = stack
    for level in range(4):
        deep = Construct(deep, f"level-{level}-" + "x" * 40)
    web = PhpFunction(deep, "web", app=LARAVEL_APP)
    assets = Assets(deep, "cdn", api=HttpApi(deep, "http", function=web))
    assert len(assets.distribution.comment) <= MAX_COMMENT
    assert len(assets.forward_host.name) <= 64
    assert len(assets.origin_access_control.name) <= 64


# LaravelApp



def test_laravel_environment_on_every_function(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    bucket = ref(stack, "aws_s3_bucket", "shop/storage/bucket", "bucket")
    expected = {
        "APP_NAME": "Shop", "APP_ENV": "production", "APP_DEBUG": "false",
        "LOG_CHANNEL": "stderr", "FILESYSTEM_DISK": "s3", "AWS_BUCKET": bucket,
        "APP_MAINTENANCE_DRIVER": "cache", "APP_MAINTENANCE_STORE": "(empty)",
        "MAINTENANCE_MODE": "1", "SESSION_DRIVER": "cookie", "QUEUE_CONNECTION": "sqs",
        "APP_URL": "https://shop.example.com", "ASSET_URL": "https://shop.example.com",
        "APP_KEY": "bref-ssm:/shop/app-key",
        "DB_PASSWORD": "bref-ssm:/aws/reference/secretsmanager/shop/db-password",
        "MAIL_PASSWORD": "bref-ssm:/shop/mail-password",
    }
    expected["BREF_PING_DISABLE"] = "1"
    assert env(stack, "shop/web") == {**expected, "BREF_RUNTIME": "fpm"}
    assert env(stack, "shop/console") == {**expected, "BREF_RUNTIME": "console"}
    assert env(stack, "worker") == {**expected, "BREF_RUNTIME": "function"}


def test_function_sizes_and_runtimes(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    web = stack.by_path("aws_lambda_function", "shop/web/function")
    console = stack.by_path("aws_lambda_function", "shop/console/function")
    assert (web["handler"], web["memory_size"], web["timeout"]) == ("public/index.php", 2048, 28)
    assert (console["handler"], console["memory_size"], console["timeout"]) == ("artisan", 1024,
                                                                                 300)


def test_plain_app_urls_come_from_cloudfront(stacks: dict[str, Stack]) -> None:
    stack = stacks["plain"]
    domain = ref(stack, "aws_cloudfront_distribution", "site/assets/distribution", "domain_name")
    variables = env(stack, "site/web")
    assert variables["APP_URL"] == variables["ASSET_URL"] == f"https://{domain}"
    assert "MAINTENANCE_MODE" not in variables
    assert variables["APP_KEY"] == "bref-ssm:/aws/reference/secretsmanager/site/app-key"


def test_web_role_has_exactly_what_it_needs(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    statements = stack.role_statements("shop/web/role")
    assert set(statements) == {
        "WriteOwnLogs", "WriteTraces", "ListShopStorage", "ReadWriteShopStorage",
        "ReadParameterAPPKEY", "DecryptSecretAPPKEY", "ReadParameterDBPASSWORD",
        "ReadSecretDBPASSWORD", "ReadParameterMAILPASSWORD"}
    bucket = ref(stack, "aws_s3_bucket", "shop/storage/bucket", "arn")
    assert statements["ListShopStorage"]["resources"] == [bucket]
    assert statements["ReadWriteShopStorage"]["resources"] == [f"{bucket}/*"]
    assert statements["ReadWriteShopStorage"]["actions"] == ["s3:DeleteObject", "s3:GetObject",
                                                         "s3:PutObject"]
    assert statements["ReadParameterAPPKEY"] == {
        "sid": "ReadParameterAPPKEY", "effect": "Allow", "actions": ["ssm:GetParameters"],
        "resources": [APP_KEY_ARN]}
    assert statements["DecryptSecretAPPKEY"]["actions"] == ["kms:Decrypt"]
    assert statements["DecryptSecretAPPKEY"]["resources"] == [KEY]
    assert statements["ReadParameterDBPASSWORD"]["resources"] == [
        "arn:aws:ssm:us-east-1:111122223333:parameter/aws/reference/secretsmanager/"
        "shop/db-password"]
    assert statements["ReadSecretDBPASSWORD"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadSecretDBPASSWORD"]["resources"] == [DB_SECRET_ARN]
    assert statements["ReadParameterMAILPASSWORD"]["resources"] == [MAIL_ARN]


def test_console_and_added_functions_get_the_same_grants(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    web = stack.role_statements("shop/web/role")
    for role in ("shop/console/role", "worker/role"):
        statements = stack.role_statements(role)
        # Only the web function answers HTTP, so only it reads the origin secret.
        assert set(statements) == set(web) - {"ReadParameterORIGINVERIFYSECRET"}
        assert statements["ReadSecretDBPASSWORD"] == web["ReadSecretDBPASSWORD"]


def test_storage_bucket_is_private_and_separate(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    storage = stack.by_path("aws_s3_bucket", "shop/storage/bucket")
    assets = stack.by_path("aws_s3_bucket", "shop/assets/bucket/bucket")
    assert storage["bucket_prefix"] == "laravel-storage-"
    assert assets["bucket_prefix"] == "laravel-assets-"
    block = stack.by_path("aws_s3_bucket_public_access_block", "shop/storage/public-access-block")
    assert block["restrict_public_buckets"] is True


def test_http_api_of_the_app_targets_the_web_function(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    integration = stack.by_path("aws_apigatewayv2_integration", "shop/api/integration")
    assert integration["integration_uri"] == ref(stack, "aws_lambda_alias", "shop/web/live",
                                                 "invoke_arn")


def test_outputs(stacks: dict[str, Stack]) -> None:
    stack = stacks["shop"]
    outputs = stack.doc["output"]
    assert set(outputs) == {"shop_url", "shop_api_url", "shop_web_function",
                            "shop_console_function", "shop_storage_bucket",
                            "shop_assets_bucket", "shop_distribution_id"}
    assert outputs["shop_url"]["value"] == "https://shop.example.com"
    assert outputs["shop_api_url"]["value"] == ref(stack, "aws_apigatewayv2_api", "shop/api/api",
                                                   "api_endpoint")
    assert outputs["shop_distribution_id"]["value"] == ref(
        stack, "aws_cloudfront_distribution", "shop/assets/distribution", "id")


def test_no_secret_value_anywhere(stacks: dict[str, Stack]) -> None:
    """Secrets reach the JSON as references: every secret variable is a bref-ssm: path."""
    for stack in stacks.values():
        text = json.dumps(stack.doc)
        assert "base64:" not in text
        for fn in stack.resources("aws_lambda_function").values():
            for key, value in fn["environment"]["variables"].items():
                if key in {"APP_KEY", "DB_PASSWORD", "MAIL_PASSWORD"}:
                    assert value.startswith("bref-ssm:/"), (key, value)


def test_every_list_block_kept_its_keys(stacks: dict[str, Stack]) -> None:
    """No nested block of the new resources lost its multi-word keys on the way to JSON."""
    for stack in stacks.values():
        for distribution in stack.resources("aws_cloudfront_distribution").values():
            for origin in distribution["origin"]:
                assert origin["origin_id"] and origin["domain_name"]
            for behavior in distribution.get("ordered_cache_behavior", []):
                assert {"path_pattern", "target_origin_id", "cache_policy_id"} <= set(behavior)
        for acl in stack.resources("aws_wafv2_web_acl").values():
            for rule in acl["rule"]:
                assert {"name", "priority", "statement", "visibility_config"} <= set(rule)


# Offline Terraform on the synthesized stacks (custom domains and records included).


def terraform_failure(stack: Stack) -> str | None:
    """Why init, validate or a full plan fails on ``stack``, or None."""
    terraform.offline(stack.directory)
    for step in (terraform.init, terraform.validate, terraform.plan):
        result = step(stack.directory)
        if result.returncode != 0:
            return f"{result.command}\n{result.output[-3000:]}"
    expected = sum(len(v) for v in stack.doc.get("resource", {}).values())
    if f"Plan: {expected} to add, 0 to change, 0 to destroy" not in result.output:
        return result.output[-3000:]
    return None


@pytest.mark.terraform
@pytest.mark.skipif(terraform.unavailable_reason() is not None,
                    reason=terraform.unavailable_reason() or "")
def test_terraform_validate_and_plan(stacks: dict[str, Stack]) -> None:
    """The stacks main.py does not cover: custom domains, Route 53 records, an existing ACL."""
    chosen = [stacks[name] for name in ("api", "front", "shop")]
    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        failures = dict(zip([s.name for s in chosen], pool.map(terraform_failure, chosen),
                            strict=True))
    assert {name: f for name, f in failures.items() if f} == {}


# Bad input: each rule raises at construction, naming the prop, and adds nothing to the tree.


@pytest.fixture
def stack() -> LaravelStack:
    return LaravelStack(App(), "errors", region="eu-west-1")


@pytest.fixture
def east() -> LaravelStack:
    return LaravelStack(App(), "east", region="us-east-1")


def assert_refused(error: pytest.ExceptionInfo[ConfigurationError], prop: str) -> None:
    assert error.value.prop == prop
    assert "Fix:" in str(error.value)


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"throttling_burst_limit": 0}, "throttling_burst_limit"),
        ({"throttling_burst_limit": 5001}, "throttling_burst_limit"),
        ({"throttling_burst_limit": 10.5}, "throttling_burst_limit"),
        ({"throttling_rate_limit": 0}, "throttling_rate_limit"),
        ({"throttling_rate_limit": -1.0}, "throttling_rate_limit"),
        ({"throttling_rate_limit": 10_001}, "throttling_rate_limit"),
        ({"log_retention_days": 31}, "log_retention_days"),
        ({"domain_name": "api.example.com"}, "certificate_arn"),
        ({"certificate_arn": REGIONAL_CERT}, "domain_name"),
        ({"domain_name": "Not A Domain", "certificate_arn": REGIONAL_CERT}, "domain_name"),
        ({"domain_name": "api.example.com", "certificate_arn": EDGE_CERT}, "certificate_arn"),
        ({"domain_name": "api.example.com", "certificate_arn": "arn:aws:iam::1:x"},
         "certificate_arn"),
        ({"hosted_zone_id": ZONE}, "hosted_zone_id"),
        ({"domain_name": "api.example.com", "certificate_arn": REGIONAL_CERT,
          "hosted_zone_id": "zone"}, "hosted_zone_id"),
        ({"disable_execute_api_endpoint": True}, "disable_execute_api_endpoint"),
        ({"disable_execute_api_endpoint": "yes"}, "disable_execute_api_endpoint"),
        ({"disable_execute_api_endpoint": 1}, "disable_execute_api_endpoint"),
        ({"name": ""}, "name"),
        ({"name": "a" * 129}, "name"),
        ({"name": "my api"}, "name"),
        ({"name": 42}, "name"),
        ({"cors": {"allow_origins": ["*"]}}, "cors"),
        ({"function": "web"}, "function"),
    ],
)
def test_http_api_bad_props(stack: LaravelStack, props: dict, prop: str) -> None:
    web = PhpFunction(stack, "web", app=LARAVEL_APP)
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        HttpApi(stack, "bad", **{"function": web, **props})
    assert_refused(error, prop)
    assert len(stack.node.children) == before


@pytest.mark.parametrize(
    ("function_props", "prop"),
    [
        ({"timeout": 30}, "function.timeout"),
        ({"runtime": "console"}, "function.runtime"),
        ({"runtime": "function", "handler": QUEUE_HANDLER}, "function.runtime"),
        ({"runtime": "function", "handler": OCTANE}, "function.timeout"),
    ],
)
def test_http_api_refuses_functions_it_cannot_front(
    stack: LaravelStack, function_props: dict, prop: str,
) -> None:
    fn = PhpFunction(stack, "fn", app=LARAVEL_APP, **function_props)
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        HttpApi(stack, "bad", function=fn)
    assert_refused(error, prop)
    assert len(stack.node.children) == before


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"allow_origins": ("*",), "allow_credentials": True}, "allow_credentials"),
        ({"allow_origins": ()}, "allow_origins"),
        ({"allow_origins": ("app.example.com",)}, "allow_origins"),
        ({"allow_origins": ("https://app.example.com/path",)}, "allow_origins"),
        ({"allow_origins": ("*",), "max_age": 90_000}, "max_age"),
        ({"allow_origins": ("https://app.example.com",), "allow_credentials": "true"},
         "allow_credentials"),
        ({"allow_origins": ("https://app.example.com",), "allow_credentials": 1},
         "allow_credentials"),
    ],
)
def test_cors_rules(props: dict, prop: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        Cors(**props)
    assert_refused(error, prop)


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"static_paths": ["build/*"]}, "static_paths"),
        ({"static_paths": ["/build/*", "/build/*"]}, "static_paths"),
        ({"static_paths": [f"/p{i}/*" for i in range(25)]}, "static_paths"),
        ({"static_paths": ["/" + "a" * 255]}, "static_paths"),
        ({"price_class": "PriceClass_Cheap"}, "price_class"),
        ({"domain_names": ["www.example.com"]}, "certificate_arn"),
        ({"certificate_arn": EDGE_CERT}, "domain_names"),
        ({"domain_names": ["www.example.com"], "certificate_arn": REGIONAL_CERT},
         "certificate_arn"),
        ({"hosted_zone_id": ZONE}, "hosted_zone_id"),
        ({"waf_rate_limit": 2000}, "waf_rate_limit"),
        ({"web_acl_arn": "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/1"},
         "web_acl_arn"),
        ({"waf_rate_limit": 2000, "web_acl_arn": WEB_ACL}, "waf_rate_limit"),
        ({"bucket_prefix": "Bad_Prefix"}, "bucket_prefix"),
        ({"bucket_prefix": ""}, "bucket_prefix"),
        ({"bucket_prefix": "-leading-hyphen"}, "bucket_prefix"),
        ({"bucket_prefix": "a" * 38}, "bucket_prefix"),
        ({"bucket_prefix": "xn--punycode-"}, "bucket_prefix"),
        ({"bucket_prefix": None}, "bucket_prefix"),
        ({"force_destroy": "yes"}, "force_destroy"),
        ({"force_destroy": "false"}, "force_destroy"),
        ({"set_asset_url": 1}, "set_asset_url"),
        ({"verify_origin": "false"}, "verify_origin"),
    ],
)
def test_assets_bad_props(stack: LaravelStack, props: dict, prop: str) -> None:
    api = HttpApi(stack, "api", function=PhpFunction(stack, "web", app=LARAVEL_APP))
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        Assets(stack, "bad", api=api, **props)
    assert_refused(error, prop)
    assert len(stack.node.children) == before


def test_assets_refuse_a_second_front_on_the_same_api(stack: LaravelStack) -> None:
    api = HttpApi(stack, "api", function=PhpFunction(stack, "web", app=LARAVEL_APP))
    Assets(stack, "first", api=api)
    before = len(stack.node.children)
    with pytest.raises(ConfigurationError) as error:
        Assets(stack, "second", api=api)
    assert_refused(error, "verify_origin")
    assert len(stack.node.children) == before
    Assets(stack, "second", api=api, verify_origin=False)


def test_failure_while_building_assets_leaves_nothing(
    east: LaravelStack, monkeypatch: pytest.MonkeyPatch,
) -> None:
    web = PhpFunction(east, "web", app=LARAVEL_APP)
    api = HttpApi(east, "api", function=web)
    before = len(east.node.children)

    def broken(self: Assets, limit: int) -> object:
        raise RuntimeError("web ACL failed")

    monkeypatch.setattr(Assets, "_web_acl", broken)
    with pytest.raises(RuntimeError):
        Assets(east, "bad", api=api, waf_rate_limit=2000)
    assert len(east.node.children) == before
    assert east.node.try_find_child("bad") is None
    assert api.origin_authorizer is None and api.node.try_find_child("origin-verify") is None


@pytest.mark.parametrize("prefix", ["laravel-assets-", "a", "my-app-1-", "0abc", "a" * 37])
def test_bucket_prefixes_assets_accept_private_bucket_accepts(prefix: str) -> None:
    assert check_bucket_prefix("Assets", prefix) == prefix
    PrivateBucket(LaravelStack(App(), "b", region="eu-west-1"), "bucket", bucket_prefix=prefix)


@pytest.mark.parametrize("prefix", ["Bad_Prefix", "xn--abc-", "-abc-", "a" * 38, "é-", ""])
def test_private_bucket_refuses_what_s3_refuses(prefix: str) -> None:
    stack = LaravelStack(App(), "b", region="eu-west-1")
    with pytest.raises(ConfigurationError) as error:
        PrivateBucket(stack, "bucket", bucket_prefix=prefix)
    assert error.value.prop == "bucket_prefix"
    assert stack.node.try_find_child("bucket") is None


def test_http_api_name_limits(stack: LaravelStack) -> None:
    web = PhpFunction(stack, "web", app=LARAVEL_APP)
    api = HttpApi(stack, "long", function=web, name="a" * 128)
    assert api.name == "a" * 128
    other = PhpFunction(stack, "web2", app=LARAVEL_APP)
    assert HttpApi(stack, "chars", function=other, name="shop_web-1.v2/#x").name


def test_waf_outside_us_east_1_names_the_region_rule(stack: LaravelStack) -> None:
    api = HttpApi(stack, "api", function=PhpFunction(stack, "web", app=LARAVEL_APP))
    with pytest.raises(ConfigurationError, match="us-east-1") as error:
        Assets(stack, "bad", api=api, waf_rate_limit=2000)
    assert "web_acl_arn" in error.value.fix


@pytest.mark.parametrize("limit", [9, 2_000_000_001, True, 100.0])
def test_waf_rate_limit_range(east: LaravelStack, limit: object) -> None:
    api = HttpApi(east, "api", function=PhpFunction(east, "web", app=LARAVEL_APP))
    with pytest.raises(ConfigurationError) as error:
        Assets(east, "bad", api=api, waf_rate_limit=limit)
    assert_refused(error, "waf_rate_limit")


def app_props(**props: object) -> dict:
    return {"app": LARAVEL_APP, "secrets": {"APP_KEY": SecretRef.ssm(
        "arn:aws:ssm:eu-west-1:111122223333:parameter/app/key")}, **props}


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"web": FunctionOptions(timeout=30)}, "web.timeout"),
        ({"web": {"memory_size": 2048}}, "web"),
        ({"console": 1024}, "console"),
        ({"web": FunctionOptions(environment={"DB_PASSWORD": "hunter2"})}, "web.environment"),
        ({"console": FunctionOptions(environment={"APP_URL": "https://x"})},
         "console.environment"),
        ({"web": FunctionOptions(environment={"N": 1})}, "web.environment['N']"),
        ({"web_timeout": 30}, "web.timeout"),
        ({"web_timeout": 0}, "web_timeout"),
        ({"web_memory": 64}, "web_memory"),
        ({"console_timeout": 901}, "console_timeout"),
        ({"web_memory": 2048, "web": FunctionOptions(memory_size=1024)}, "web_memory"),
        ({"environment": {"APP_KEY": "base64:c2VjcmV0"}}, "environment"),
        ({"environment": {"DB_PASSWORD": "hunter2"}}, "environment"),
        ({"environment": {"STRIPE_WEBHOOK_SECRET": "whsec"}}, "environment"),
        ({"environment": {"GITHUB_TOKEN": "ghp"}}, "environment"),
        ({"environment": {"APP_URL": "https://x"}}, "environment"),
        ({"environment": {"MAINTENANCE_MODE": "false"}}, "environment"),
        ({"secrets": {}}, "secrets"),
        ({"secrets": {"APP_KEY": "base64:c2VjcmV0"}}, "secrets['APP_KEY']"),
        ({"secrets": {"APP_KEY": SecretRef.ssm(
            "arn:aws:ssm:us-east-1:111122223333:parameter/app/key")}}, "secrets['APP_KEY']"),
        ({"throttling_rate_limit": 0}, "throttling_rate_limit"),
        ({"static_paths": ["images/*"]}, "static_paths"),
        ({"domain_name": "shop.example.com"}, "certificate_arn"),
        ({"waf_rate_limit": 2000}, "waf_rate_limit"),
        ({"maintenance": "yes"}, "maintenance"),
        ({"app_env": ""}, "app_env"),
        ({"app": "/nonexistent/app"}, "app"),
        ({"log_retention_days": 2}, "log_retention_days"),
        ({"web_reserved_concurrency": -1}, "web_reserved_concurrency"),
        ({"console_reserved_concurrency": True}, "console_reserved_concurrency"),
        ({"force_destroy": "yes"}, "force_destroy"),
        ({"force_destroy": 0}, "force_destroy"),
        ({"maintenance": 1}, "maintenance"),
        ({"environment": {"QUEUE_CONNECTION": 3}}, "environment['QUEUE_CONNECTION']"),
        ({"environment": {"BIG": "x" * 4000}}, "environment"),
        ({"name": "n" * 4100}, "environment"),
    ],
)
@pytest.mark.filterwarnings("ignore:LaravelApp.*is deprecated:DeprecationWarning")
def test_laravel_app_bad_props(stack: LaravelStack, props: dict, prop: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        LaravelApp(stack, "bad", **app_props(**props))
    assert_refused(error, prop)
    assert len(stack.node.children) == 1


def test_secret_literal_errors_never_echo_the_value(stack: LaravelStack) -> None:
    with pytest.raises(ConfigurationError) as error:
        LaravelApp(stack, "bad", **app_props(environment={"DB_PASSWORD": "hunter2"}))
    assert "hunter2" not in str(error.value)
    assert "secrets=" in error.value.fix


def test_failure_inside_a_child_leaves_nothing(stack: LaravelStack) -> None:
    with pytest.raises(ConfigurationError) as error:
        LaravelApp(stack, "bad", **app_props(php_version="7.4"))
    assert error.value.prop == "php_version"
    assert len(stack.node.children) == 1


def test_add_environment_and_secret_rules(stack: LaravelStack) -> None:
    app = LaravelApp(stack, "site", **app_props())
    with pytest.raises(ConfigurationError) as error:
        app.add_environment("REDIS_PASSWORD", "secret")
    assert_refused(error, "environment")
    with pytest.raises(ConfigurationError) as error:
        app.add_environment("APP_ENV", "staging")
    assert_refused(error, "environment")
    with pytest.raises(ConfigurationError) as error:
        app.add_secret("REDIS_PASSWORD", "secret")  # type: ignore[arg-type]
    assert_refused(error, "secrets['REDIS_PASSWORD']")
    with pytest.raises(ConfigurationError) as error:
        app.add_secret("APP_KEY", SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/b"))
    assert_refused(error, "secrets")
    assert [f.node.id for f in app.functions] == ["web", "console"]


def test_add_function_applies_later_environment(stack: LaravelStack) -> None:
    app = LaravelApp(stack, "site", **app_props())
    worker = PhpFunction(stack, "worker", app=LARAVEL_APP, runtime="function",
                         handler=QUEUE_HANDLER)
    app.add_function(worker)
    app.add_function(worker)
    app.add_environment("QUEUE_CONNECTION", "sqs")
    assert worker.environment["QUEUE_CONNECTION"] == "sqs"
    assert worker.environment["APP_KEY"] == "bref-ssm:/app/key"
    assert app.functions == [app.web, app.console, worker]
    with pytest.raises(ConfigurationError) as error:
        app.add_function("worker")  # type: ignore[arg-type]
    assert_refused(error, "function")


@pytest.mark.parametrize(
    ("build_ref", "prop"),
    [
        (lambda: SecretRef("arn:aws:ssm:eu-west-1:111122223333:thing/x"), "arn"),
        (lambda: SecretRef("/app/key"), "arn"),
        (lambda: SecretRef("arn:aws:secretsmanager:eu-west-1:111122223333:secret:db"), "arn"),
        (lambda: SecretRef(""), "arn"),
        (lambda: SecretRef.secrets_manager(
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-Ab12Cd", json_key="pw"),
         "json_key"),
        (lambda: SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/a",
                               kms_key_arn="alias/aws/ssm"), "kms_key_arn"),
        (lambda: SecretRef.ssm(
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-Ab12Cd"), "arn"),
        (lambda: SecretRef.secrets_manager("arn:aws:ssm:eu-west-1:111122223333:parameter/a"),
         "arn"),
        (lambda: SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/a", name="/a"),
         "name"),
    ],
)
def test_bad_secret_refs(build_ref: object, prop: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        build_ref()  # type: ignore[operator]
    assert error.value.where == "SecretRef"
    assert_refused(error, prop)


def test_secret_ref_from_tokens(stack: LaravelStack) -> None:
    arn = TerraformVariable(stack, "secret_arn", type="string").string_value
    derived = SecretRef.secrets_manager(arn)
    assert cdk.is_token(derived.name) and derived.env_value.startswith(
        "bref-ssm:/aws/reference/secretsmanager/${TfToken[")
    with pytest.raises(ConfigurationError) as error:
        SecretRef.secrets_manager(arn, name="shop db")
    assert_refused(error, "name")
    ref = SecretRef.secrets_manager(arn, name="shop/db")
    assert ref.env_value == "bref-ssm:/aws/reference/secretsmanager/shop/db"
    assert ref.region is None
    assert re.match(r"^arn:aws:ssm:eu-west-1:\$\{TfToken\[.+\]\}:parameter/aws/reference/"
                    r"secretsmanager/shop/db$", ref.parameter_arn("aws", "eu-west-1"))


def test_ssm_ref_from_tokens(stack: LaravelStack) -> None:
    arn = TerraformVariable(stack, "parameter_arn", type="string").string_value
    ref = SecretRef.ssm(arn, name="/app/key")
    assert ref.env_value == "bref-ssm:/app/key"
    assert ref.parameter_arn("aws", "eu-west-1") == arn
    with pytest.raises(ConfigurationError) as error:
        SecretRef(arn, name="/app/key")
    assert_refused(error, "kind")


def test_parameter_names_follow_the_arn(stack: LaravelStack) -> None:
    hierarchical = SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/app/key")
    flat = SecretRef.ssm("arn:aws:ssm:eu-west-1:111122223333:parameter/app-key")
    assert hierarchical.env_value == "bref-ssm:/app/key"
    assert flat.env_value == "bref-ssm:app-key"


def test_the_authorizer_package_holds_its_handler_only(stacks: dict[str, Stack]) -> None:
    import zipfile

    function = stacks["front"].by_path("aws_lambda_function", "http/origin-verify/function")
    archive = stacks["front"].directory / function["filename"]
    with zipfile.ZipFile(archive) as opened:
        assert opened.namelist() == ["origin_verify.py"]

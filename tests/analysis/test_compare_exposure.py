"""Network exposure, encryption and secrets read from hand-written Terraform JSON: exact counts."""

from __future__ import annotations

import json
from typing import Any

from serverless_laravel.analysis import compare, exposure, iam


def _meta(path: str) -> dict[str, Any]:
    return {"//": {"metadata": {"path": f"fixture/{path}"}}}


LB = "${aws_lb.public.arn}"
NETWORK: dict[str, Any] = {"resource": {
    "aws_security_group": {
        "web": {**_meta("web/group")},
        "db": {**_meta("db/group")},
        "legacy": {**_meta("legacy/group"), "ingress": [{
            "from_port": 8080, "to_port": 8090, "protocol": "tcp",
            "cidr_blocks": ["0.0.0.0/0", "10.0.0.0/8"]}]},
    },
    "aws_vpc_security_group_ingress_rule": {
        "https": {"security_group_id": "${aws_security_group.web.id}", "cidr_ipv4": "0.0.0.0/0",
                  "from_port": 443, "to_port": 443, "ip_protocol": "tcp"},
        "ssh": {"security_group_id": "${aws_security_group.web.id}", "cidr_ipv6": "::/0",
                "from_port": 22, "to_port": 22, "ip_protocol": "tcp"},
        "db": {"security_group_id": "${aws_security_group.db.id}",
               "referenced_security_group_id": "${aws_security_group.web.id}",
               "from_port": 5432, "to_port": 5432, "ip_protocol": "tcp"},
    },
    "aws_security_group_rule": {"cache": {
        "type": "ingress", "security_group_id": "${aws_security_group.db.id}",
        "source_security_group_id": "sg-0aaaaaaaaaaaaaaaa", "from_port": 6379,
        "to_port": 6379, "protocol": "tcp"}},
    "aws_lb": {
        "public": {**_meta("alb"), "internal": False, "load_balancer_type": "application",
                   "security_groups": ["${aws_security_group.web.id}"]},
        "private": {**_meta("nlb"), "internal": True, "load_balancer_type": "network"},
    },
    "aws_lb_listener": {
        "https": {**_meta("alb/https"), "load_balancer_arn": LB, "port": 443,
                  "protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                  "default_action": [{"type": "forward"}]},
        "http": {**_meta("alb/http"), "load_balancer_arn": LB, "port": 80, "protocol": "HTTP",
                 "default_action": [{"type": "forward"}]},
    },
    "aws_wafv2_web_acl_association": {"alb": {"resource_arn": LB}},
    "aws_ecs_service": {"web": {**_meta("web/service"), "network_configuration": {
        "assign_public_ip": True, "security_groups": ["${aws_security_group.web.id}"]}}},
    "aws_lambda_function": {"fn": {**_meta("fn/function"), "vpc_config": {
        "security_group_ids": ["sg-0aaaaaaaaaaaaaaaa"]}}},
    "aws_db_instance": {"db": {**_meta("db/instance"), "publicly_accessible": True, "port": 5432,
                               "storage_encrypted": False,
                               "vpc_security_group_ids": ["${aws_security_group.db.id}"]}},
    "aws_apigatewayv2_api": {
        "closed": {**_meta("api/closed"), "protocol_type": "HTTP",
                   "disable_execute_api_endpoint": True},
        "open": {**_meta("api/open"), "protocol_type": "HTTP"},
    },
    "aws_apigatewayv2_route": {"open": {"api_id": "${aws_apigatewayv2_api.open.id}",
                                        "route_key": "$default"}},
    "aws_cloudfront_distribution": {"cdn": {
        **_meta("cdn"), "viewer_certificate": {"cloudfront_default_certificate": True},
        "default_cache_behavior": {"viewer_protocol_policy": "https-only"},
        "origin": [{"custom_origin_config": {"origin_protocol_policy": "http-only"}}]}},
    "aws_lambda_function_url": {"url": {**_meta("fn/url"), "authorization_type": "NONE"}},
}}


def test_public_endpoints_are_the_internet_facing_ones() -> None:
    endpoints = exposure.network(NETWORK).public_endpoints
    assert [(e.kind, e.resource, e.ports) for e in endpoints] == [
        ("CloudFront distribution", "cdn", "443"),
        ("HTTP API execute-api endpoint", "api/open", "443"),
        ("Lambda function URL", "fn/url", "443"),
        ("RDS instance", "db/instance", "5432"),
        ("internet-facing application load balancer", "alb",
         "80 HTTP (forward), 443 HTTPS (forward)"),
    ]
    details = {e.resource: e.detail for e in endpoints}
    assert details["api/open"].startswith("routes: $default NONE")
    assert details["alb"] == "WAF web ACL"
    assert details["cdn"].endswith("no WAF")


def test_public_ips_world_open_rules_and_who_listens() -> None:
    net = exposure.network(NETWORK)
    assert len(net.public_ips) == 3
    assert [(r.group, r.ports, r.source) for r in net.world_open] == [
        ("legacy/group", "8080-8090", "0.0.0.0/0"),
        ("web/group", "22", "::/0"),
        ("web/group", "443", "0.0.0.0/0"),
    ]
    assert len(net.ingress) == 6
    by_port = {r.ports: r for r in net.ingress}
    assert by_port["5432"].listeners == "db/instance"
    assert by_port["5432"].source == "web/group (alb, web/service)"
    assert by_port["6379"].source == "sg-0aaaaaaaaaaaaaaaa (fn/function)"
    assert by_port["443"].listeners == "alb, web/service"


ENCRYPTION: dict[str, Any] = {
    "data": {"aws_iam_policy_document": {"tls": {"statement": [{
        "effect": "Deny", "actions": ["s3:*"], "resources": ["*"],
        "condition": [{"test": "Bool", "variable": "aws:SecureTransport",
                       "values": ["false"]}]}]}}},
    "resource": {
        "aws_s3_bucket": {"kept": {**_meta("kept")}, "loose": {**_meta("loose")}},
        "aws_s3_bucket_policy": {"kept": {"bucket": "${aws_s3_bucket.kept.id}",
                                          "policy": "${data.aws_iam_policy_document.tls.json}"}},
        "aws_s3_bucket_server_side_encryption_configuration": {"kept": {
            "bucket": "${aws_s3_bucket.kept.id}", "rule": [{
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms", "kms_master_key_id": "arn:aws:kms:k"}}]}},
        "aws_sqs_queue": {"q": {**_meta("q"), "kms_master_key_id": "alias/aws/sqs"}},
        "aws_db_instance": {"db": {**_meta("db"), "storage_encrypted": False}},
        "aws_lb_target_group": {"tg": {**_meta("tg"), "protocol": "HTTP", "port": 8080}},
        "aws_ssm_parameter": {"plain": {**_meta("plain"), "type": "String"}},
        "aws_sns_topic": {"topic": {**_meta("topic")}},
        "aws_cloudtrail": {"trail": {**_meta("trail"), "kms_key_id": "arn:aws:kms:k"}},
    },
}


def test_encryption_classes_per_resource() -> None:
    rows = {(r.resource, r.at_rest, r.in_transit) for r in exposure.encryption(ENCRYPTION)}
    assert rows == {
        ("kept", exposure.CUSTOMER_KEY, exposure.ENFORCED),
        ("loose", exposure.AWS_KEY, exposure.NOT_ENFORCED),
        ("q", exposure.AWS_KEY, exposure.NOT_ENFORCED),
        ("db", exposure.NONE, "engine default"),
        ("tg", "", exposure.NOT_ENFORCED),
        ("plain", exposure.NONE, ""),
        ("topic", exposure.NONE, ""),
        ("trail", exposure.CUSTOMER_KEY, ""),
    }
    assert exposure.encryption_summary(exposure.encryption(ENCRYPTION)) == {
        "at_rest": {"AWS key": 2, "customer KMS key": 2, "none": 3},
        "in_transit": {"engine default": 1, "enforced": 1, "not enforced": 3},
    }


CONTAINERS = json.dumps([{
    "name": "php", "environment": [
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "SQS_PREFIX", "value": "@REF@"}],
    "secrets": [{"name": "APP_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/k"}]}]
).replace("@REF@", '${element(regex("^(.*)/[^/]{1,9}$", aws_sqs_queue.q.url), 0)}')
SECRETS: dict[str, Any] = {"resource": {
    "aws_secretsmanager_secret": {"s": {**_meta("secret"), "kms_key_id": "arn:aws:kms:k"}},
    "aws_lambda_function": {"fn": {**_meta("fn"), "role": "${aws_iam_role.fn.arn}",
                                   "environment": {"variables": {
                                       "APP_KEY": "bref-ssm:/app/key", "API_TOKEN": "abc",
                                       "APP_NAME": "x"}}}},
    "aws_ecs_task_definition": {"task": {**_meta("task"), "container_definitions": CONTAINERS,
                                         "task_role_arn": "${aws_iam_role.task.arn}"}},
    "aws_iam_role": {"fn": {**_meta("fn/role")}, "task": {**_meta("task/role")}},
    "aws_iam_role_policy": {"fn": {"role": "${aws_iam_role.fn.id}", "policy": json.dumps({
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                       "Resource": "${aws_secretsmanager_secret.s.arn}"}]})}},
}}


def test_secrets_stores_deliveries_plaintext_and_readers() -> None:
    principals = iam.principals(SECRETS)
    found = exposure.secrets(SECRETS, principals)
    assert found.stores == ["secret: Secrets Manager secret (customer KMS key)"]
    assert {(u.consumer, u.name, u.delivery.split(" ")[0]) for u in found.uses} == {
        ("fn", "APP_KEY", "reference"), ("fn", "API_TOKEN", "plaintext"),
        ("task (php)", "APP_KEY", "injected"), ("task (php)", "DB_PASSWORD", "plaintext"),
    }
    assert len(found.plaintext) == 2
    assert found.readers == {"fn/role": ["secretsmanager: secret"]}
    design = compare.measure("fixture", SECRETS, {}, {})
    assert design.code_roles == ["fn/role", "task/role"]
    assert design.headline()["code_roles_reading_secrets"] == 1


def test_checkov_results_are_summed_per_category() -> None:
    checks = {"CKV_AWS_1": {"passed": 2, "failed": 1, "skipped": 0},
              "CKV_AWS_2": {"passed": 1, "failed": 0, "skipped": 3},
              "CKV_X_9": {"passed": 1, "failed": 0, "skipped": 0}}
    catalog = {"CKV_AWS_1": {"category": "IAM"}, "CKV_AWS_2": {"category": "IAM"}}
    assert compare.checkov_by_category(checks, catalog) == {
        "IAM": {"passed": 3, "failed": 1, "skipped": 3},
        "UNKNOWN": {"passed": 1, "failed": 0, "skipped": 0},
    }

"""CloudFront: PublishFunction and the LIVE stage, and response headers policies.

moto 5.2.5 keeps functions in DEVELOPMENT only (PublishFunction answers 404) and has no
response headers policies. Publishing copies the development code to LIVE and marks the
function ``UNASSOCIATED`` (published, in no distribution yet), as AWS does; DescribeFunction
honours ``Stage``. Policies are stored as given, with an id and an ETag that changes on update.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudfront.exceptions import NoSuchFunctionExists
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random

API = "{0}/2020-05-31"
PATHS = {
    "/function/(?P<function_name>[^/]+)/publish$",
    "/response-headers-policy$",
    "/response-headers-policy/(?P<policy_id>[^/]+)$",
    "/response-headers-policy/(?P<policy_id>[^/]+)/config$",
}


class NoSuchResponseHeadersPolicy(ServiceException):
    code = "NoSuchResponseHeadersPolicy"


def _etag() -> str:
    return mock_random.get_random_hex(14).upper()


def _summary(function: Any, stage: str) -> dict[str, Any]:
    summary = copy.deepcopy(function.function_summary)
    summary["FunctionMetadata"]["Stage"] = stage
    return summary


def publish_function(self: Any) -> ActionResult:
    """PublishFunction: the development code becomes LIVE."""
    function = self.backend.describe_function(self._get_param("Name"))
    function.live = {"code": function.code, "config": copy.deepcopy(function.config),
                     "etag": _etag()}
    function.status = "UNASSOCIATED"
    function.last_modified_time = utcnow()
    return ActionResult({"FunctionSummary": _summary(function, "LIVE")})


def describe_function(self: Any) -> ActionResult:
    """DescribeFunction: the DEVELOPMENT stage, or LIVE once published."""
    name = self._get_param("Name")
    function = self.backend.describe_function(name)
    if self._get_param("Stage") == "LIVE":
        live = getattr(function, "live", None)
        if live is None:
            raise NoSuchFunctionExists(name)
        return ActionResult({"FunctionSummary": _summary(function, "LIVE"), "ETag": live["etag"]})
    return ActionResult({"FunctionSummary": _summary(function, "DEVELOPMENT"),
                         "ETag": function.etag})


def _policies(self: Any) -> dict[str, dict[str, Any]]:
    return self.backend.__dict__.setdefault("emulator_response_headers_policies", {})


def _policy(self: Any) -> dict[str, Any]:
    policy_id = self._get_param("Id")
    policies = _policies(self)
    if policy_id not in policies:
        raise NoSuchResponseHeadersPolicy(f"The response headers policy {policy_id} does not "
                                          "exist.")
    return policies[policy_id]


def _policy_result(policy: dict[str, Any]) -> dict[str, Any]:
    return {"ResponseHeadersPolicy": {key: policy[key] for key in
                                      ("Id", "LastModifiedTime", "ResponseHeadersPolicyConfig")},
            "ETag": policy["ETag"]}


def create_response_headers_policy(self: Any) -> ActionResult:
    """CreateResponseHeadersPolicy: stored as given."""
    policy_id = str(mock_random.uuid4())
    policy = {"Id": policy_id, "LastModifiedTime": utcnow(), "ETag": _etag(),
              "ResponseHeadersPolicyConfig": self._get_param("ResponseHeadersPolicyConfig", {})}
    _policies(self)[policy_id] = policy
    location = f"https://cloudfront.amazonaws.com/2020-05-31/response-headers-policy/{policy_id}"
    return ActionResult({**_policy_result(policy), "Location": location})


def get_response_headers_policy(self: Any) -> ActionResult:
    """GetResponseHeadersPolicy."""
    return ActionResult(_policy_result(_policy(self)))


def get_response_headers_policy_config(self: Any) -> ActionResult:
    """GetResponseHeadersPolicyConfig."""
    policy = _policy(self)
    return ActionResult({"ResponseHeadersPolicyConfig": policy["ResponseHeadersPolicyConfig"],
                         "ETag": policy["ETag"]})


def update_response_headers_policy(self: Any) -> ActionResult:
    """UpdateResponseHeadersPolicy: the new config replaces the old; a new ETag."""
    policy = _policy(self)
    policy.update(ResponseHeadersPolicyConfig=self._get_param("ResponseHeadersPolicyConfig", {}),
                  LastModifiedTime=utcnow(), ETag=_etag())
    return ActionResult(_policy_result(policy))


def delete_response_headers_policy(self: Any) -> EmptyResult:
    """DeleteResponseHeadersPolicy."""
    del _policies(self)[_policy(self)["Id"]]
    return EmptyResult()


HANDLERS = (publish_function, describe_function, create_response_headers_policy,
            get_response_headers_policy, get_response_headers_policy_config,
            update_response_headers_policy, delete_response_headers_policy)


def extend() -> None:
    """Route the new paths to moto's CloudFront response class and register the handlers."""
    from moto.cloudfront import urls
    from moto.cloudfront.responses import CloudFrontResponse

    for path in PATHS:
        urls.url_paths.setdefault(API + path, CloudFrontResponse.dispatch)
    for handler in HANDLERS:
        setattr(CloudFrontResponse, handler.__name__, handler)

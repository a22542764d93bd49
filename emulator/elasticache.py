"""ElastiCache: user groups and serverless caches, which moto 5.2.5 does not implement.

What is set is stored per account and region and returned in the shapes of the 2015-02-02 API
(``UserGroup``, ``ServerlessCache``); delete removes it, so the next describe answers
``UserGroupNotFound`` / ``ServerlessCacheNotFoundFault`` as AWS does once deletion finishes.
New resources are ``active`` / ``available`` at once: there is nothing to wait for.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

REDIS_PORT = 6379
FULL_VERSIONS = {"valkey": {"7": "7.2", "8": "8.0"}, "redis": {"7": "7.1"}}


class UserGroupNotFound(ServiceException):
    code = "UserGroupNotFound"


class UserGroupAlreadyExists(ServiceException):
    code = "UserGroupAlreadyExists"


class DefaultUserRequired(ServiceException):
    code = "DefaultUserRequired"


class ServerlessCacheNotFound(ServiceException):
    code = "ServerlessCacheNotFoundFault"


class ServerlessCacheAlreadyExists(ServiceException):
    code = "ServerlessCacheAlreadyExistsFault"


def _store(backend: Any, kind: str) -> dict[str, dict[str, Any]]:
    """The emulator's records of ``kind`` on one moto backend (reset along with it)."""
    return backend.__dict__.setdefault(f"emulator_{kind}", {})


def _arn(backend: Any, kind: str, name: str) -> str:
    return f"arn:aws:elasticache:{backend.region_name}:{backend.account_id}:{kind}:{name}"


def _set_user_groups(backend: Any, user_ids: list[str], group_id: str, member: bool) -> None:
    """Keep each moto user's ``UserGroupIds`` in step with the groups that hold it."""
    for user_id in user_ids:
        if user_id not in backend.users:
            raise ServiceException("UserNotFound", f"User {user_id} not found.")
        groups = backend.users[user_id].user_group_ids
        if member and group_id not in groups:
            groups.append(group_id)
        if not member and group_id in groups:
            groups.remove(group_id)


def create_user_group(self: Any) -> ActionResult:
    """CreateUserGroup: the group holds its users at once (status ``active``)."""
    params = self._get_params()
    backend, group_id = self.elasticache_backend, params["UserGroupId"]
    groups = _store(backend, "user_groups")
    if group_id in groups:
        raise UserGroupAlreadyExists(f"User group {group_id} already exists.")
    user_ids = list(params.get("UserIds") or [])
    names = [backend.users[u].name for u in user_ids if u in backend.users]
    if "default" not in names:
        raise DefaultUserRequired("User group needs to contain a user with the user name default.")
    _set_user_groups(backend, user_ids, group_id, member=True)
    arn = _arn(backend, "usergroup", group_id)
    groups[group_id] = {
        "UserGroupId": group_id, "Status": "active", "Engine": params["Engine"].lower(),
        "UserIds": user_ids, "MinimumEngineVersion": "6.0", "PendingChanges": {},
        "ReplicationGroups": [], "ServerlessCaches": [], "ARN": arn,
    }
    backend.tagging_service.tag_resource(arn, params.get("Tags") or [])
    return ActionResult(groups[group_id])


def _user_group(self: Any, group_id: str) -> dict[str, Any]:
    groups = _store(self.elasticache_backend, "user_groups")
    if group_id not in groups:
        raise UserGroupNotFound(f"User group {group_id} not found.")
    return groups[group_id]


def describe_user_groups(self: Any) -> ActionResult:
    """DescribeUserGroups: one group by id, or all of them."""
    group_id = self._get_param("UserGroupId")
    groups = _store(self.elasticache_backend, "user_groups")
    found = [_user_group(self, group_id)] if group_id else list(groups.values())
    return ActionResult({"UserGroups": found})


def modify_user_group(self: Any) -> ActionResult:
    """ModifyUserGroup: add and remove users (applied at once)."""
    params = self._get_params()
    group = _user_group(self, params["UserGroupId"])
    backend = self.elasticache_backend
    added, removed = params.get("UserIdsToAdd") or [], params.get("UserIdsToRemove") or []
    _set_user_groups(backend, added, group["UserGroupId"], member=True)
    _set_user_groups(backend, removed, group["UserGroupId"], member=False)
    group["UserIds"] = [u for u in group["UserIds"] if u not in removed] + [
        u for u in added if u not in group["UserIds"]]
    return ActionResult(group)


def delete_user_group(self: Any) -> ActionResult:
    """DeleteUserGroup: answers the group as ``deleting``; it is gone for the next call."""
    group = _user_group(self, self._get_param("UserGroupId"))
    backend = self.elasticache_backend
    _set_user_groups(backend, [u for u in group["UserIds"] if u in backend.users],
                     group["UserGroupId"], member=False)
    del _store(backend, "user_groups")[group["UserGroupId"]]
    return ActionResult({**group, "Status": "deleting"})


def create_serverless_cache(self: Any) -> ActionResult:
    """CreateServerlessCache: stored as given, ``available``, with endpoints on port 6379."""
    params = self._get_params()
    backend, name = self.elasticache_backend, params["ServerlessCacheName"]
    caches = _store(backend, "serverless_caches")
    if name in caches:
        raise ServerlessCacheAlreadyExists(f"Serverless cache {name} already exists.")
    group_id = params.get("UserGroupId")
    if group_id:
        _user_group(self, group_id)["ServerlessCaches"].append(name)
    engine = params["Engine"].lower()
    major = params.get("MajorEngineVersion") or max(FULL_VERSIONS.get(engine, {"7": ""}))
    host = f"{name}-abc123.serverless.{backend.region_name[:3]}1.cache.amazonaws.com"
    arn = _arn(backend, "serverlesscache", name)
    cache = {
        "ServerlessCacheName": name, "Description": params.get("Description", ""),
        "CreateTime": utcnow(), "Status": "available", "Engine": engine,
        "MajorEngineVersion": major,
        "FullEngineVersion": FULL_VERSIONS.get(engine, {}).get(major, major),
        "CacheUsageLimits": params.get("CacheUsageLimits") or {},
        "KmsKeyId": params.get("KmsKeyId"),
        "SecurityGroupIds": list(params.get("SecurityGroupIds") or []),
        "Endpoint": {"Address": host, "Port": REDIS_PORT},
        "ReaderEndpoint": {"Address": f"reader.{host}", "Port": REDIS_PORT + 1},
        "ARN": arn, "UserGroupId": group_id,
        "SubnetIds": list(params.get("SubnetIds") or []),
        "SnapshotRetentionLimit": params.get("SnapshotRetentionLimit", 0),
        "DailySnapshotTime": params.get("DailySnapshotTime"),
    }
    # What was not set is absent, as in AWS's answer (an empty block would read as set).
    caches[name] = {key: value for key, value in cache.items() if value not in (None, {}, "")}
    backend.tagging_service.tag_resource(arn, params.get("Tags") or [])
    return ActionResult({"ServerlessCache": caches[name]})


def _serverless_cache(self: Any, name: str) -> dict[str, Any]:
    caches = _store(self.elasticache_backend, "serverless_caches")
    if name not in caches:
        raise ServerlessCacheNotFound(f"Serverless cache {name} not found.")
    return caches[name]


def describe_serverless_caches(self: Any) -> ActionResult:
    """DescribeServerlessCaches: one cache by name, or all of them."""
    name = self._get_param("ServerlessCacheName")
    caches = _store(self.elasticache_backend, "serverless_caches")
    found = [_serverless_cache(self, name)] if name else list(caches.values())
    return ActionResult({"ServerlessCaches": found})


def modify_serverless_cache(self: Any) -> ActionResult:
    """ModifyServerlessCache: the fields given replace the stored ones."""
    params = self._get_params()
    cache = _serverless_cache(self, params["ServerlessCacheName"])
    for key in ("Description", "CacheUsageLimits", "SecurityGroupIds", "SnapshotRetentionLimit",
                "DailySnapshotTime", "UserGroupId", "MajorEngineVersion"):
        if key in params:
            cache[key] = params[key]
    if params.get("RemoveUserGroup"):
        cache.pop("UserGroupId", None)
    return ActionResult({"ServerlessCache": cache})


def delete_serverless_cache(self: Any) -> ActionResult:
    """DeleteServerlessCache: answers the cache as ``deleting``; gone for the next call."""
    cache = _serverless_cache(self, self._get_param("ServerlessCacheName"))
    backend = self.elasticache_backend
    groups = _store(backend, "user_groups")
    if cache.get("UserGroupId") in groups:
        groups[cache["UserGroupId"]]["ServerlessCaches"].remove(cache["ServerlessCacheName"])
    del _store(backend, "serverless_caches")[cache["ServerlessCacheName"]]
    return ActionResult({"ServerlessCache": {**cache, "Status": "deleting"}})


HANDLERS = (create_user_group, describe_user_groups, modify_user_group, delete_user_group,
            create_serverless_cache, describe_serverless_caches, modify_serverless_cache,
            delete_serverless_cache)
TAGGABLE_KINDS = ("usergroup", "serverlesscache")


def extend() -> None:
    """Register the handlers on moto's ElastiCache response class; allow tags on the new ARNs."""
    from moto.elasticache.models import ElastiCacheBackend
    from moto.elasticache.responses import ElastiCacheResponse

    for handler in HANDLERS:
        setattr(ElastiCacheResponse, handler.__name__, handler)
    if getattr(ElastiCacheBackend, "_emulator_extended", False):
        return
    original = ElastiCacheBackend.list_tags_for_resource

    def list_tags_for_resource(self: ElastiCacheBackend, arn: str) -> Any:
        if arn.split(":")[5:6] and arn.split(":")[5] in TAGGABLE_KINDS:
            return self.tagging_service.list_tags_for_resource(arn)
        return original(self, arn)

    ElastiCacheBackend.list_tags_for_resource = list_tags_for_resource
    ElastiCacheBackend._emulator_extended = True

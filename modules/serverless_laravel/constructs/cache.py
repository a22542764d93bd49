"""``RedisCache``: ElastiCache (Valkey or Redis OSS) for Laravel's cache, sessions and locks.

Serverless by default (pay per use, scales itself) or a node-based replication group for a
fixed cost. Always in private subnets, TLS in transit, encrypted at rest, and password access
through an ElastiCache user whose password lives in Secrets Manager.

The password: no random provider and no AWS call is available when planning offline, so
Terraform generates it with ``uuid()`` (two UUIDs, 256 random bits, crypto/rand) once, at first
apply, and ``ignore_changes`` keeps it. It is in the Terraform state (the ElastiCache user and
the secret version hold it): keep the state encrypted. It never reaches Lambda's environment:
functions get a ``bref-ssm:`` reference that Bref resolves at cold start.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .. import cdk
from ..cdk import Construct
from ..checks import check_choice, check_int, check_kms_key_arn, check_subnet_ids, check_vpc_id
from ..errors import config_error
from .fargate.environment import ContainerConsumer, ContainerEnvironment
from .iam import Grantable, PolicyStatement, grant_sid
from .network import Connectable, Connections, PrivateSecurityGroup
from .php_function import PhpFunction
from .secret_refs import generated_secret, recovery_window_days
from .stack import partition_of, region_of
from .wiring import account_of, resource_name, set_environment

WHERE = "RedisCache"
# The app user may run every command but the administrative and dangerous ones (CONFIG, ACL,
# DEBUG, MONITOR, SHUTDOWN, FLUSHALL, FLUSHDB, KEYS, ...). Laravel's cache, session, lock,
# rate-limiter and queue drivers use GET/SET/DEL, INCRBY, EXPIRE, list and sorted-set commands
# and EVAL (Lua scripts for locks and the queue), none of them in those categories; what is
# lost is Cache::flush() and `artisan cache:clear` (FLUSHDB), which would also empty sessions.
APP_ACCESS_STRING = "on ~* &* +@all -@admin -@dangerous"
MODES = ("serverless", "nodes")
ENGINES = ("valkey", "redis")
# predis (a Composer package) works on every Bref layer; phpredis needs the redis extension,
# which Bref 2 ships only in bref/extra-php-extensions and Bref 3 ships disabled.
CLIENTS = ("predis", "phpredis")
PORT = 6379
READER_PORT = 6380
SERVERLESS_VERSIONS = {"valkey": "8", "redis": "7"}
NODE_VERSIONS = {"valkey": "8.0", "redis": "7.1"}
# Versions ElastiCache offers (its "Engine versions and upgrading" page): Serverless takes a
# major version, node-based groups a major.minor one.
SERVERLESS_ALLOWED = {"valkey": ("7", "8", "9"), "redis": ("7",)}
NODE_ALLOWED = {"valkey": ("7.2", "8.0", "8.1", "8.2", "9.0"), "redis": ("7.0", "7.1")}
_NODE_TYPE = re.compile(r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
_USERNAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class RedisCache(Construct):
    """A private, encrypted Valkey/Redis cache that only the app's functions can reach.

    ``allow_from(fn)`` opens the port to ``fn``'s security groups; ``wire(fn)`` sets Laravel's
    variables and lets ``fn`` read the password secret; ``connect(fn)`` does both.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc_id: str,
        subnet_ids: Sequence[str],
        mode: str = "serverless",
        engine: str = "valkey",
        engine_version: str | None = None,
        node_type: str = "cache.t4g.small",
        num_nodes: int = 2,
        kms_key_arn: str | None = None,
        snapshot_retention_days: int = 1,
        max_storage_gb: int | None = None,
        max_ecpu_per_second: int | None = None,
        username: str = "laravel",
        client: str = "predis",
    ) -> None:
        check_choice(WHERE, "mode", mode, MODES)
        check_choice(WHERE, "engine", engine, ENGINES)
        check_choice(WHERE, "client", client, CLIENTS)
        engine_version = self._check_version(mode, engine, engine_version)
        check_vpc_id(WHERE, vpc_id)
        self._check_layout(mode, subnet_ids, node_type, num_nodes)
        check_kms_key_arn(WHERE, kms_key_arn)
        check_int(WHERE, "snapshot_retention_days", snapshot_retention_days, 0, 35,
                  "pass 0 (no snapshots) to 35 days")
        if max_storage_gb is not None:
            check_int(WHERE, "max_storage_gb", max_storage_gb, 1, 5000, "pass 1..5000 GB")
        if max_ecpu_per_second is not None:
            check_int(WHERE, "max_ecpu_per_second", max_ecpu_per_second, 1000, 15_000_000,
                      "pass 1000..15000000 ECPU per second")
        if not isinstance(username, str) or not _USERNAME.match(username) \
                or username == "default":
            raise config_error(
                WHERE, "username", username, "must be 1..40 lowercase letters, digits, '-' or "
                "'_', and not 'default' (that user is disabled)", "pass e.g. 'laravel'",
            )
        self.region = region_of(scope, None, WHERE)

        super().__init__(scope, id)
        self.mode, self.engine, self.client = mode, engine, client
        self.username, self.kms_key_arn = username, kms_key_arn
        self.subnet_ids = tuple(subnet_ids)
        self.security_group = PrivateSecurityGroup(
            self, "security-group", vpc_id=vpc_id,
            description=f"{engine} cache: admits only the app's functions",
        )
        self._password()
        self._users()
        if mode == "serverless":
            self._serverless(engine_version, snapshot_retention_days, max_storage_gb,
                             max_ecpu_per_second)
        else:
            self._nodes(engine_version, node_type, num_nodes, snapshot_retention_days)
        self.connections = Connections("the cache", owned=self.security_group,
                                       default_ports=self.ports)

    @staticmethod
    def _check_version(mode: str, engine: str, version: str | None) -> str:
        """The engine version: the default, else one ElastiCache offers for this mode."""
        defaults = SERVERLESS_VERSIONS if mode == "serverless" else NODE_VERSIONS
        if version is None:
            return defaults[engine]
        allowed = (SERVERLESS_ALLOWED if mode == "serverless" else NODE_ALLOWED)[engine]
        if version not in allowed:
            shape = "a major version" if mode == "serverless" else "a major.minor version"
            raise config_error(
                WHERE, "engine_version", version,
                f"must be {shape} ElastiCache offers for {engine} in {mode} mode: "
                f"{list(allowed)}",
                f"omit it (default {defaults[engine]!r}) or pass one of {list(allowed)}",
            )
        return version

    @staticmethod
    def _check_layout(mode: str, subnet_ids: Sequence[str], node_type: str,
                      num_nodes: int) -> None:
        """Serverless spans 2+ subnets; a replication group needs one subnet per node AZ."""
        if mode == "serverless":
            check_subnet_ids(WHERE, subnet_ids, minimum=2)
            return
        check_int(WHERE, "num_nodes", num_nodes, 1, 6,
                  "pass 1 (no failover) or 2..6 (a primary and replicas, Multi-AZ)")
        check_subnet_ids(WHERE, subnet_ids, minimum=2 if num_nodes > 1 else 1)
        if not isinstance(node_type, str) or not _NODE_TYPE.match(node_type):
            raise config_error(WHERE, "node_type", node_type, "must be an ElastiCache node type",
                               "pass e.g. 'cache.t4g.small' or 'cache.r7g.large'")

    def _password(self) -> None:
        """The app user's password: generated once by Terraform, kept in Secrets Manager."""
        self.secret = cdk.aws("secretsmanager_secret").SecretsmanagerSecret(
            self, "password", name_prefix=resource_name(self, "", 100, "-"),
            description=f"Password of the {self.username} user of the {self.engine} cache",
            kms_key_id=self.kms_key_arn, recovery_window_in_days=recovery_window_days(self),
        )
        self.secret_version = cdk.aws("secretsmanager_secret_version") \
            .SecretsmanagerSecretVersion(
                self, "password-value", secret_id=self.secret.id,
                secret_string=generated_secret(),
                lifecycle={"ignore_changes": ["secret_string"]},
            )
        self.secret_arn: str = self.secret.arn
        self.secret_reference = f"/aws/reference/secretsmanager/{self.secret.name}"
        self._parameter_arn = (
            f"arn:{partition_of(self.region)}:ssm:{self.region}:{account_of(self.secret_arn)}:"
            f"parameter{self.secret_reference}"
        )

    def _users(self) -> None:
        """A disabled ``default`` user and the app's password user, in one user group."""
        user = cdk.aws("elasticache_user").ElasticacheUser
        prefix = resource_name(self, "", 30)
        self.default_user = user(
            self, "default-user", user_id=f"{prefix}-off", user_name="default",
            engine=self.engine, access_string="off -@all",
            authentication_mode={"type": "no-password-required"},
        )
        self.app_user = user(
            self, "app-user", user_id=f"{prefix}-app", user_name=self.username,
            engine=self.engine, access_string=APP_ACCESS_STRING,
            authentication_mode={"type": "password",
                                 "passwords": [self.secret_version.secret_string]},
        )
        self.user_group = cdk.aws("elasticache_user_group").ElasticacheUserGroup(
            self, "user-group", user_group_id=prefix, engine=self.engine,
            user_ids=[self.default_user.user_id, self.app_user.user_id],
        )

    def _serverless(self, version: str, snapshots: int, storage: int | None,
                    ecpu: int | None) -> None:
        """ElastiCache Serverless: TLS always on; writer on 6379, reader endpoint on 6380."""
        module = "elasticache_serverless_cache"
        limits = []
        if storage is not None or ecpu is not None:
            fields: dict[str, object] = {}
            if storage is not None:
                fields["data_storage"] = [cdk.struct(
                    module, "ElasticacheServerlessCacheCacheUsageLimitsDataStorage",
                    maximum=storage, unit="GB")]
            if ecpu is not None:
                fields["ecpu_per_second"] = [cdk.struct(
                    module, "ElasticacheServerlessCacheCacheUsageLimitsEcpuPerSecond",
                    maximum=ecpu)]
            limits = [cdk.struct(module, "ElasticacheServerlessCacheCacheUsageLimits", **fields)]
        self.serverless_cache = cdk.aws(module).ElasticacheServerlessCache(
            self, "cache", name=resource_name(self, "", 40), engine=self.engine,
            major_engine_version=version, description=f"Laravel {self.engine} cache",
            subnet_ids=list(self.subnet_ids),
            security_group_ids=[self.security_group.group_id],
            kms_key_id=self.kms_key_arn, user_group_id=self.user_group.user_group_id,
            snapshot_retention_limit=snapshots,
            cache_usage_limits=limits or None,
        )
        self.host = self.serverless_cache.endpoint.get(0).address
        self.ports: tuple[int, ...] = (PORT, READER_PORT)

    def _nodes(self, version: str, node_type: str, num_nodes: int, snapshots: int) -> None:
        """A replication group: a primary and replicas across AZs with automatic failover."""
        self.subnet_group = cdk.aws("elasticache_subnet_group").ElasticacheSubnetGroup(
            self, "subnet-group", name=resource_name(self, "", 255),
            description=f"Private subnets of the Laravel {self.engine} cache",
            subnet_ids=list(self.subnet_ids),
        )
        multi_az = num_nodes > 1
        self.replication_group = cdk.aws("elasticache_replication_group") \
            .ElasticacheReplicationGroup(
                self, "cache", replication_group_id=resource_name(self, "", 40),
                description=f"Laravel {self.engine} cache", engine=self.engine,
                engine_version=version, node_type=node_type, num_cache_clusters=num_nodes,
                automatic_failover_enabled=multi_az, multi_az_enabled=multi_az,
                port=PORT, subnet_group_name=self.subnet_group.name,
                security_group_ids=[self.security_group.group_id],
                at_rest_encryption_enabled="true", kms_key_id=self.kms_key_arn,
                transit_encryption_enabled=True, transit_encryption_mode="required",
                user_group_ids=[self.user_group.user_group_id],
                snapshot_retention_limit=snapshots, auto_minor_version_upgrade="true",
            )
        self.host = self.replication_group.primary_endpoint_address
        self.ports = (PORT,)

    def allow_from(self, other: Connectable) -> None:
        """Admit ``other``'s security groups on the cache ports, and nothing else."""
        self.connections.allow_from(other)

    def wire(self, fn: PhpFunction) -> None:
        """Laravel's Redis variables on ``fn``, the password by reference, and read access to it.

        ``REDIS_URL=tls://host:port`` makes Laravel connect over TLS with its stock
        config/database.php (the ``tls`` scheme becomes the connection's scheme).
        """
        for key, value in self._laravel_variables().items():
            set_environment(fn, key, value, WHERE)
        self._grant_password(fn)

    def container_environment(self, consumer: ContainerConsumer) -> ContainerEnvironment:
        """For a Fargate task: the same variables, with ``REDIS_PASSWORD`` injected by ECS from
        the secret (``valueFrom`` = its ARN), which only the task's execution role may read."""
        variables = self._laravel_variables()
        del variables["REDIS_PASSWORD"]
        self._grant_secret_value(consumer.execution_role)
        return ContainerEnvironment(variables=variables,
                                    secrets={"REDIS_PASSWORD": self.secret_arn})

    def _laravel_variables(self) -> dict[str, str]:
        """Laravel's Redis variables, the password as a ``bref-ssm:`` reference."""
        variables = {
            "REDIS_CLIENT": self.client,
            "REDIS_URL": f"tls://{self.host}:{PORT}",
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(PORT),
            "REDIS_SCHEME": "tls",
            "REDIS_USERNAME": self.username,
            "REDIS_PASSWORD": f"bref-ssm:{self.secret_reference}",
            "CACHE_STORE": "redis",
            "SESSION_DRIVER": "redis",
        }
        if self.mode == "serverless":
            variables |= {"REDIS_DB": "0", "REDIS_CACHE_DB": "0"}
        return variables

    def connect(self, fn: PhpFunction) -> None:
        """``allow_from(fn)`` and ``wire(fn)``."""
        self.allow_from(fn)
        self.wire(fn)

    def _grant_password(self, fn: PhpFunction) -> None:
        """Read this one secret, through the SSM reference path Bref uses."""
        fn.add_to_role_policy(PolicyStatement(
            sid=grant_sid("ReadPassword", self),
            actions=("ssm:GetParameters",), resources=(self._parameter_arn,),
        ))
        fn.add_to_role_policy(PolicyStatement(
            sid=grant_sid("ReadSecret", self),
            actions=("secretsmanager:GetSecretValue",), resources=(self.secret_arn,),
        ))
        if self.kms_key_arn:
            fn.add_to_role_policy(PolicyStatement(
                sid=grant_sid("DecryptSecret", self),
                actions=("kms:Decrypt",), resources=(self.kms_key_arn,),
            ))

    def _grant_secret_value(self, reader: Grantable) -> None:
        """Read this one secret directly (ECS injects it; no Parameter Store reference)."""
        reader.add_to_role_policy(PolicyStatement(
            sid=grant_sid("ReadSecret", self),
            actions=("secretsmanager:GetSecretValue",), resources=(self.secret_arn,),
        ))
        if self.kms_key_arn:
            reader.add_to_role_policy(PolicyStatement(
                sid=grant_sid("DecryptSecret", self),
                actions=("kms:Decrypt",), resources=(self.kms_key_arn,),
            ))

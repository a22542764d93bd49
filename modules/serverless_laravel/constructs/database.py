"""``Database`` (a private, encrypted RDS instance) and ``DatabaseProxy`` (RDS Proxy before it).

Lambda scales by execution environments and each one holds its own database connection, so a
burst of invocations can exhaust ``max_connections``. The proxy pools them, and its connection
budget (checked at synth) proves the functions' concurrency caps fit what it may open.

Credentials: the database's master password is managed by RDS in Secrets Manager (never in the
Terraform state). That secret is JSON (``username``, ``password``) and Bref's ``bref-ssm:``
loader returns a whole value, not a JSON key, so functions get ``DB_SECRET`` (the JSON, by
reference) and config/database.php reads the password from it; see docs/queues-and-state.md.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

from .. import cdk
from ..analysis.connection_budget import (
    ConnectionBudget,
    Consumer,
    budget_error,
    compute_budget,
    consumer_of,
    default_max_connections,
)
from ..cdk import Construct
from ..checks import (
    check_bool,
    check_choice,
    check_int,
    check_kms_key_arn,
    check_secret_arn,
    check_security_group_id,
    check_subnet_ids,
    check_vpc_id,
)
from ..errors import BudgetWarning, ConfigurationError, config_error
from .fargate.environment import ContainerConsumer, ContainerEnvironment
from .iam import Condition, Grantable, PolicyStatement, ServiceRole, grant_sid
from .network import Connectable, Connections, PrivateSecurityGroup, ingress_into
from .php_function import PhpFunction
from .stack import partition_of, region_of
from .wiring import account_of, check_functions, resource_name, set_environment

ENGINES = ("postgres", "mysql")
PORTS = {"postgres": 5432, "mysql": 3306}
ENGINE_FAMILIES = {"postgres": "POSTGRESQL", "mysql": "MYSQL"}
LARAVEL_DRIVERS = {"postgres": "pgsql", "mysql": "mysql"}
DEFAULT_VERSIONS = {"postgres": "16", "mysql": "8.0"}
# Major versions RDS offers for new instances (standard support): PostgreSQL 13..18, MySQL 8.0
# and 8.4; a minor version may follow ("16.4", "8.0.39").
ENGINE_VERSIONS = {
    "postgres": re.compile(r"^(1[3-8])(\.\d+)?$"),
    "mysql": re.compile(r"^8\.[04](\.\d+)?$"),
}
ENGINE_VERSION_EXAMPLES = {"postgres": "'13'..'18', e.g. '16' or '16.4'",
                           "mysql": "'8.0' or '8.4', e.g. '8.0.39'"}
# RDS for MySQL (and MariaDB) classes without Performance Insights / Database Insights
# (Amazon RDS User Guide, "DB engine, Region, and instance class support for Database Insights").
NO_PERFORMANCE_INSIGHTS = {
    "mysql": frozenset({"db.t2.micro", "db.t2.small", "db.t3.micro", "db.t3.small",
                        "db.t4g.micro", "db.t4g.small"}),
}
LOG_EXPORTS = {"postgres": ["postgresql", "upgrade"], "mysql": ["error", "slowquery"]}
# The CA bundle of Lambda's Amazon Linux runtimes: pdo_mysql only uses TLS when given a CA.
MYSQL_CA_BUNDLE = "/etc/pki/tls/certs/ca-bundle.crt"
# The CA bundle of the Debian and Alpine images PHP containers are built on (official php images).
CONTAINER_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# The key of the password in an RDS Proxy secret (JSON with username and password): ECS injects
# one JSON key with ``valueFrom = <secret ARN>:<key>::``.
PASSWORD_KEY = "password"
_INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")
_DB_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
_RESERVED_USERS = frozenset({"admin", "rdsadmin", "postgres", "root", "mysql", "rdsrepladmin"})


def _check_names(where: str, database_name: Any, username: Any) -> None:
    if not isinstance(database_name, str) or not _DB_NAME.match(database_name):
        raise config_error(where, "database_name", database_name,
                           "must be 1..63 letters, digits or '_', starting with a letter",
                           "pass e.g. 'laravel'")
    if not isinstance(username, str) or not _USERNAME.match(username) \
            or username.lower() in _RESERVED_USERS:
        raise config_error(where, "username", username,
                           "must be 1..16 letters, digits or '_', starting with a letter, "
                           f"and not one of {sorted(_RESERVED_USERS)}",
                           "pass e.g. 'laravel'")


def _check_instance_class(where: str, value: Any) -> str:
    if not isinstance(value, str) or not _INSTANCE_CLASS.match(value):
        raise config_error(where, "instance_class", value, "must be an RDS instance class",
                           "pass e.g. 'db.t4g.medium' or 'db.r6g.large'")
    return value


def _check_engine_version(where: str, engine: str, version: Any) -> str:
    """The engine version: the default, else a major (and minor) version RDS offers."""
    if version is None:
        return DEFAULT_VERSIONS[engine]
    if not isinstance(version, str) or not ENGINE_VERSIONS[engine].match(version):
        raise config_error(
            where, "engine_version", version,
            f"must be a {engine} version RDS offers: {ENGINE_VERSION_EXAMPLES[engine]}",
            f"omit it (default {DEFAULT_VERSIONS[engine]!r}) or pass a supported version",
        )
    return version


def _check_performance_insights(where: str, engine: str, instance_class: str,
                                enabled: bool) -> None:
    if enabled and instance_class in NO_PERFORMANCE_INSIGHTS.get(engine, ()):
        raise config_error(
            where, "performance_insights", enabled,
            f"RDS for {engine} offers no Performance Insights on {instance_class}",
            "pass performance_insights=False, or a larger class such as 'db.t4g.medium'",
        )


def _max_connections(where: str, engine: str, instance_class: str | None,
                     explicit: int | None) -> int:
    """The database's ``max_connections``: the given value, else RDS's default for the class."""
    if explicit is not None:
        return check_int(where, "max_connections", explicit, 1, 262_143,
                         "pass the value of SHOW max_connections on the database")
    if instance_class is None:
        raise config_error(
            where, "max_connections", None,
            "is needed for the connection budget of an existing database",
            "pass max_connections= (SHOW max_connections) or instance_class=",
        )
    try:
        return default_max_connections(engine, instance_class)
    except ConfigurationError as error:
        raise config_error(where, error.prop, error.value, error.rule, error.fix,
                           kind=error.code.rsplit(".", 1)[-1]) from None


class Database(Construct):
    """A new PostgreSQL or MySQL RDS instance: private, encrypted, backed up, hard to delete.

    Its password is generated and kept by RDS in Secrets Manager; its security group admits
    nothing until a ``DatabaseProxy`` (or ``allow_from_group``) opens it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc_id: str,
        subnet_ids: Sequence[str],
        engine: str = "postgres",
        engine_version: str | None = None,
        instance_class: str = "db.t4g.medium",
        allocated_storage_gb: int = 20,
        max_allocated_storage_gb: int = 100,
        database_name: str = "laravel",
        username: str = "laravel",
        backup_retention_days: int = 7,
        deletion_protection: bool = True,
        multi_az: bool = False,
        iam_authentication: bool = False,
        performance_insights: bool = True,
        kms_key_arn: str | None = None,
        max_connections: int | None = None,
    ) -> None:
        where = "Database"
        check_choice(where, "engine", engine, ENGINES)
        check_vpc_id(where, vpc_id)
        check_subnet_ids(where, subnet_ids, minimum=2)
        _check_instance_class(where, instance_class)
        check_int(where, "allocated_storage_gb", allocated_storage_gb, 20, 65_536,
                  "pass 20..65536 GB")
        check_int(where, "max_allocated_storage_gb", max_allocated_storage_gb,
                  allocated_storage_gb, 65_536,
                  f"pass at least allocated_storage_gb ({allocated_storage_gb}) for autoscaling")
        _check_names(where, database_name, username)
        check_int(where, "backup_retention_days", backup_retention_days, 1, 35,
                  "pass 1..35 days (0 would disable backups)")
        check_kms_key_arn(where, kms_key_arn)
        engine_version = _check_engine_version(where, engine, engine_version)
        for prop, flag in (("deletion_protection", deletion_protection), ("multi_az", multi_az),
                           ("iam_authentication", iam_authentication),
                           ("performance_insights", performance_insights)):
            check_bool(where, prop, flag)
        _check_performance_insights(where, engine, instance_class, performance_insights)
        self.max_connections = _max_connections(where, engine, instance_class, max_connections)

        super().__init__(scope, id)
        self.engine, self.instance_class = engine, instance_class
        self.database_name, self.username = database_name, username
        self.kms_key_arn = kms_key_arn
        self.port = PORTS[engine]
        self.engine_family = ENGINE_FAMILIES[engine]
        self.security_group = PrivateSecurityGroup(
            self, "security-group", vpc_id=vpc_id,
            description=f"{engine} database: admits only its proxy",
        )
        self.connections = Connections("the database", owned=self.security_group,
                                       default_ports=(self.port,))
        self.subnet_group = cdk.aws("db_subnet_group").DbSubnetGroup(
            self, "subnet-group", name_prefix=resource_name(self, "", 200, "-"),
            description="Private subnets of the Laravel database", subnet_ids=list(subnet_ids),
        )
        self.instance = self._instance(
            engine_version, allocated_storage_gb,
            max_allocated_storage_gb, backup_retention_days, deletion_protection, multi_az,
            iam_authentication, performance_insights,
        )

    def _instance(self, version: str, storage: int, max_storage: int, backups: int,
                  deletion_protection: bool, multi_az: bool, iam_authentication: bool,
                  performance_insights: bool) -> Any:
        identifier = resource_name(self, "", 63)
        return cdk.aws("db_instance").DbInstance(
            self, "instance", identifier=identifier, engine=self.engine,
            engine_version=version, instance_class=self.instance_class,
            allocated_storage=storage, max_allocated_storage=max_storage, storage_type="gp3",
            storage_encrypted=True, kms_key_id=self.kms_key_arn,
            db_name=self.database_name, username=self.username,
            manage_master_user_password=True, master_user_secret_kms_key_id=self.kms_key_arn,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[self.security_group.group_id],
            publicly_accessible=False, multi_az=multi_az, port=self.port,
            backup_retention_period=backups, copy_tags_to_snapshot=True,
            deletion_protection=deletion_protection, skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            iam_database_authentication_enabled=iam_authentication,
            performance_insights_enabled=performance_insights,
            performance_insights_retention_period=7 if performance_insights else None,
            performance_insights_kms_key_id=self.kms_key_arn if performance_insights else None,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS[self.engine],
            auto_minor_version_upgrade=True, apply_immediately=False,
        )

    @property
    def identifier(self) -> str:
        return self.instance.identifier

    @property
    def secret_arn(self) -> str:
        """The RDS-managed secret holding the master user's credentials (JSON)."""
        return self.instance.master_user_secret.get(0).secret_arn

    @property
    def endpoint(self) -> str:
        return self.instance.address

    def allow_from_group(self, group_id: str, description: str) -> None:
        """Admit one security group on the database port."""
        self.security_group.allow_from_group(group_id, self.port, description)


class DatabaseProxy(Construct):
    """RDS Proxy (TLS required) in front of a ``Database`` or an existing instance or cluster.

    ``allow_from(fn)`` admits ``fn``; ``wire(fn)`` sets Laravel's ``DB_*`` variables, grants
    the credentials and counts ``fn`` in the connection budget; ``connect(fn)`` does both.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc_id: str,
        subnet_ids: Sequence[str],
        database: Database | None = None,
        engine: str | None = None,
        db_instance_identifier: str | None = None,
        db_cluster_identifier: str | None = None,
        secret_arn: str | None = None,
        database_security_group_id: str | None = None,
        database_name: str | None = None,
        username: str | None = None,
        instance_class: str | None = None,
        max_connections: int | None = None,
        kms_key_arn: str | None = None,
        iam_auth: bool = False,
        idle_client_timeout: int = 1800,
        max_connections_percent: int = 90,
        max_idle_connections_percent: int = 50,
        connection_borrow_timeout: int = 120,
        connections_per_environment: int = 1,
        allow_over_budget: bool = False,
        debug_logging: bool = False,
        functions: Sequence[PhpFunction] = (),
    ) -> None:
        where = "DatabaseProxy"
        check_vpc_id(where, vpc_id)
        check_subnet_ids(where, subnet_ids, minimum=2)
        check_int(where, "idle_client_timeout", idle_client_timeout, 1, 28_800,
                  "pass 1..28800 seconds")
        check_int(where, "max_connections_percent", max_connections_percent, 1, 100,
                  "pass 1..100 (% of the database's max_connections)")
        check_int(where, "max_idle_connections_percent", max_idle_connections_percent, 0,
                  max_connections_percent, "pass 0..max_connections_percent")
        check_int(where, "connection_borrow_timeout", connection_borrow_timeout, 1, 3600,
                  "pass 1..3600 seconds")
        check_int(where, "connections_per_environment", connections_per_environment, 1, 100,
                  "pass how many connections one Lambda environment opens, usually 1")
        for prop, flag in (("iam_auth", iam_auth), ("allow_over_budget", allow_over_budget),
                           ("debug_logging", debug_logging)):
            check_bool(where, prop, flag)
        functions = check_functions(where, "functions", functions)
        for fn in functions:
            fn.connections.source_groups(where)
            if "DB_HOST" in fn.environment:
                raise config_error(where, "functions", fn.node.id,
                                   f"{fn.node.id} already has DB_HOST from another proxy",
                                   "wire each function to one database proxy")
        target = self._target(where, database, engine, db_instance_identifier,
                              db_cluster_identifier, secret_arn, database_security_group_id,
                              database_name, username, kms_key_arn)
        self.max_connections = database.max_connections if database else _max_connections(
            where, str(engine), instance_class, max_connections)
        self.region = region_of(scope, None, where)

        super().__init__(scope, id)
        self.database = database
        self.engine, self.secret_arn, self.kms_key_arn = target["engine"], target["secret_arn"], \
            target["kms_key_arn"]
        self.database_name, self.username = target["database_name"], target["username"]
        self.port = PORTS[self.engine]
        self.iam_auth = iam_auth
        self.max_connections_percent = max_connections_percent
        self.connections_per_environment = connections_per_environment
        self.allow_over_budget = allow_over_budget
        self._consumers: list[PhpFunction] = []
        self._container_consumers: dict[str, int] = {}
        self.security_group = PrivateSecurityGroup(
            self, "security-group", vpc_id=vpc_id,
            description="RDS Proxy: admits only the app's functions",
        )
        self.connections = Connections("RDS Proxy", owned=self.security_group,
                                       default_ports=(self.port,))
        self.role = ServiceRole(self, "role", service="rds.amazonaws.com",
                                statements=self._proxy_statements())
        self.proxy = cdk.aws("db_proxy").DbProxy(
            self, "proxy", name=resource_name(self, "", 60),
            engine_family=ENGINE_FAMILIES[self.engine], role_arn=self.role.arn,
            vpc_subnet_ids=list(subnet_ids), vpc_security_group_ids=[self.security_group.group_id],
            require_tls=True, idle_client_timeout=idle_client_timeout, debug_logging=debug_logging,
            auth=[cdk.struct("db_proxy", "DbProxyAuth", auth_scheme="SECRETS",
                             secret_arn=self.secret_arn,
                             iam_auth="REQUIRED" if iam_auth else "DISABLED",
                             description="Laravel's database user")],
            depends_on=[self.role.policy],
        )
        self.target_group = cdk.aws("db_proxy_default_target_group").DbProxyDefaultTargetGroup(
            self, "target-group", db_proxy_name=self.proxy.name,
            connection_pool_config={
                "max_connections_percent": max_connections_percent,
                "max_idle_connections_percent": max_idle_connections_percent,
                "connection_borrow_timeout": connection_borrow_timeout,
            },
        )
        self.target = cdk.aws("db_proxy_target").DbProxyTarget(
            self, "target", db_proxy_name=self.proxy.name,
            target_group_name=self.target_group.name,
            db_instance_identifier=target["instance"], db_cluster_identifier=target["cluster"],
        )
        self._open_database(database_security_group_id)
        self._secret_reference = "/aws/reference/secretsmanager/" + cdk.Fn.element(
            cdk.Fn.regex(":secret:(.+)-[A-Za-z0-9]{6}$", self.secret_arn), 0)
        self.endpoint: str = self.proxy.endpoint
        self._grants = self._function_statements()
        cdk.add_check(self, self._budget_check)
        for fn in functions:
            self.connect(fn)

    @staticmethod
    def _target(where: str, database: Database | None, engine: str | None,
                instance: str | None, cluster: str | None, secret_arn: str | None,
                group_id: str | None, database_name: str | None, username: str | None,
                kms_key_arn: str | None) -> dict[str, Any]:
        """What the proxy fronts: a ``Database``, or an existing instance/cluster and its secret."""
        existing = {"engine": engine, "db_instance_identifier": instance,
                    "db_cluster_identifier": cluster, "secret_arn": secret_arn,
                    "database_security_group_id": group_id, "database_name": database_name,
                    "username": username, "kms_key_arn": kms_key_arn}
        if database is not None:
            given = sorted(k for k, v in existing.items() if v is not None)
            if not isinstance(database, Database) or given:
                raise config_error(
                    where, "database", given or database,
                    "a Database brings its own engine, identifier, secret, group, names and key",
                    "pass database= alone, or describe an existing database without it",
                )
            return {"engine": database.engine, "instance": database.identifier, "cluster": None,
                    "secret_arn": database.secret_arn, "kms_key_arn": database.kms_key_arn,
                    "database_name": database.database_name, "username": database.username}
        if all(v is None for v in existing.values()):
            raise config_error(
                where, "database", None, "the proxy needs a database to front",
                "pass database=Database(...), or describe an existing one with engine=, "
                "db_instance_identifier= (or db_cluster_identifier=) and secret_arn=",
                kind="missing",
            )
        check_choice(where, "engine", engine, ENGINES)
        if (instance is None) == (cluster is None):
            raise config_error(
                where, "db_instance_identifier/db_cluster_identifier",
                {"db_instance_identifier": instance, "db_cluster_identifier": cluster},
                "exactly one target is required", "pass database=, or one existing identifier",
                kind="count",
            )
        name = instance or cluster
        if not (cdk.is_token(name) or (isinstance(name, str) and _IDENTIFIER.match(name))):
            raise config_error(
                where, "db_instance_identifier/db_cluster_identifier", name,
                "must be an RDS identifier", "pass e.g. 'laravel-prod'", kind="shape",
            )
        check_secret_arn(where, secret_arn)
        if group_id is not None:
            check_security_group_id(where, "database_security_group_id", group_id)
        _check_names(where, database_name, username)
        check_kms_key_arn(where, kms_key_arn)
        return {"engine": engine, "instance": instance, "cluster": cluster,
                "secret_arn": secret_arn, "kms_key_arn": kms_key_arn,
                "database_name": database_name, "username": username}

    def _proxy_statements(self) -> list[PolicyStatement]:
        """The proxy reads its one secret; decrypts with the key only through Secrets Manager."""
        statements = [PolicyStatement(
            sid="ReadDatabaseSecret", actions=("secretsmanager:GetSecretValue",),
            resources=(self.secret_arn,),
        )]
        if self.kms_key_arn:
            statements.append(PolicyStatement(
                sid="DecryptDatabaseSecret", actions=("kms:Decrypt",),
                resources=(self.kms_key_arn,),
                conditions=(Condition("StringEquals", "kms:ViaService",
                                      (f"secretsmanager.{self.region}.amazonaws.com",)),),
            ))
        return statements

    def _open_database(self, database_group_id: str | None) -> None:
        """Proxy to database on the engine's port, on both sides."""
        target_group = self.database.security_group.group_id if self.database \
            else database_group_id
        if target_group is None:
            return
        self.security_group.allow_to_group(target_group, self.port, "proxy to the database")
        if self.database:
            self.database.allow_from_group(self.security_group.group_id, "from its RDS Proxy")
        else:
            ingress_into(self, "database-ingress", target_group, self.security_group.group_id,
                         self.port, "from its RDS Proxy")

    def allow_from(self, other: Connectable) -> None:
        """Admit ``other``'s security groups on the database port."""
        self.connections.allow_from(other)

    def wire(self, fn: PhpFunction) -> None:
        """Laravel's ``DB_*`` variables, the credentials' access, and a place in the budget."""
        variables = {
            "DB_CONNECTION": LARAVEL_DRIVERS[self.engine],
            "DB_HOST": self.endpoint,
            "DB_PORT": str(self.port),
            "DB_DATABASE": self.database_name,
            "DB_USERNAME": self.username,
        }
        if self.engine == "mysql":
            variables["MYSQL_ATTR_SSL_CA"] = MYSQL_CA_BUNDLE
        if self.iam_auth:
            variables["DB_IAM_AUTH"] = "true"
        else:
            variables["DB_SECRET"] = f"bref-ssm:{self._secret_reference}"
        for key, value in variables.items():
            set_environment(fn, key, value, "DatabaseProxy")
        for statement in self._grants:
            fn.add_to_role_policy(statement)
        if fn not in self._consumers:
            self._consumers.append(fn)

    def connect(self, fn: PhpFunction) -> None:
        """``allow_from(fn)`` and ``wire(fn)``."""
        self.allow_from(fn)
        self.wire(fn)

    def container_environment(self, consumer: ContainerConsumer) -> ContainerEnvironment:
        """For a Fargate task: Laravel's ``DB_*`` variables, ``DB_PASSWORD`` injected by ECS from
        the secret's ``password`` key (read by the execution role only), or ``rds-db:connect``
        for the task role under IAM auth; the task's PHP processes count in the budget."""
        variables = {
            "DB_CONNECTION": LARAVEL_DRIVERS[self.engine],
            "DB_HOST": self.endpoint,
            "DB_PORT": str(self.port),
            "DB_DATABASE": self.database_name,
            "DB_USERNAME": self.username,
        }
        if self.engine == "mysql":
            variables["MYSQL_ATTR_SSL_CA"] = CONTAINER_CA_BUNDLE
        secrets: dict[str, str] = {}
        if self.iam_auth:
            variables["DB_IAM_AUTH"] = "true"
            for statement in self._grants:
                consumer.task_role.add_to_role_policy(statement)
        else:
            secrets["DB_PASSWORD"] = f"{self.secret_arn}:{PASSWORD_KEY}::"
            self._grant_secret_value(consumer.execution_role)
        self._container_consumers[consumer.label] = consumer.max_processes
        return ContainerEnvironment(variables=variables, secrets=secrets)

    def _grant_secret_value(self, reader: Grantable) -> None:
        """Read the one credentials secret directly (ECS injects it; no Parameter Store path)."""
        reader.add_to_role_policy(PolicyStatement(
            sid=grant_sid("ReadSecret", self), actions=("secretsmanager:GetSecretValue",),
            resources=(self.secret_arn,)))
        if self.kms_key_arn:
            reader.add_to_role_policy(PolicyStatement(
                sid=grant_sid("DecryptCredentials", self), actions=("kms:Decrypt",),
                resources=(self.kms_key_arn,)))

    def _function_statements(self) -> list[PolicyStatement]:
        """IAM token auth (``rds-db:connect`` as one user), else read the one secret."""
        partition = partition_of(self.region)
        if self.iam_auth:
            resource_id = cdk.Fn.element(cdk.Fn.split(":", self.proxy.arn), 6)
            user = (f"arn:{partition}:rds-db:{self.region}:{account_of(self.proxy.arn)}:"
                    f"dbuser:{resource_id}/{self.username}")
            return [PolicyStatement(sid=grant_sid("Connect", self),
                                    actions=("rds-db:connect",), resources=(user,))]
        parameter = (f"arn:{partition}:ssm:{self.region}:{account_of(self.secret_arn)}:"
                     f"parameter{self._secret_reference}")
        statements = [
            PolicyStatement(sid=grant_sid("ReadCredentials", self),
                            actions=("ssm:GetParameters",), resources=(parameter,)),
            PolicyStatement(sid=grant_sid("ReadSecret", self),
                            actions=("secretsmanager:GetSecretValue",),
                            resources=(self.secret_arn,)),
        ]
        if self.kms_key_arn:
            statements.append(PolicyStatement(sid=grant_sid("DecryptCredentials", self),
                                              actions=("kms:Decrypt",),
                                              resources=(self.kms_key_arn,)))
        return statements

    @property
    def functions(self) -> tuple[PhpFunction, ...]:
        """The functions wired to this proxy, i.e. counted in its budget."""
        return tuple(self._consumers)

    def budget(self) -> ConnectionBudget:
        """The connection budget of the wired functions and Fargate tasks against what this
        proxy may open."""
        return compute_budget(
            [consumer_of(fn) for fn in self._consumers]
            + [Consumer(name, reserved_concurrency=processes)
               for name, processes in self._container_consumers.items()],
            max_connections=self.max_connections,
            max_connections_percent=self.max_connections_percent,
            connections_per_environment=self.connections_per_environment,
        )

    def _budget_check(self) -> ConfigurationError | None:
        """The budget error at synth; only a BudgetWarning when ``allow_over_budget``."""
        error = budget_error(self.budget(), self.node.path)
        if error is not None and self.allow_over_budget:
            warnings.warn(str(error), BudgetWarning, stacklevel=2)
            return None
        return error

    def check_budget(self) -> None:
        """Raise the budget's ConfigurationError now instead of at synth."""
        error = budget_error(self.budget(), self.node.path)
        if error is not None:
            raise error

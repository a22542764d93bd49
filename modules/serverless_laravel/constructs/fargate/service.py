"""``WebService`` (nginx + php-fpm behind the load balancer) and ``WorkerService``
(``php artisan queue:work sqs``): long-running Fargate services, scaled by target tracking.

Each one owns a security group (its identity: the load balancer, the cache and the database
proxy admit exactly that group), a task role it is granted to (``Grantable``: ``bucket.
grant_read_write(web)``), and ``wire(cache, proxy, queue)`` to fill its containers' environment
and secrets from the resources it uses.
"""

from __future__ import annotations

from typing import Any

from ... import cdk
from ...cdk import Construct
from ...checks import check_int
from ...errors import config_error
from ..iam import PolicyStatement
from ..naming import resource_name
from ..network import Connections, PrivateSecurityGroup
from ..queue_worker import JobQueue
from .alb import PublicLoadBalancer
from .cluster import FargateCluster
from .environment import ContainerEnvironment, RoleGrantee
from .task import (
    PHP,
    ContainerSpec,
    FargateTask,
    PhpContainer,
    TaskOptions,
    check_image_uri,
    check_paths,
    check_task_options,
    check_user,
    php_spec,
)

MAX_TASKS = 1000
# Fargate lets a container finish for at most 120 s after SIGTERM before it is killed.
MAX_STOP_TIMEOUT = 120
NGINX = "nginx"


def check_scaling(where: str, min_tasks: int, max_tasks: int, cpu_target: int | None,
                  low: int = 1) -> None:
    """Task counts and the CPU target of target tracking."""
    check_int(where, "min_tasks", min_tasks, low, MAX_TASKS,
              f"pass {low}..{MAX_TASKS}; 2 or more keeps a task in a second AZ")
    check_int(where, "max_tasks", max_tasks, min_tasks, MAX_TASKS,
              f"pass at least min_tasks ({min_tasks})")
    if cpu_target is not None:
        check_int(where, "cpu_target", cpu_target, 10, 90, "pass e.g. 60",
                  unit="% average CPU")


def check_common(where: str, cluster: object, php: object) -> None:
    """The cluster and the PHP container every service needs."""
    if not isinstance(cluster, FargateCluster):
        raise config_error(where, "cluster", type(cluster).__name__, "must be a FargateCluster",
                           "pass cluster=FargateCluster(...)", kind="type")
    if not isinstance(php, PhpContainer):
        raise config_error(where, "php", type(php).__name__, "must be a PhpContainer",
                           "pass php=PhpContainer(image_uri=..., secrets=...)", kind="type")


def target_tracking(scope: Construct, id: str, target: Any, value: float,
                    **metric: Any) -> Any:
    """A target-tracking policy: scale out within a minute, in after five."""
    return cdk.aws("appautoscaling_policy").AppautoscalingPolicy(
        scope, id, name=resource_name(scope, id, 255), policy_type="TargetTrackingScaling",
        resource_id=target.resource_id, scalable_dimension=target.scalable_dimension,
        service_namespace=target.service_namespace,
        target_tracking_scaling_policy_configuration={
            "target_value": value, "scale_out_cooldown": 60, "scale_in_cooldown": 300,
            **metric},
    )


class AppTask(Construct):
    """What every Laravel task on Fargate shares: a security group as its identity, the task
    definition and roles, the ``Grantable`` and ``ContainerConsumer`` sides, ``wire()``."""

    where = "AppTask"

    def _build_task(self, cluster: FargateCluster, php: PhpContainer, options: TaskOptions,
                    containers: list[ContainerSpec], max_processes: int,
                    port: int | None) -> None:
        self.cluster = cluster
        self.php = php
        self.max_processes = max_processes
        self.security_group = PrivateSecurityGroup(
            self, "security-group", vpc_id=cluster.vpc_id,
            description=f"{cdk.relative_path(self)} tasks: admits only what is opened to them",
        )
        self.connections = Connections(self.node.id, owned=self.security_group,
                                       default_ports=(port,) if port else ())
        self.task = FargateTask(self, "task", options=options, containers=containers,
                                secret_refs=php.secrets, region=cluster.region,
                                label=cdk.relative_path(self), max_processes=max_processes)

    @property
    def label(self) -> str:
        return cdk.relative_path(self)

    @property
    def execution_role(self) -> RoleGrantee:
        """Reads the secrets injected into the containers, pulls images, writes logs."""
        return self.task.execution_role

    @property
    def task_role(self) -> RoleGrantee:
        """What the app runs as: the target of every ``grant_*``."""
        return self.task.task_role

    @property
    def security_group_ids(self) -> list[str]:
        """The task's own group, then the cluster's egress groups."""
        return cdk.expand_lists([self.security_group.group_id, *self.cluster.security_group_ids])

    def add_to_role_policy(self, statement: PolicyStatement) -> None:
        """Give the task role one more statement (``grant_*`` methods call this)."""
        self.task.role.add(statement)

    @property
    def role_arn(self) -> str:
        """The task role: the principal the app in this service acts as."""
        return self.task.role.arn

    def wire(self, *resources: Any) -> None:
        """Fill the PHP container's environment and secrets from each resource's
        ``container_environment(self)`` (a ``RedisCache``, ``DatabaseProxy``, ``JobQueue``),
        which also grants this task's roles what it needs."""
        for resource in resources:
            method = getattr(resource, "container_environment", None)
            if method is None:
                raise config_error(
                    self.where, "resources", type(resource).__name__,
                    "must describe what a container needs (container_environment)",
                    "pass a RedisCache, DatabaseProxy or JobQueue", kind="type")
            self._apply(method(self))

    def _apply(self, environment: ContainerEnvironment) -> None:
        self.task.wire(self.where, environment)

    def _network(self) -> dict[str, Any]:
        return {"subnets": list(self.cluster.subnet_ids),
                "security_groups": self.security_group_ids, "assign_public_ip": False}


class _Service(AppTask):
    """A long-running ECS service of an ``AppTask`` with target-tracking autoscaling."""

    def _service(self, min_tasks: int, max_tasks: int, extra: dict[str, Any],
                 depends_on: list[Any]) -> None:
        options = self.task.options
        self.service = cdk.aws("ecs_service").EcsService(
            self, "service", name=resource_name(self, "", 255), cluster=self.cluster.arn,
            task_definition=self.task.arn, desired_count=min_tasks, launch_type="FARGATE",
            platform_version="LATEST", network_configuration=self._network(),
            enable_execute_command=options.enable_execute_command,
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            propagate_tags="SERVICE", enable_ecs_managed_tags=True,
            lifecycle={"ignore_changes": ["desired_count"]},
            depends_on=[self.task.execution.policy, *depends_on], **extra,
        )
        self.scaling_target = cdk.aws("appautoscaling_target").AppautoscalingTarget(
            self, "scaling-target", service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self.cluster.name}/{self.service.name}",
            min_capacity=min_tasks, max_capacity=max_tasks,
        )

    def _cpu_policy(self, cpu_target: int | None) -> None:
        if cpu_target is not None:
            self.cpu_policy = target_tracking(
                self, "scale-on-cpu", self.scaling_target, cpu_target,
                predefined_metric_specification={
                    "predefined_metric_type": "ECSServiceAverageCPUUtilization"})


class WebService(_Service):
    """nginx in front of php-fpm, in private subnets, behind a ``PublicLoadBalancer``.

    Props: ``cluster``; ``load_balancer``; ``php`` (``PhpContainer``); ``nginx_image_uri`` (ECR);
    ``nginx_user`` (default ``"101"``, the nginx user of the official images; root refused);
    ``nginx_writable_paths`` (default ``/tmp``, ``/var/cache/nginx``, ``/var/run``: volumes on a
    read-only root); ``container_port`` (nginx's port, 1,024..65,535, default 8,080: an
    unprivileged user cannot bind below 1,024); ``task`` (default 512 CPU units, 1,024 MiB);
    ``min_tasks`` (1..1,000, default 2) and ``max_tasks`` (default 10); ``cpu_target`` (10..90 %,
    default 60) and/or ``requests_per_target`` (ALB requests per task per minute, default
    none); ``php_fpm_max_children`` (the image's ``pm.max_children``, 1..1,000, default 10:
    each PHP process may hold a database connection); ``health_check_path`` (default ``/up``,
    Laravel's health route); ``health_check_grace_period`` (0..3,600 s, default 60);
    ``deregistration_delay`` (0..3,600 s, default 30).
    """

    where = "WebService"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: FargateCluster,
        load_balancer: PublicLoadBalancer,
        php: PhpContainer,
        nginx_image_uri: str,
        nginx_user: str | None = "101",
        nginx_writable_paths: tuple[str, ...] = ("/tmp", "/var/cache/nginx", "/var/run"),
        container_port: int = 8080,
        task: TaskOptions | None = None,
        min_tasks: int = 2,
        max_tasks: int = 10,
        cpu_target: int | None = 60,
        requests_per_target: int | None = None,
        php_fpm_max_children: int = 10,
        health_check_path: str = "/up",
        health_check_grace_period: int = 60,
        deregistration_delay: int = 30,
    ) -> None:
        where = self.where
        check_common(where, cluster, php)
        if not isinstance(load_balancer, PublicLoadBalancer):
            raise config_error(where, "load_balancer", type(load_balancer).__name__,
                               "must be a PublicLoadBalancer",
                               "pass load_balancer=PublicLoadBalancer(...)", kind="type")
        if load_balancer.target is not None:
            raise config_error(
                where, "load_balancer", load_balancer.node.id,
                f"already forwards to {load_balancer.target.node.id}",
                "give each web service its own PublicLoadBalancer", kind="taken")
        check_image_uri(where, "nginx_image_uri", nginx_image_uri)
        check_user(where, "nginx_user", nginx_user)
        paths = check_paths(where, "nginx_writable_paths", nginx_writable_paths)
        check_int(where, "container_port", container_port, 1024, 65_535,
                  "pass e.g. 8080 and make nginx listen there", unit="(a TCP port)",
                  why="an unprivileged user cannot bind below 1024")
        options = check_task_options(where, task, 512, 1024)
        check_scaling(where, min_tasks, max_tasks, cpu_target)
        if requests_per_target is not None:
            check_int(where, "requests_per_target", requests_per_target, 1, 1_000_000,
                      "pass e.g. 1000", unit="requests per task per minute")
        if cpu_target is None and requests_per_target is None:
            raise config_error(where, "cpu_target/requests_per_target", None,
                               "the service needs at least one scaling target",
                               "pass cpu_target=60 and/or requests_per_target=1000",
                               kind="missing")
        check_int(where, "php_fpm_max_children", php_fpm_max_children, 1, 1000,
                  "pass the image's pm.max_children, e.g. 10")
        if not isinstance(health_check_path, str) or not health_check_path.startswith("/") \
                or len(health_check_path) > 1024:
            raise config_error(where, "health_check_path", health_check_path,
                               "must be a path starting with '/' (at most 1024 characters)",
                               "pass e.g. '/up' (Laravel's health route)", kind="shape")
        check_int(where, "health_check_grace_period", health_check_grace_period, 0, 3600,
                  "pass e.g. 60", unit="seconds")
        check_int(where, "deregistration_delay", deregistration_delay, 0, 3600,
                  "pass e.g. 30 (longer than the slowest request)", unit="seconds")

        super().__init__(scope, id)
        php_container = php_spec(php, cluster.region)
        nginx = ContainerSpec(name=NGINX, image_uri=nginx_image_uri, user=nginx_user,
                              read_only=True, writable_paths=paths, port=container_port,
                              depends_on=PHP)
        self.container_port = container_port
        self._build_task(cluster, php, options, [php_container, nginx],
                         max_tasks * php_fpm_max_children, container_port)
        self.target_group = self._target_group(health_check_path, deregistration_delay)
        load_balancer.forward_to(self, self.target_group, container_port)
        self.load_balancer = load_balancer
        self._service(min_tasks, max_tasks, {
            "health_check_grace_period_seconds": health_check_grace_period,
            "load_balancer": [cdk.struct(
                "ecs_service", "EcsServiceLoadBalancer",
                target_group_arn=self.target_group.arn, container_name=NGINX,
                container_port=container_port)],
        }, [load_balancer.https_listener])
        self._cpu_policy(cpu_target)
        if requests_per_target is not None:
            self.request_policy = target_tracking(
                self, "scale-on-requests", self.scaling_target, requests_per_target,
                predefined_metric_specification={
                    "predefined_metric_type": "ALBRequestCountPerTarget",
                    "resource_label":
                        f"{load_balancer.arn_suffix}/{self.target_group.arn_suffix}"})

    def _target_group(self, path: str, deregistration_delay: int) -> Any:
        """IP targets (awsvpc) on nginx's port, healthy when the health route answers 200."""
        return cdk.aws("lb_target_group").LbTargetGroup(
            self, "target-group", name=resource_name(self, "", 32), port=self.container_port,
            protocol="HTTP", target_type="ip", vpc_id=self.cluster.vpc_id,
            deregistration_delay=str(deregistration_delay),
            health_check={"enabled": True, "path": path, "matcher": "200", "protocol": "HTTP",
                          "interval": 15, "timeout": 5, "healthy_threshold": 2,
                          "unhealthy_threshold": 3},
        )


class WorkerService(_Service):
    """``php artisan queue:work sqs`` on Fargate, draining one ``JobQueue``.

    Props: ``cluster``; ``php``; ``queue`` (a ``JobQueue``); ``task`` (default 512 CPU units,
    1,024 MiB); ``min_tasks`` (1..1,000, default 1) and ``max_tasks`` (default 5);
    ``backlog_per_task`` (visible messages per running task that target tracking aims for,
    1..100,000, default 20); ``cpu_target`` (10..90 %, default 70, or None); ``job_timeout``
    (``--timeout``, 1 s up to below the queue's visibility timeout, default 60); ``tries``
    (``--tries``, 1..the queue's ``max_receive_count``, default that count: Laravel fails the
    job on its last receive, the DLQ catches crashed workers); ``max_time`` (``--max-time``:
    the process exits and ECS replaces the task, 60..86,400 s, default 3,600, or None).
    """

    where = "WorkerService"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: FargateCluster,
        php: PhpContainer,
        queue: JobQueue,
        task: TaskOptions | None = None,
        min_tasks: int = 1,
        max_tasks: int = 5,
        backlog_per_task: int = 20,
        cpu_target: int | None = 70,
        job_timeout: int = 60,
        tries: int | None = None,
        max_time: int | None = 3600,
    ) -> None:
        where = self.where
        check_common(where, cluster, php)
        if not isinstance(queue, JobQueue):
            raise config_error(where, "queue", type(queue).__name__, "must be a JobQueue",
                               "pass queue=JobQueue(...)", kind="type")
        options = check_task_options(where, task, 512, 1024)
        check_scaling(where, min_tasks, max_tasks, cpu_target)
        check_int(where, "backlog_per_task", backlog_per_task, 1, 100_000, "pass e.g. 20",
                  unit="messages per task")
        check_int(where, "job_timeout", job_timeout, 1, queue.visibility_timeout - 1,
                  f"pass less than the queue's visibility timeout ({queue.visibility_timeout} "
                  "s), or raise that", unit="seconds",
                  why="SQS hands a job still running to another worker after it")
        tries = queue.max_receive_count if tries is None else tries
        check_int(where, "tries", tries, 1, queue.max_receive_count,
                  f"pass 1..{queue.max_receive_count} (the queue's max_receive_count)")
        if max_time is not None:
            check_int(where, "max_time", max_time, 60, 86_400, "pass e.g. 3600",
                      unit="seconds")

        super().__init__(scope, id)
        self.queue = queue
        command = ["php", f"{php.app_root}/artisan", "queue:work", "sqs",
                   f"--queue={queue.url}", f"--timeout={job_timeout}", f"--tries={tries}",
                   "--sleep=3"] + ([f"--max-time={max_time}"] if max_time else [])
        php_container = php_spec(php, cluster.region, command,
                                 min(MAX_STOP_TIMEOUT, job_timeout + 10))
        self._build_task(cluster, php, options, [php_container], max_tasks, None)
        self._apply(queue.worker_environment(self))
        self._service(min_tasks, max_tasks, {}, [])
        self._cpu_policy(cpu_target)
        self.backlog_policy = target_tracking(
            self, "scale-on-backlog", self.scaling_target, backlog_per_task,
            customized_metric_specification={"metrics": self._backlog_metrics()})

    def _backlog_metrics(self) -> list[Any]:
        """Visible messages divided by running tasks (AWS's backlog-per-task metric math)."""
        module = "appautoscaling_policy"
        prefix = "AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetric" \
            "SpecificationMetrics"

        def stat(id: str, namespace: str, name: str, dimensions: dict[str, str]) -> Any:
            return cdk.struct(module, prefix, id=id, return_data=False, metric_stat={
                "stat": "Average", "metric": {
                    "namespace": namespace, "metric_name": name,
                    "dimensions": [cdk.struct(module, f"{prefix}MetricStatMetricDimensions",
                                              name=k, value=v) for k, v in dimensions.items()]}})

        return [
            stat("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                 {"QueueName": self.queue.queue.name}),
            stat("tasks", "ECS/ContainerInsights", "RunningTaskCount",
                 {"ClusterName": self.cluster.name, "ServiceName": self.service.name}),
            cdk.struct(module, prefix, id="backlog_per_task", label="Messages per task",
                       expression="visible / tasks", return_data=True),
        ]

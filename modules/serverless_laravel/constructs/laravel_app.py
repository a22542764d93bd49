"""``LaravelApp``: a whole Laravel web deployment in one construct.

A web ``PhpFunction`` (FPM) behind an ``HttpApi``, CloudFront ``Assets`` in front of both, an
artisan console function, and a private bucket for Laravel's ``s3`` filesystem disk. Laravel's
environment is wired on every function of the app, including functions added later (queue
workers, schedulers) through ``add_function``. Secrets travel as references only. The API
refuses requests that did not come through CloudFront (an authorizer checks the
``X-Origin-Verify`` header CloudFront adds), so the WAF cannot be bypassed
(docs/request-flow.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from .. import cdk
from ..build.bref import LARAVEL_BRIDGE, read_installed_packages, require_package
from ..cdk import Construct
from ..checks import check_bool, check_int, check_optional_bool
from ..errors import config_error
from .assets import (
    DEFAULT_STATIC_PATHS,
    Assets,
    check_distribution,
    check_static_paths,
    check_waf,
    with_maintenance_page,
)
from .buckets import PrivateBucket
from .console_audit import ConsoleAudit
from .function_options import FunctionOptions, check_options, merge_deprecated
from .http_api import MAX_WEB_TIMEOUT, HttpApi, check_retention, check_throttling
from .monitoring import AlarmThresholds, Monitoring, check_emails, check_thresholds
from .php_function import DEFAULT_TIMEOUTS, ENV_BYTES_LIMIT, PhpFunction, VpcConfig
from .secret_refs import SecretRef, is_secret_name
from .stack import partition_of, region_of

WHERE = "LaravelApp"

# Set by the app itself from its props and resources; never passed in ``environment``.
MANAGED_ENV = frozenset({
    "APP_NAME", "APP_ENV", "APP_URL", "ASSET_URL", "FILESYSTEM_DISK", "AWS_BUCKET",
    "MAINTENANCE_MODE",
})
# `serverless-laravel down` runs `php artisan down` once, on the console function: Laravel 11+
# then keeps the maintenance state in a cache store every function shares, not in one
# environment's /tmp. "(empty)" is Laravel's empty string, so the store is the app's default
# cache store (CACHE_STORE: redis once a RedisCache is connected). The app's environment= wins.
MAINTENANCE_ENV = {"APP_MAINTENANCE_DRIVER": "cache", "APP_MAINTENANCE_STORE": "(empty)"}
STORAGE_BUCKET_PREFIX = "laravel-storage-"
ASSETS_BUCKET_PREFIX = "laravel-assets-"
REQUIRED_SECRETS: tuple[str, ...] = ("APP_KEY",)
OCTANE_HANDLER = "Bref\\LaravelBridge\\Http\\OctaneHandler"
OCTANE_PACKAGE = "laravel/octane"
LOOP_MAX_RANGE = (1, 100_000)
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _check_literal(key: str, where: str = "environment") -> None:
    """A plain variable: a valid name, not a secret by its name, not one the app manages."""
    if not isinstance(key, str) or not _ENV_KEY.match(key):
        raise config_error(
            WHERE, where, key, "keys must match [A-Za-z][A-Za-z0-9_]*", "rename the variable",
            kind="name",
        )
    if is_secret_name(key):
        raise config_error(
            WHERE, where, key,
            "looks like a secret (a known secret name, or ending in _PASSWORD, _SECRET, _KEY or "
            "_TOKEN); a literal would be readable in the function's configuration and the "
            "Terraform state",
            f"store it in SSM Parameter Store (SecureString) or Secrets Manager and pass "
            f"secrets={{{key!r}: SecretRef.ssm('arn:aws:ssm:...')}}", kind="secret",
        )
    if key in MANAGED_ENV:
        raise config_error(
            WHERE, where, key, "is set by LaravelApp from its props and resources",
            "use the matching prop (name, app_env, domain_name, maintenance) instead",
            kind="managed",
        )


def _check_secrets(secrets: Mapping[str, SecretRef], region: str) -> dict[str, SecretRef]:
    """References only, in the app's region (Bref reads SSM there), APP_KEY among them."""
    if not isinstance(secrets, Mapping):
        raise config_error(
            WHERE, "secrets", secrets, "must map variable names to SecretRef",
            "pass secrets={'APP_KEY': SecretRef.ssm('arn:aws:ssm:...')}", kind="type",
        )
    for key, ref in secrets.items():
        _check_secret(key, ref, region)
    missing = [k for k in REQUIRED_SECRETS if k not in secrets]
    if missing:
        raise config_error(
            WHERE, "secrets", sorted(secrets), f"must include {missing}: Laravel cannot encrypt "
            "sessions and cookies without APP_KEY",
            "generate one (`php artisan key:generate --show`), store it as an SSM "
            "SecureString and pass secrets={'APP_KEY': SecretRef.ssm(<its ARN>)}", kind="required",
        )
    return dict(secrets)


def _check_secret(key: object, ref: object, region: str) -> None:
    """One secret: a variable name the app does not manage, a SecretRef in ``region``."""
    if not isinstance(key, str) or not _ENV_KEY.match(key) or key in MANAGED_ENV:
        raise config_error(
            WHERE, "secrets", key, "keys must be variable names the app does not manage",
            "rename the variable", kind="name",
        )
    if not isinstance(ref, SecretRef):
        raise config_error(
            WHERE, f"secrets[{key!r}]", type(ref).__name__,
            "must be a SecretRef, never the secret's value",
            "pass SecretRef.ssm(<parameter ARN>) or SecretRef.secrets_manager(<ARN>)", kind="type",
        )
    if ref.region is not None and ref.region != region:
        raise config_error(
            WHERE, f"secrets[{key!r}]", ref.arn,
            f"Bref reads secrets from the function's region ({region}), not {ref.region}",
            f"store the secret in {region}", kind="region",
        )


class LaravelApp(Construct):
    """Web + console functions, HTTP API, CloudFront assets and storage for one Laravel app."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        app: str | Path,
        secrets: Mapping[str, SecretRef],
        name: str | None = None,
        app_env: str = "production",
        php_version: str = "8.4",
        architecture: str = "x86_64",
        web: FunctionOptions | None = None,
        console: FunctionOptions | None = None,
        vpc: VpcConfig | None = None,
        domain_name: str | None = None,
        certificate_arn: str | None = None,
        hosted_zone_id: str | None = None,
        static_paths: Sequence[str] = DEFAULT_STATIC_PATHS,
        price_class: str = "PriceClass_100",
        environment: Mapping[str, str] | None = None,
        log_retention_days: int = 30,
        maintenance: bool = False,
        maintenance_page: bool = True,
        waf_rate_limit: int | None = None,
        web_acl_arn: str | None = None,
        throttling_burst_limit: int = 1000,
        throttling_rate_limit: float = 500.0,
        force_destroy: bool | None = None,
        console_audit: bool = True,
        console_trail: bool = True,
        console_callers: Sequence[str] = (),
        alert_emails: Sequence[str] = (),
        web_memory: int | None = None,
        web_timeout: int | None = None,
        console_memory: int | None = None,
        console_timeout: int | None = None,
        web_reserved_concurrency: int | None = None,
        console_reserved_concurrency: int | None = None,
        monitoring: bool = True,
        alarm_thresholds: AlarmThresholds | None = None,
        octane: bool = False,
        octane_loop_max: int = 250,
    ) -> None:
        """``monitoring`` (default on) adds alarms and a dashboard (``Monitoring``), notifying
        ``alert_emails`` too, with ``alarm_thresholds`` (``AlarmThresholds``, defaults there).
        ``octane=True`` runs the web function on Bref's Octane handler (needs laravel/octane)
        with ``BREF_LOOP_MAX=octane_loop_max`` (1..100,000 requests per PHP process, default
        250): docs/performance.md has the trade-offs."""
        self.region = region_of(scope, None, "LaravelApp")
        self.name = name or id
        web = merge_deprecated(WHERE, "web", check_options(WHERE, "web", web), {
            "web_memory": ("memory_size", web_memory), "web_timeout": ("timeout", web_timeout),
            "web_reserved_concurrency": ("reserved_concurrency", web_reserved_concurrency)})
        console = merge_deprecated(WHERE, "console", check_options(WHERE, "console", console), {
            "console_memory": ("memory_size", console_memory),
            "console_timeout": ("timeout", console_timeout),
            "console_reserved_concurrency": ("reserved_concurrency",
                                             console_reserved_concurrency)})
        self._check_functions(app, web, console)
        check_bool(WHERE, "monitoring", monitoring)
        thresholds = check_thresholds(WHERE, alarm_thresholds)
        web = self._check_octane(app, octane, octane_loop_max, web)
        check_throttling("LaravelApp", throttling_burst_limit, throttling_rate_limit)
        check_retention("LaravelApp", log_retention_days)
        check_bool("LaravelApp", "maintenance_page", maintenance_page)
        paths = check_static_paths("LaravelApp",
                                   with_maintenance_page(static_paths, maintenance_page))
        domains = (domain_name,) if domain_name is not None else ()
        check_distribution("LaravelApp", price_class=price_class, domain_names=domains,
                           certificate_arn=certificate_arn, hosted_zone_id=hosted_zone_id)
        check_waf("LaravelApp", waf_rate_limit, web_acl_arn, self.region)
        for prop, value in (("name", self.name), ("app_env", app_env)):
            if not isinstance(value, str) or not value.strip():
                raise config_error(
                    WHERE, prop, value, "must be a non-empty string", "pass e.g. 'production'",
                    kind="empty",
                )
        check_bool("LaravelApp", "maintenance", maintenance)
        check_optional_bool("LaravelApp", "force_destroy", force_destroy)
        check_bool("LaravelApp", "console_audit", console_audit)
        if console_audit:
            ConsoleAudit.check(trail=console_trail, expected_callers=console_callers,
                               alert_emails=alert_emails, force_destroy=force_destroy)
        if monitoring:
            check_emails(alert_emails, "alert_emails")
        user_env = dict(environment or {})
        for prop, variables in (("environment", user_env), ("web.environment", web.environment),
                                ("console.environment", console.environment)):
            for key, value in variables.items():
                _check_literal(key, prop)
                if not isinstance(value, str):
                    raise config_error(WHERE, f"{prop}[{key!r}]", value,
                                       "values must be strings", f"pass str({value!r})",
                                       kind="type")
        self._secrets = _check_secrets(secrets, self.region)
        clash = sorted((set(user_env) | set(web.environment) | set(console.environment))
                       & set(self._secrets))
        if clash:
            raise config_error(WHERE, "environment", clash, "is also given in secrets",
                               "keep each variable in one place", kind="duplicate")
        self._check_env_size(app_env, maintenance, domain_name, user_env | web.environment)

        super().__init__(scope, id)
        try:
            self._build(
                app=Path(app), php_version=php_version, architecture=architecture,
                web=web, console=console,
                vpc=vpc, log_retention_days=log_retention_days, app_env=app_env,
                user_env=user_env, maintenance=maintenance, force_destroy=force_destroy,
            )
            self._front(
                paths=paths, domains=domains, certificate_arn=certificate_arn,
                hosted_zone_id=hosted_zone_id, price_class=price_class,
                waf_rate_limit=waf_rate_limit, web_acl_arn=web_acl_arn,
                maintenance_page=maintenance_page,
                throttling=(throttling_burst_limit, throttling_rate_limit),
                log_retention_days=log_retention_days, force_destroy=force_destroy,
            )
            if console_audit:
                self.console_audit: ConsoleAudit | None = ConsoleAudit(
                    self, "console-audit", function=self.console, trail=console_trail,
                    expected_callers=console_callers, alert_emails=alert_emails,
                    force_destroy=force_destroy,
                )
            else:
                self.console_audit = None
            self.monitoring: Monitoring | None = Monitoring(
                self, "monitoring", functions=self._functions, api=self.api,
                alarm_emails=alert_emails, thresholds=thresholds,
            ) if monitoring else None
        except Exception:
            scope.node.try_remove_child(id)
            raise
        self._outputs()

    def _check_env_size(self, app_env: str, maintenance: bool, domain_name: str | None,
                        user_env: dict[str, str]) -> None:
        """Lambda's 4 KB for all variables, counted on the web function before anything exists.

        Values known only at apply time (bucket name, CloudFront domain) are not counted, as
        PhpFunction does.
        """
        url = "" if domain_name is None or cdk.is_token(domain_name) else f"https://{domain_name}"
        literal = {
            "APP_NAME": self.name, "APP_ENV": app_env, "APP_DEBUG": "false",
            "LOG_CHANNEL": "stderr", "FILESYSTEM_DISK": "s3", "APP_URL": url, "ASSET_URL": url,
            **MAINTENANCE_ENV, **({"MAINTENANCE_MODE": "1"} if maintenance else {}), **user_env,
            **{key: ref.env_value for key, ref in self._secrets.items()},
        }
        size = sum(len(k) + len(v) for k, v in literal.items() if not cdk.is_token(v))
        if size > ENV_BYTES_LIMIT:
            raise config_error(
                WHERE, "environment", f"{size} bytes",
                f"Lambda allows {ENV_BYTES_LIMIT} bytes of variables per function, and "
                "the app's own variables, environment= and the secret references add up "
                "to more",
                "move large values to SSM Parameter Store and read them in the app, or "
                "shorten name/app_env", kind="size",
            )

    def _check_octane(self, app: str | Path, octane: bool, loop_max: int,
                      web: FunctionOptions) -> FunctionOptions:
        """With Octane: laravel/octane installed, a loop count, the web timeout (28 s default)."""
        check_bool(WHERE, "octane", octane)
        check_int(WHERE, "octane_loop_max", loop_max, *LOOP_MAX_RANGE, unit="requests",
                  why="how many requests one PHP process serves before Bref restarts it")
        self._octane = octane
        if not octane:
            return web
        require_package(Path(app), read_installed_packages(Path(app)), OCTANE_PACKAGE,
                        "octane=True runs Bref's Octane handler, which boots Laravel Octane",
                        where=WHERE)
        if "BREF_LOOP_MAX" in web.environment:
            raise config_error(WHERE, "web.environment", "BREF_LOOP_MAX",
                               "is set by LaravelApp from octane_loop_max",
                               "pass octane_loop_max= instead", kind="managed")
        return replace(web, environment={**web.environment, "BREF_LOOP_MAX": str(loop_max)},
                       timeout=DEFAULT_TIMEOUTS["fpm"] if web.timeout is None else web.timeout)

    def _check_functions(self, app: str | Path, web: FunctionOptions,
                         console: FunctionOptions) -> None:
        """The app directory, and a web timeout the HTTP API leaves room for."""
        if not Path(app).is_dir():
            raise config_error(
                WHERE, "app", str(app), f"is not a directory (looked at {Path(app).absolute()})",
                "pass the path of the Laravel app (the folder holding artisan)",
                kind="not_directory",
            )
        require_package(Path(app), read_installed_packages(Path(app)), LARAVEL_BRIDGE,
                        "LaravelApp relies on it to move storage/ to /tmp and cache the "
                        "configuration at cold start", where=WHERE)
        if web.timeout is not None and web.timeout > MAX_WEB_TIMEOUT:
            raise config_error(
                WHERE, "web.timeout", web.timeout,
                f"the HTTP API ends a request after 30 s, so the web function must stop "
                f"by {MAX_WEB_TIMEOUT} s to answer with its own error",
                "use 28 (Bref's default); move long work to a queue worker or the "
                "console function", kind="range",
            )

    def _build(self, *, app: Path, php_version: str, architecture: str,
               web: FunctionOptions, console: FunctionOptions,
               vpc: VpcConfig | None, log_retention_days: int,
               app_env: str, user_env: dict[str, str], maintenance: bool,
               force_destroy: bool) -> None:
        """Storage bucket, then the two functions with the shared environment and grants."""
        self.storage = PrivateBucket(self, "storage", bucket_prefix=STORAGE_BUCKET_PREFIX,
                                     force_destroy=force_destroy)
        self._environment: dict[str, str] = {
            "APP_NAME": self.name, "APP_ENV": app_env, "APP_DEBUG": "false",
            "LOG_CHANNEL": "stderr", "FILESYSTEM_DISK": "s3", "AWS_BUCKET": self.storage.name,
            **MAINTENANCE_ENV, **({"MAINTENANCE_MODE": "1"} if maintenance else {}),
            **user_env,
        }
        self._functions: list[PhpFunction] = []
        common = {"app": app, "php_version": php_version, "vpc": vpc}
        defaults = {"architecture": architecture, "log_retention_days": log_retention_days}
        octane = {"runtime": "function", "handler": OCTANE_HANDLER} if self._octane \
            else {"runtime": "fpm"}
        self.web = PhpFunction(self, "web", **octane, **common, **(defaults | web.props()),
                               environment=self._function_environment() | web.environment)
        self.console = PhpFunction(
            self, "console", runtime="console", **common, **(defaults | console.props()),
            environment=self._function_environment() | console.environment,
        )
        for function in (self.web, self.console):
            self._functions.append(function)
            self._grant(function)

    def _front(self, *, paths: tuple[str, ...], domains: tuple[str, ...],
               certificate_arn: str | None, hosted_zone_id: str | None, price_class: str,
               waf_rate_limit: int | None, web_acl_arn: str | None, maintenance_page: bool,
               throttling: tuple[int, float], log_retention_days: int,
               force_destroy: bool) -> None:
        """The HTTP API and CloudFront; then APP_URL and ASSET_URL on every function."""
        self.api = HttpApi(self, "api", function=self.web, throttling_burst_limit=throttling[0],
                           throttling_rate_limit=throttling[1],
                           log_retention_days=log_retention_days)
        self.assets = Assets(
            self, "assets", api=self.api, static_paths=paths, price_class=price_class,
            domain_names=domains, certificate_arn=certificate_arn,
            hosted_zone_id=hosted_zone_id, waf_rate_limit=waf_rate_limit,
            web_acl_arn=web_acl_arn, bucket_prefix=ASSETS_BUCKET_PREFIX,
            force_destroy=force_destroy, set_asset_url=False, verify_origin=True,
            log_retention_days=log_retention_days, maintenance_page=maintenance_page,
        )
        for key in ("APP_URL", "ASSET_URL"):
            self._set(key, self.assets.url)

    def _outputs(self) -> None:
        """Terraform outputs named ``<app id>_<what>``."""
        values = {
            "url": (self.url, "The app's URL (CloudFront)"),
            "api_url": (self.api.url, "The HTTP API's own endpoint (behind CloudFront: "
                                      "Laravel refuses requests without X-Origin-Verify)"),
            "web_function": (self.web.function.function_name, "Web function name"),
            "console_function": (self.console.function.function_name,
                                 "Console function name (serverless-laravel artisan)"),
            "storage_bucket": (self.storage.name, "Bucket of Laravel's s3 disk"),
            "assets_bucket": (self.assets.bucket_name, "Bucket to sync public/ into"),
            "distribution_id": (self.assets.distribution_id, "CloudFront distribution id"),
        }
        prefix = re.sub(r"[^A-Za-z0-9_]", "_", self.node.id)
        for key, (value, description) in values.items():
            output = cdk.TerraformOutput(self, f"output-{key}", value=value,
                                         description=description)
            output.override_logical_id(f"{prefix}_{key}")

    def _function_environment(self) -> dict[str, str]:
        """Plain variables plus ``bref-ssm:`` references for the secrets."""
        return {**self._environment,
                **{key: ref.env_value for key, ref in self._secrets.items()}}

    def _grant(self, function: PhpFunction) -> None:
        """Storage read/write and each secret's exact read on ``function``'s role."""
        self.storage.grant_read_write(function)
        for key, ref in self._secrets.items():
            self._grant_secret(function, key, ref)

    def _grant_secret(self, function: PhpFunction, key: str, ref: SecretRef) -> None:
        """Exactly the reads ``ref`` needs, on ``function``'s role."""
        for statement in ref.statements(key, partition_of(self.region), self.region):
            function.add_to_role_policy(statement)

    def _set(self, key: str, value: str) -> None:
        """Record a shared variable and set it on every function so far."""
        self._environment[key] = value
        for function in self._functions:
            function.add_environment(key, value)

    @property
    def url(self) -> str:
        return self.assets.url

    @property
    def functions(self) -> list[PhpFunction]:
        """Every PhpFunction of the app: web, console, then those added with ``add_function``."""
        return list(self._functions)

    @property
    def environment(self) -> dict[str, str]:
        """The variables every function of the app gets (secrets as ``bref-ssm:`` references)."""
        return self._function_environment()

    def add_function(self, function: PhpFunction) -> None:
        """Make ``function`` part of the app: shared environment, secrets and storage grants,
        and its alarms when monitoring is on."""
        if not isinstance(function, PhpFunction):
            raise config_error(
                WHERE, "function", function, "must be a PhpFunction", "pass a PhpFunction",
                kind="type",
            )
        if cdk.TerraformStack.of(function) is not cdk.TerraformStack.of(self):
            raise config_error(WHERE, "function", function.node.path, "must be in the app's stack",
                               "create the function in the same LaravelStack", kind="stack")
        if function in self._functions:
            return
        for key, value in self._function_environment().items():
            function.add_environment(key, value)
        self._functions.append(function)
        self._grant(function)
        if self.monitoring is not None:
            self.monitoring.watch_function(function)

    def add_environment(self, key: str, value: str) -> None:
        """Set a plain variable on every function of the app, including later-added ones."""
        _check_literal(key)
        if key in self._secrets:
            raise config_error(WHERE, "environment", key, "is already a secret of the app",
                               "keep each variable in one place", kind="duplicate")
        if not isinstance(value, str):
            raise config_error(WHERE, f"environment[{key!r}]", value, "values must be strings",
                               f"pass str({value!r})", kind="type")
        self._set(key, value)

    def add_secret(self, key: str, ref: SecretRef) -> None:
        """Reference a secret on every function of the app and grant its exact read."""
        _check_secret(key, ref, self.region)
        if self._secrets.get(key, ref) != ref:
            raise config_error(WHERE, "secrets", key, "already references another secret",
                               "use a new variable name", kind="duplicate")
        if key in self._environment:
            raise config_error(WHERE, "secrets", key, "is already a plain variable of the app",
                               "keep each variable in one place", kind="conflict")
        self._secrets[key] = ref
        for function in self._functions:
            function.add_environment(key, ref.env_value)
            self._grant_secret(function, key, ref)

"""Bref runtime resolution: Lambda runtime, layer ARNs and environment from the app's own vendor/.

Layer versions must match the Bref version the app requires, so they are read from the app's
``vendor/bref/bref/layers.json`` and ``vendor/composer/installed.json``, never hard-coded.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import check_optional_int
from ..errors import EndOfLifeWarning, config_error

WHERE = "PhpFunction"

RUNTIMES: tuple[str, ...] = ("fpm", "function", "console")
ARCHITECTURES: tuple[str, ...] = ("x86_64", "arm64")
PHP_VERSIONS: tuple[str, ...] = ("8.1", "8.2", "8.3", "8.4", "8.5")

DEFAULT_HANDLERS: dict[str, str] = {"fpm": "public/index.php", "console": "artisan"}

LAYERS_JSON = Path("vendor/bref/bref/layers.json")
INSTALLED_JSON = Path("vendor/composer/installed.json")
# Files of the installed Bref package that spell out the layer ARN, account included: the
# account has changed within a major before, so the installed package is the authority.
ACCOUNT_SOURCES = (Path("vendor/bref/bref/plugin/layers.js"), Path("vendor/bref/bref/index.js"))
_ACCOUNT_IN_ARN = re.compile(r"arn:aws:lambda:[^:\s]*:(\d{12}):layer:")

LARAVEL_BRIDGE = "bref/laravel-bridge"
SECRETS_LOADER = "bref/secrets-loader"
SSM_REFERENCE = "bref-ssm:"
BRIDGE_NAMESPACE = "Bref\\LaravelBridge\\"
"""Handlers in this namespace (the queue handler, Octane) come from bref/laravel-bridge."""

PHP_END_OF_LIFE: dict[str, str] = {"8.0": "2023-11-26", "8.1": "2025-12-31"}


@dataclass(frozen=True)
class BrefMajor:
    """What one major version of Bref publishes: account, Lambda runtime and PHP versions."""

    major: int
    account: str
    lambda_runtime: str
    php_versions: tuple[str, ...]


BREF_MAJORS: dict[int, BrefMajor] = {
    3: BrefMajor(3, "873528684822", "provided.al2023", ("8.2", "8.3", "8.4", "8.5")),
    2: BrefMajor(2, "534081306603", "provided.al2", ("8.0", "8.1", "8.2", "8.3", "8.4")),
}


@dataclass(frozen=True)
class BrefRuntime:
    """The resolved runtime of one function: what the Lambda resource needs from Bref."""

    bref_major: int
    bref_version: str
    lambda_runtime: str
    handler: str
    layer_arns: tuple[str, ...]
    environment: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str] | None = None
    """The app's Composer packages, when its installed.json was read (None when overridden)."""

    def missing_secrets_loader(self, environment: dict[str, str]) -> list[str]:
        """The variables holding ``bref-ssm:`` references that no installed loader resolves.

        Bref 3 resolves them only with ``bref/secrets-loader`` and throws at cold start without
        it; Bref 2 ships the loader as a dependency of ``bref/bref``.
        """
        if self.bref_major < 3 or self.packages is None or SECRETS_LOADER in self.packages:
            return []
        return sorted(k for k, v in environment.items()
                      if isinstance(v, str) and v.startswith(SSM_REFERENCE))


def read_installed_packages(app: Path, installed_json: Path | None = None) -> dict[str, str]:
    """``{package name: version}`` as Composer recorded them in the app's ``installed.json``.

    Composer 2 writes ``{"packages": [...]}``, Composer 1 a bare list; both are read.
    """
    path = installed_json or app / INSTALLED_JSON
    if not path.is_file():
        raise config_error(
            WHERE, "app",
            str(app),
            f"{path} does not exist, so the Bref version is unknown",
            "run `composer require bref/bref bref/laravel-bridge` in the app, then "
            "`composer install` before synthesizing", kind="no_installed_json",
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    packages = data.get("packages", []) if isinstance(data, dict) else data
    return {str(p.get("name")): str(p.get("version", "")) for p in packages
            if isinstance(p, dict) and p.get("name")}


def check_vendor(app: Path, where: str = WHERE) -> None:
    """An app must carry its Composer dependencies: Lambda runs what is in the package."""
    if not (app / "vendor").is_dir():
        raise config_error(
            where, "app", str(app),
            "the app has no vendor/ directory, so the Bref layers cannot be resolved and the "
            "package would not run",
            "run `composer require bref/bref bref/laravel-bridge` and `composer install "
            "--no-dev` in the app first", kind="no_vendor",
        )


def read_bref_version(app: Path, installed_json: Path | None = None) -> str:
    """The bref/bref version recorded by Composer in the app's ``installed.json``."""
    packages = read_installed_packages(app, installed_json)
    if "bref/bref" in packages:
        return packages["bref/bref"]
    raise config_error(
        WHERE, "app",
        str(app),
        f"{installed_json or app / INSTALLED_JSON} lists no bref/bref package",
        "run `composer require bref/bref bref/laravel-bridge` in the app", kind="no_bref",
    )


def bref_major_of(version: str, source: str) -> BrefMajor:
    """The Bref major (2 or 3) of a Composer version string such as ``v3.0.9``."""
    match = re.match(r"v?(\d+)\.", version)
    major = int(match.group(1)) if match else None
    if major not in BREF_MAJORS:
        raise config_error(
            WHERE, "bref_version",
            version,
            f"{source} records Bref {version!r}; supported majors are "
            f"{sorted(BREF_MAJORS)}",
            "require a released Bref (`composer require bref/bref:^3`) or pass "
            "bref_version='3.0.x' with bref_layers_json",
        )
    return BREF_MAJORS[major]


def read_layer_account(app: Path) -> str | None:
    """The layer account the installed Bref package itself uses, if one of its files names it."""
    for source in ACCOUNT_SOURCES:
        path = app / source
        if path.is_file():
            accounts = set(_ACCOUNT_IN_ARN.findall(path.read_text(encoding="utf-8")))
            if len(accounts) == 1:
                return accounts.pop()
    return None


def check_account(account: str) -> str:
    if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
        raise config_error(
            WHERE, "bref_layer_account", account, "must be a 12-digit AWS account id",
            "pass the account Bref publishes its layers from, e.g. '873528684822'",
        )
    return account


def read_layers_json(path: Path) -> dict[str, dict[str, int]]:
    """Bref's ``layers.json``: layer name -> region -> version (strings in v2, integers in v3)."""
    if not path.is_file():
        raise config_error(
            WHERE, "bref_layers_json",
            str(path),
            "Bref's layers.json does not exist there",
            "run `composer require bref/bref` and `composer install` in the app, or pass "
            "bref_layers_json= the path of a layers.json from the Bref release you use",
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: {r: int(v) for r, v in regions.items()} for name, regions in data.items()}


def layer_names(major: int, php_version: str, runtime: str, architecture: str) -> list[str]:
    """The Bref layer names a function needs, in the order Lambda should load them."""
    digits = php_version.replace(".", "")
    prefix = "arm-" if architecture == "arm64" else ""
    if major >= 3:
        return [f"{prefix}php-{digits}"]
    if runtime == "fpm":
        return [f"{prefix}php-{digits}-fpm"]
    if runtime == "console":
        return [f"{prefix}php-{digits}", "console"]
    return [f"{prefix}php-{digits}"]


def layer_arn(region: str, account: str, name: str, version: int) -> str:
    return f"arn:aws:lambda:{region}:{account}:layer:{name}:{version}"


def validate_choice(prop: str, value: str, allowed: tuple[str, ...], fix: str) -> None:
    if value not in allowed:
        raise config_error(
            WHERE, prop, value, f"must be one of {list(allowed)}", fix, kind="choice",
        )


def check_php_version(php_version: str, major: BrefMajor, bref_version: str) -> None:
    """Reject a PHP version the app's Bref major does not publish; warn on end-of-life PHP."""
    if not isinstance(php_version, str):
        raise config_error(
            WHERE, "php_version", php_version,
            "must be a string: a number such as 8.1 loses its meaning (8.10 == 8.1)",
            f"pass a string, e.g. php_version='{php_version}'", kind="type",
        )
    validate_choice(
        "php_version", php_version, PHP_VERSIONS, "pick a PHP version Bref publishes, e.g. '8.4'"
    )
    if php_version not in major.php_versions:
        other = [m for m in BREF_MAJORS.values() if php_version in m.php_versions]
        fix = (
            f"use PHP {major.php_versions[-1]} (Bref {major.major} offers "
            f"{', '.join(major.php_versions)})"
        )
        if other:
            fix += f", or `composer require bref/bref:^{other[0].major}` for PHP {php_version}"
        raise config_error(
            WHERE, "php_version",
            php_version,
            f"Bref {bref_version} (major {major.major}) publishes no PHP {php_version} layers",
            fix, kind="unsupported",
        )
    if php_version in PHP_END_OF_LIFE:
        warnings.warn(
            f"PHP {php_version} reached end of life on {PHP_END_OF_LIFE[php_version]} and gets "
            "no security fixes. Upgrade to PHP 8.4 with Bref 3 (`composer require "
            "bref/bref:^3`, php_version='8.4').",
            EndOfLifeWarning,
            stacklevel=4,
        )


def resolve_layers(
    layers: dict[str, dict[str, int]],
    names: list[str],
    region: str,
    account: str,
    layers_path: Path,
    layer_version: int | None = None,
) -> tuple[str, ...]:
    """The exact layer ARNs for ``region``; ``layer_version`` pins the PHP layer's version."""
    arns = []
    for index, name in enumerate(names):
        if name not in layers:
            raise config_error(
                WHERE, "php_version",
                name,
                f"{layers_path} has no layer {name!r} (it has {sorted(layers)})",
                "pick a PHP version and architecture that this Bref release publishes",
                kind="no_layer",
            )
        regions = layers[name]
        if region not in regions:
            raise config_error(
                WHERE, "region",
                region,
                f"Bref publishes {name!r} in {len(regions)} regions, not this one: "
                f"{', '.join(sorted(regions))}",
                "deploy to one of those regions or use a container image (image_uri=)",
            )
        version = layer_version if (layer_version is not None and index == 0) else regions[region]
        arns.append(layer_arn(region, account, name, version))
    return tuple(arns)


def resolve_bref_runtime(
    *,
    app: Path,
    region: str,
    php_version: str,
    runtime: str,
    architecture: str,
    handler: str | None = None,
    bref_layers_json: Path | None = None,
    bref_version: str | None = None,
    layer_version: int | None = None,
    bref_layer_account: str | None = None,
) -> BrefRuntime:
    """Resolve the Lambda runtime, handler, layers and env of a Bref function on a zip package.

    The layer account is, in order: ``bref_layer_account``, the one the installed Bref package
    names in its own files, the account Bref's major version is known to publish from.
    """
    validate_choice("runtime", runtime, RUNTIMES, "use 'fpm' (HTTP), 'function' or 'console'")
    validate_choice("architecture", architecture, ARCHITECTURES, "use 'x86_64' or 'arm64'")
    check_optional_int(WHERE, "layer_version", layer_version, 1, 1_000_000,
                       "omit it to use the version from layers.json")
    if bref_layers_json is None:
        check_vendor(app)
    packages = None if bref_version else read_installed_packages(app)
    version = bref_version or read_bref_version(app)
    major = bref_major_of(version, (bref_version and "bref_version") or str(app / INSTALLED_JSON))
    check_php_version(php_version, major, version)
    layers_path = bref_layers_json or app / LAYERS_JSON
    layers = read_layers_json(layers_path)
    names = layer_names(major.major, php_version, runtime, architecture)
    account = check_account(bref_layer_account) if bref_layer_account is not None \
        else read_layer_account(app) or major.account
    arns = resolve_layers(layers, names, region, account, layers_path, layer_version)
    env = {"BREF_RUNTIME": runtime} if major.major >= 3 else {}
    chosen = resolve_handler(app, runtime, handler)
    if chosen.startswith(BRIDGE_NAMESPACE) and packages is not None:
        require_package(app, packages, LARAVEL_BRIDGE, f"the handler {chosen} is part of it")
    return BrefRuntime(
        bref_major=major.major,
        bref_version=version,
        lambda_runtime=major.lambda_runtime,
        handler=chosen,
        layer_arns=arns,
        environment=env,
        packages=packages,
    )


def require_package(app: Path, packages: dict[str, str], package: str, why: str,
                    where: str = WHERE) -> None:
    """Refuse an app whose ``vendor/`` lacks ``package``, naming the composer command."""
    if package not in packages:
        raise config_error(
            where, "app", str(app),
            f"{why}, but {app / INSTALLED_JSON} does not list {package}",
            f"run `composer require {package}` in the app, then `composer install --no-dev`",
            kind=f"missing_{package.split('/')[1].replace('-', '_')}",
        )


def resolve_handler(app: Path | None, runtime: str, handler: str | None) -> str:
    """The handler: the runtime's default, checked to exist in the app when it is a file."""
    chosen = handler or DEFAULT_HANDLERS.get(runtime)
    if not chosen:
        raise config_error(
            WHERE, "handler",
            handler,
            "runtime='function' has no default handler",
            "pass the handler, e.g. handler='Bref\\\\LaravelBridge\\\\Queue\\\\QueueHandler' "
            "for Laravel queues", kind="missing",
        )
    is_file = "\\" not in chosen
    if app is not None and is_file and not (app / chosen).is_file():
        raise config_error(
            WHERE, "handler",
            chosen,
            f"{app / chosen} does not exist in the app",
            "pass the path of the PHP entry point relative to the app root", kind="not_found",
        )
    return chosen

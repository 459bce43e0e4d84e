# oncotrials — every target installs what it needs into .venv (uv included).
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
PG_URL ?= postgres://postgres@127.0.0.1:5432/oncotrials_ci
HOST ?= 127.0.0.1
PORT ?= 8000
AXE_VERSION := 4.10.3
AXE := $(TOOLS)/axe/node_modules/axe-core/axe.min.js
FHIRJS_VERSION := 4.12.0

.PHONY: install run demo test lint typecheck test-sqlite test-postgres e2e-deps fhir-validator-deps bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

$(BIN)/oncotrials: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --quiet
	@touch $@

install: $(BIN)/oncotrials

## run: install, migrate SQLite, load the demo if empty, serve on $(HOST):$(PORT)
##      (default 127.0.0.1:8000; e.g. `make run PORT=8001 HOST=127.0.0.1`)
run: install
	$(BIN)/oncotrials run --demo-if-empty --host "$(HOST)" --port "$(PORT)"

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: install
	ONCOTRIALS_TESTING=1 $(BIN)/mypy

test-sqlite: install
	$(BIN)/pytest -n 2 -q

test-postgres: install
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 -q -m "not e2e" tests/apps tests/web tests/cli

## e2e-deps: Debian's chromium for the browser tests, axe-core (npm) for the accessibility tests
e2e-deps:
	@grep -qs '"version": "$(AXE_VERSION)"' $(TOOLS)/axe/node_modules/axe-core/package.json || { (command -v npm >/dev/null && npm install --prefix $(TOOLS)/axe --no-audit --no-fund --no-save --silent axe-core@$(AXE_VERSION) >/dev/null && test -f $(AXE)) || { if [ "$$CI" = true ]; then echo "axe-core $(AXE_VERSION) could not be installed (npm install --prefix $(TOOLS)/axe axe-core@$(AXE_VERSION)); CI runs the accessibility tests, so this is an error" >&2; exit 1; else echo "axe-core could not be installed; the accessibility tests will be skipped"; fi; }; }
	@command -v chromium >/dev/null || { (apt-get -o DPkg::Lock::Timeout=600 update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null) || { if [ "$$CI" = true ]; then echo "chromium could not be installed (apt-get install chromium); CI runs the browser tests, so this is an error" >&2; exit 1; else echo "chromium could not be installed; e2e tests will be skipped"; fi; }; }

## fhir-validator-deps: FHIR.js (npm fhir, ISC), the offline R4 validator of the FHIR export tests
fhir-validator-deps:
	@grep -qs '"version": "$(FHIRJS_VERSION)"' $(TOOLS)/fhir/node_modules/fhir/package.json || { (command -v npm >/dev/null && npm install --prefix $(TOOLS)/fhir --no-audit --no-fund --no-save --silent fhir@$(FHIRJS_VERSION) >/dev/null) || { if [ "$$CI" = true ]; then echo "FHIR.js $(FHIRJS_VERSION) could not be installed (npm install --prefix $(TOOLS)/fhir fhir@$(FHIRJS_VERSION)); CI runs the FHIR validation tests, so this is an error" >&2; exit 1; else echo "FHIR.js could not be installed; the FHIR validation tests will be skipped"; fi; }; }

## test: lint, types, architecture contract, then the suite on SQLite and on PostgreSQL
test: install e2e-deps fhir-validator-deps lint typecheck test-sqlite test-postgres

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache

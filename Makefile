# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck check bench clean

install: $(STAMP)

# Re-installs only when the dependency pins or the project metadata change.
$(STAMP): pyproject.toml constraints.txt scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/bridge serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check bridge tests bench conformance
	$(BIN)/ruff format --check bridge tests bench conformance

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info

# Conformance: stac-api-validator (offline schemas), JSON Schema, pystac-client and QGIS's
# request pattern against a sandbox bridge on a free loopback port; writes conformance/REPORT.md.
.PHONY: conformance
conformance: install
	$(BIN)/python -m conformance

# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
STAMP := $(VENV)/.installed
BROWSER := browser/dist/index.html

.PHONY: install browser run test lint typecheck check bench clean

install: $(STAMP) $(BROWSER)

# Re-installs only when the dependency pins or the project metadata change.
$(STAMP): pyproject.toml constraints.txt scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# stac-browser for /browser/, from the npm registry; skipped (with a note) without Node.js.
browser: $(BROWSER)

$(BROWSER): browser/package.json browser/package-lock.json scripts/build-stac-browser.sh
	bash scripts/build-stac-browser.sh

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
	rm -rf browser/node_modules browser/dist browser/build browser/dist.tmp

# Conformance: stac-api-validator (offline schemas), JSON Schema, pystac-client, QGIS's
# request pattern, GDAL (STACIT, /vsicurl/) and stac-browser in headless Chromium, against
# a sandbox bridge on a free loopback port; writes conformance/REPORT.md. Installs what the
# last two need (Debian gdal-bin, chromium; Node.js for the browser build) when missing.
.PHONY: conformance
conformance: install
	bash scripts/install-system-packages.sh conformance
	BROWSER_REQUIRED=1 $(MAKE) --no-print-directory $(BROWSER)
	$(BIN)/python -m conformance

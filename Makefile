# Two commands for a fresh machine: `make demo` and `make test` (`make check`: the fast lane).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo check test lint system-deps bench clean

$(STAMP): pyproject.toml web/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	# The OGC API test suite, pinned (tests/api/test_ogctests.py); --no-deps: see pyproject.toml.
	$(BIN)/pip install -q --no-deps 'ogctests==0.1.15'
	# The console's browser libraries (Leaflet.VectorGrid) from npm, pinned by the lock file.
	command -v npm >/dev/null 2>&1 || bash scripts/system-deps.sh
	npm ci --prefix web --no-audit --no-fund --ignore-scripts
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gridmap demo

system-deps:
	bash scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check gridmap api tests bench
	$(BIN)/mypy gridmap api

# The fast lane: lint and every test not marked slow (a few minutes; `make test` runs them all).
check: lint
	$(BIN)/pytest -p no:cacheprovider -q -m "not slow"

test: $(STAMP) system-deps lint
	GRIDMAP_REQUIRE_POSTGIS=1 $(BIN)/pytest -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) maps/*.html gridmap.gpkg

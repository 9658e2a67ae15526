# Two commands for a fresh machine: `make demo` and `make test` (`make check`: the fast lane).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo check test lint system-deps bench clean

$(STAMP): pyproject.toml web/package-lock.json
	$(PYTHON) -m venv $(VENV)
	# uv installs the same releases as pip from PyPI, downloading in parallel: a fresh venv took
	# 38 s instead of 11 min on a busy machine (pip also scans this machine's local wheel folders).
	# Compiled at install, as pip does: a test process may not be allowed to write bytecode.
	$(BIN)/pip install -q 'uv==0.13.10'
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[test]'
	# The OGC API test suite, pinned (tests/api/test_ogctests.py); --no-deps: see pyproject.toml.
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps 'ogctests==0.1.15'
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

# Tests run three at a time on two cores (each test file on one worker): a quarter of the machine
# sat idle with two workers (servers starting, polls, PostgreSQL round trips), and a third worker
# took a 157 s slice of the suite to 146 s. Those asserting a wall-clock bound (marked `timing`) run
# afterwards, alone, so that the other workers' load cannot fail them.
PARALLEL := -n 3 --dist loadfile

# Each test process (three workers, the timing run, every `gridmap serve` and builder a test
# starts) would otherwise compile gridmap and rewrite the test modules and pytest plugins anew:
# about 13 CPU-seconds a process. Let them keep their bytecode, whatever the caller's environment.
unexport PYTHONDONTWRITEBYTECODE

# The fast lane: lint and every test not marked slow (under 3 minutes; `make test` runs them all).
check: lint
	$(BIN)/pytest -p no:cacheprovider -q $(PARALLEL) -m "not slow and not timing"

test: $(STAMP) system-deps lint
	GRIDMAP_REQUIRE_POSTGIS=1 $(BIN)/pytest -p no:cacheprovider $(PARALLEL) -m "not timing"
	GRIDMAP_REQUIRE_POSTGIS=1 $(BIN)/pytest -p no:cacheprovider -m timing

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) maps/*.html gridmap.gpkg

"""Shared fixtures: a fresh PostGIS database per test session, and the store matrix.

With GRIDMAP_REQUIRE_POSTGIS=1 (set by `make test` and CI) a PostGIS test can
never be skipped: an unreachable server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from gridmap.sample import load_sample
from gridmap.stores import Store, open_store
from tests.stored import emptied, empty_geopackage

# People read gridmap in Chinese by default; the suite's assertions on messages read the English
# (tests/test_texts.py and tests/cli/test_language.py check the Chinese default, unsetting this).
os.environ["GRIDMAP_LANG"] = "en"

ADMIN_URL = os.environ.get("GRIDMAP_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGIS = os.environ.get("GRIDMAP_REQUIRE_POSTGIS") == "1" or os.environ.get("CI") == "true"

_skipped_postgis: list[str] = []


def _unavailable(reason: str) -> None:
    if REQUIRE_POSTGIS:
        pytest.fail(f"PostGIS required but unavailable: {reason}")
    pytest.skip(f"PostGIS unavailable: {reason}")


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """A fresh database with the postgis extension, dropped after the session."""
    with fresh_postgis_database() as url:
        yield url


@contextmanager
def fresh_postgis_database(prefix: str = "gridmap_test") -> Iterator[str]:
    """Create a database with the postgis extension; yield its URL; drop it afterwards.

    Every name starts with `gridmap_test_` (README, Development), so what a run leaves behind is
    recognisable on a shared server.
    """
    name = f"{database_prefix(prefix)}_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(_with_db(ADMIN_URL, name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        _unavailable(str(exc).strip())
    host_part = ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    yield f"postgresql+psycopg://{host_part}/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_prefix(prefix: str) -> str:
    """`gridmap_api` -> `gridmap_test_api`: the test databases share one documented prefix."""
    return prefix if prefix.startswith("gridmap_test") else "gridmap_test_" + prefix.removeprefix("gridmap_")


def _with_db(url: str, db: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + db


# Test files whose tests are end-to-end (servers, whole districts, both stores) and together take most
# of the suite's time: `make check` (the fast lane, `-m "not slow"`) leaves them to `make test`.
SLOW_FILES = frozenset(
    {
        "tests/api/test_write_access.py",
        "tests/api/test_cases.py",
        "tests/api/test_ogc_parts.py",
        "tests/api/test_ogctests.py",
        "tests/api/test_open311.py",
        "tests/api/test_export.py",
        "tests/api/test_session.py",
        "tests/api/test_writes.py",
        "tests/api/test_coverage.py",
        "tests/api/test_lookup.py",
        "tests/api/test_serve.py",
        "tests/api/test_serve_writes.py",
        "tests/api/test_limits.py",
        "tests/api/test_party.py",
        "tests/api/test_visits.py",
        "tests/api/test_history.py",
        "tests/api/test_external_edits.py",
        "tests/api/test_schema.py",
        "tests/stores/test_external_edits.py",
        "tests/stores/test_external_stress.py",
        "tests/stores/test_concurrent_writes.py",
        "tests/stores/test_store_contract.py",
        "tests/stores/test_history.py",
        "tests/ingest/test_round_trip.py",
        "tests/ingest/test_preview.py",
        "tests/test_lookup.py",
        "tests/test_incremental.py",
        "tests/test_serving.py",
        "tests/test_export.py",
        "tests/cases/test_lifecycle.py",
        "tests/cli/test_features.py",
        "tests/cli/test_demo.py",
        "tests/cli/test_analysis.py",
        "tests/distributed/test_parts.py",
        "tests/distributed/test_engine.py",
        "tests/cases/test_lifecycle_machine.py",
        "tests/cases/test_statistics.py",
        "tests/cases/test_duplicates.py",
        "tests/test_authorisation.py",
        "tests/test_tiles.py",
        "tests/test_address_real_names.py",
        "tests/cli/test_lookup.py",
        "tests/cli/test_validate.py",
        "tests/cli/test_cases.py",
        "tests/stores/test_geopackage.py",
        "tests/stores/test_query.py",
        "tests/api/test_secrets.py",
        "tests/api/test_sign_in.py",
        "tests/api/test_console.py",
        "tests/api/test_coverage_parts.py",
        "tests/cli/test_party.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests and the files of `SLOW_FILES` are `slow`. Full-size load tests (minutes each) run
    only with GRIDMAP_SLOW=1; their smaller twins always run.

    Load tests are deselected rather than skipped, so a run without them is not a run with PostGIS
    tests skipped.
    """
    for item in items:
        if item.get_closest_marker("browser") or item.nodeid.split("::")[0] in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
    if os.environ.get("GRIDMAP_SLOW") == "1":
        return
    load = [item for item in items if item.get_closest_marker("load")]
    if load:
        config.hook.pytest_deselected(items=load)
        items[:] = [item for item in items if not item.get_closest_marker("load")]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "postgis" in report.keywords:
        _skipped_postgis.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_POSTGIS and _skipped_postgis:
        print(f"\n{len(_skipped_postgis)} PostGIS test(s) were skipped; failing the run:")
        for nodeid in _skipped_postgis[:20]:
            print(f"  {nodeid}")
        session.exitstatus = 1


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store of each kind: a new GeoPackage file, or the session's PostGIS."""
    if request.param == "gpkg":
        return empty_geopackage(tmp_path / "store.gpkg")
    url: str = request.getfixturevalue("postgis_url")
    return emptied(url)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, empty store of each kind (the same tests run on both)."""
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A GeoPackage store holding the committed sample district, for tests that only read it."""
    url = str(tmp_path_factory.mktemp("sample") / "sample.gpkg")
    with open_store(url) as store:
        load_sample(store)
    return url

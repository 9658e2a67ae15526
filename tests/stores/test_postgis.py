"""PostGIS specifics: the migrated schema matches the catalogue, constraints hold in the database itself."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
from alembic.config import Config
from alembic.script import ScriptDirectory
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import MultiPolygon, Point, box

from gridmap.catalogue import LAYER_NAMES, LAYERS
from gridmap.errors import ConfigError, StoreError
from gridmap.stores import open_store, postgis
from gridmap.stores.postgis import MIGRATIONS, PostGISStore, driver_url
from gridmap.stores.query import PageRequest
from tests.conftest import emptied

from .conftest import sample_layers

pytestmark = pytest.mark.postgis

SQL_TYPES = {"text": "text", "integer": "bigint", "real": "double precision", "boolean": "boolean"}
# buildings and roads keep both their types in a generic column
GEOMETRY_TYPES = {
    "MultiPolygon": "MultiPolygon",
    "Point": "Point",
    "Polygon": "Geometry",
    "MultiLineString": "Geometry",
}


@pytest.fixture
def pg(postgis_url: str) -> Iterator[psycopg.Connection]:
    """A plain psycopg connection to the test database, with an empty, migrated store in it."""
    emptied(postgis_url)  # history too: an earlier test's retired codes must not meet these
    with psycopg.connect(postgis_url.replace("+psycopg", ""), autocommit=True) as conn:
        yield conn


def test_schema_matches_the_catalogue(pg: psycopg.Connection) -> None:
    for name, spec in LAYERS.items():
        rows = pg.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (name,),
        ).fetchall()
        expected = {f.name: (SQL_TYPES[f.type], "NO" if f.required else "YES") for f in spec.fields}
        expected |= {"geometry": ("USER-DEFINED", "YES"), "revision": ("bigint", "NO")}
        assert {column: (kind, nullable) for column, kind, nullable in rows} == expected, name
        history = pg.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (f"{name}_history",)
        ).fetchall()
        assert {c for (c,) in history} == {*expected, "superseded", "closed_on"}, name
        geometry = pg.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = 'geometry'",
            (name,),
        ).fetchone()
        assert geometry == (f"geometry({GEOMETRY_TYPES[spec.geometry]},4326)",)
        found = pg.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (name,))
        indexes: dict[str, str] = dict(found.fetchall())
        assert "USING gist (geometry)" in indexes[f"{name}_geometry_gist"]
        assert "UNIQUE INDEX" in indexes[f"{name}_pkey"] and "(code)" in indexes[f"{name}_pkey"]
        checks = " ".join(
            definition
            for (definition,) in pg.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'c'",
                (name,),
            )
        )
        for f in spec.fields:
            for choice in f.choices:
                assert f"'{choice}'::text" in checks, (name, f.name)


def test_database_refuses_what_the_catalogue_forbids(pg: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("INSERT INTO speakers (code, status) VALUES ('K1', 'lost')")
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("INSERT INTO communities (code, name, street_code, kind) VALUES ('C1', 'x', 'S1', 'town')")
    with pytest.raises(psycopg.errors.NotNullViolation):
        pg.execute("INSERT INTO streets (code) VALUES ('S1')")
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("INSERT INTO buildings (code, geometry) VALUES ('B1', 'SRID=4326;POINT(116.3 39.9)')")
    with pytest.raises(psycopg.errors.CheckViolation):  # a road is a line
        pg.execute("INSERT INTO roads (code, geometry) VALUES ('R1', 'SRID=4326;POINT(116.3 39.9)')")
    pg.execute(
        "INSERT INTO roads (code, geometry) VALUES ('R1', 'SRID=4326;LINESTRING(116.3 39.9, 116.4 39.9)')"
    )
    assert pg.execute("SELECT walkable FROM roads").fetchone() == (True,)
    with pytest.raises(psycopg.errors.InvalidParameterValue):  # typmod: SRID and type are part of the column
        pg.execute("INSERT INTO households (code, geometry) VALUES ('H1', 'SRID=3857;POINT(1 2)')")
    pg.execute("INSERT INTO households (code, geometry) VALUES ('H1', 'SRID=4326;POINT(116.3 39.9)')")
    defaults = pg.execute("SELECT size, party_member, center_household FROM households").fetchone()
    assert defaults == (1, False, False)


def test_migrations_are_idempotent(postgis_url: str, pg: psycopg.Connection) -> None:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    for _ in range(2):
        with open_store(postgis_url) as store:
            assert store.counts()["streets"] == 0
    assert pg.execute("SELECT version_num FROM gridmap_alembic_version").fetchall() == [(head,)]
    assert pg.execute("SELECT count(*) FROM gridmap_meta").fetchone() == (len(LAYERS) + 1,)


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def test_bulk_replace_rebuilds_key_and_spatial_index(
    postgis_url: str, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgis, "_REBUILD_FROM_ROWS", 1)  # take the drop, COPY, rebuild path of big loads
    with open_store(postgis_url) as store:
        store.replace_many(sample_layers())
        assert store.counts()["households"] == 4
    indexes = [
        name for (name,) in pg.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'households'")
    ]
    assert sorted(indexes) == [
        "households_building_code_btree",
        "households_geometry_gist",
        "households_grid_code_btree",
        "households_pkey",
        "households_revision_btree",
    ]
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg.execute("INSERT INTO households (code) VALUES ('H1')")
    with pg.transaction():
        pg.execute("SET LOCAL enable_seqscan = off")
        plan = " ".join(
            row[0]
            for row in pg.execute(
                "EXPLAIN SELECT code FROM households "
                "WHERE geometry && ST_MakeEnvelope(116.3, 39.9, 116.4, 40, 4326)"
            )
        )
    assert "households_geometry_gist" in plan


def test_revision_is_committed_with_the_write(postgis_url: str, pg: psycopg.Connection) -> None:
    with open_store(postgis_url) as store:
        before = int(store.revision())
        store.upsert("households", sample_layers()["households"])
        assert int(store.revision()) == before + 1
    assert pg.execute("SELECT revision >= 1 FROM gridmap_meta WHERE key = 'households'").fetchone() == (True,)


def test_url_forms(postgis_url: str) -> None:
    assert driver_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert driver_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(ConfigError):
        driver_url("mysql://u@h/db")
    with PostGISStore(postgis_url.replace("+psycopg", "")) as store:
        assert store.url.startswith("postgresql+psycopg://")


def test_unreachable_server_is_a_store_error() -> None:
    with pytest.raises(
        StoreError, match=re.escape("cannot open postgresql+psycopg://gridmap:***@127.0.0.1:1/x")
    ):
        open_store("postgresql://gridmap:secret@127.0.0.1:1/x")


def test_upsert_counts_inserted_and_updated_rows(postgis_url: str) -> None:
    frames = sample_layers()
    with open_store(postgis_url) as store:
        store.replace("households", frames["households"].iloc[:2])
        assert store.upsert("households", frames["households"]) == 4
        assert store.counts()["households"] == 4
        moved = frames["households"].iloc[:1].copy()
        moved["geometry"] = [Point(116.5, 40.5)]
        store.upsert("households", moved)
        assert store.read("households", bbox=(116.49, 40.49, 116.51, 40.51))["code"].tolist() == ["H3"]


def test_bulk_ewkb_matches_shapely() -> None:
    geoms = np.array(
        [Point(116.3, 39.9), None, box(0, 0, 1, 1), MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)])],
        dtype=object,
    )
    points = np.array([Point(116.3, 39.9), None, Point(-1.5, 2.25)], dtype=object)
    for sample in (geoms, points, points[[0, 2]]):
        expected = shapely.to_wkb(shapely.set_srid(sample, 4326), byte_order=1, include_srid=True)
        assert postgis.ewkb(sample).to_pylist() == list(expected)


def test_bulk_load_of_chunked_columns(postgis_url: str) -> None:
    """Frames built by concatenation hold Arrow text in several chunks; COPY must lay them out the same."""
    households = sample_layers()["households"].sort_values("code")  # already ordered: no re-sort combines
    frame = pd.concat([households.iloc[:2], households.iloc[2:]])
    with open_store(postgis_url) as store:
        store.replace("households", frame)
        got = store.read("households")
    assert got["address"].tolist()[:2] == ["史家胡同1号1单元102室", ""]
    assert got["code"].tolist() == ["H1", "H2", "H3", "H4"]


def test_large_layers_read_through_arrow_alike(postgis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(postgis_url) as store:
        store.replace_many(sample_layers())
        pooled = {name: store.read(name) for name in LAYER_NAMES}
        monkeypatch.setattr(postgis, "_ARROW_FROM_ROWS", 0)  # every layer counts as large: the ADBC path
        monkeypatch.setattr(postgis.PostGISStore, "_rows", None)  # so the pooled path cannot answer
        for name in LAYER_NAMES:
            assert_geodataframe_equal(store.read(name), pooled[name])
        assert_geodataframe_equal(
            store.read("households", bbox=(116.30, 39.90, 116.35, 40.0)),
            pooled["households"][pooled["households"].geometry.x < 116.35].reset_index(drop=True),
        )


def test_page_reads_survive_a_connection_the_server_dropped(pg: psycopg.Connection, postgis_url: str) -> None:
    """Pages and items read on kept autocommit connections (one round trip each, no pool ping): one the
    server ended is replaced, and the read answers as if nothing happened."""
    with open_store(postgis_url) as store:
        store.replace_many(sample_layers())
        first = store.query_records("grids", PageRequest(limit=1))
        assert first.records.column("code") == ["G1"] and (first.matched, first.more) == (2, True)
        ended = pg.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle' "
            "AND query LIKE 'WITH page AS%%'"
        ).fetchall()
        assert ended == [(True,)]
        again = store.query_records("grids", PageRequest(limit=1, after="G1"))
        assert again.records.column("code") == ["G2"] and (again.matched, again.more) == (2, False)
        assert store.read_records("grids", ["G2"]).column("name") == ["第二网格"]

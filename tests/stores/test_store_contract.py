"""The Store contract, run on both stores through the `store` fixture (GeoPackage and PostGIS)."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import MultiPolygon, Point, Polygon

from gridmap.catalogue import LAYER_NAMES, get_layer
from gridmap.errors import CRSError, StoreError, UnknownLayerError
from gridmap.frames import conform, dtype_of, empty_frame
from gridmap.stores import Store, geopackage, postgis
from gridmap.stores.geopackage import GeoPackageStore

from .conftest import sample_layers


def _codes(frame: gpd.GeoDataFrame) -> list[str]:
    return frame["code"].tolist()


def _load(store: Store) -> dict[str, gpd.GeoDataFrame]:
    frames = sample_layers()
    store.replace_many(frames)
    return frames


def _snapshot(store: Store) -> dict[str, gpd.GeoDataFrame]:
    return {name: store.read(name) for name in LAYER_NAMES}


def test_empty_store_reads_canonical_empty_frames(store: Store) -> None:
    assert store.counts() == dict.fromkeys(LAYER_NAMES, 0)
    for name in LAYER_NAMES:
        frame = store.read(name)
        assert_geodataframe_equal(frame, empty_frame(name))
        assert frame.crs.to_epsg() == 4326


def test_round_trip_of_every_layer(store: Store) -> None:
    frames = _load(store)
    assert store.counts() == {name: len(frame) for name, frame in frames.items()}
    for name, frame in frames.items():
        expected = conform(name, frame).sort_values("code", ignore_index=True)
        if get_layer(name).geometry == "MultiPolygon":
            expected["geometry"] = [
                g if g.geom_type == "MultiPolygon" else MultiPolygon([g]) for g in expected.geometry
            ]
        got = store.read(name)
        assert list(got.columns) == get_layer(name).columns
        assert {c: str(got[c].dtype) for c in got.columns[:-1]} == {
            f.name: dtype_of(f) for f in get_layer(name).fields
        }
        assert_geodataframe_equal(got, expected)


def test_round_trip_known_values(store: Store) -> None:
    _load(store)
    households = store.read("households").set_index("code")
    assert households.loc["H3", "address"] == "史家胡同1号1单元101室"
    assert households.loc["H2", "address"] == ""  # empty text is not null
    assert pd.isna(households.loc["H4", "address"])
    assert households.loc["H2", "size"] == 1  # null takes the catalogue default
    assert households.loc["H3", "party_member"]
    assert not households.loc["H2", "party_member"]  # null takes the default, False
    assert households.loc["H3", "center_household"]
    assert households.loc["H4", "contact_phone"] == "010-65120000"
    assert households.loc["H1"].geometry.equals(Point(116.3206, 39.9206))
    speakers = store.read("speakers").set_index("code")
    assert speakers.loc["K1", "status"] == "working"
    assert speakers.loc["K2", "radius_m"] == 300.0
    assert speakers.loc["K1", "sensitivity_db"] == 92.5
    assert pd.isna(speakers.loc["K1", "power_w"])
    buildings = store.read("buildings").set_index("code")
    assert buildings.geometry.geom_type.to_dict() == {"B1": "Polygon", "B2": "Polygon", "B3": "MultiPolygon"}
    assert buildings.loc["B3", "floors"] == 18
    assert pd.isna(buildings.loc["B1", "floors"])
    communities = store.read("communities").set_index("code")
    assert set(communities.geometry.geom_type) == {"MultiPolygon"}
    assert len(communities.loc["C2"].geometry.geoms) == 2


def test_replace_with_an_empty_frame_empties_the_layer(store: Store) -> None:
    _load(store)
    assert store.replace("households", empty_frame("households")) == 0
    assert_geodataframe_equal(store.read("households"), empty_frame("households"))
    assert store.counts()["households"] == 0
    assert store.counts()["buildings"] == 3


def test_bbox_read_uses_exact_intersection(store: Store) -> None:
    _load(store)
    found = store.read("households", bbox=(116.32, 39.92, 116.33, 39.93))
    assert _codes(found) == ["H1", "H3"]
    # B2 is a triangle whose envelope touches this box but whose area does not.
    assert _codes(store.read("buildings", bbox=(116.3115, 39.9115, 116.312, 39.912))) == []
    assert _codes(store.read("buildings", bbox=(116.3, 39.9, 116.4, 40.0))) == ["B1", "B2", "B3"]
    assert_geodataframe_equal(store.read("households", bbox=(0.0, 0.0, 1.0, 1.0)), empty_frame("households"))


def test_codes_read_binds_values(store: Store) -> None:
    _load(store)
    assert _codes(store.read("households", codes=["H4", "H1", "nope"])) == ["H1", "H4"]
    assert _codes(store.read("households", codes=["H1' OR '1'='1", 'H1" --'])) == []
    assert _codes(store.read("households", codes=[])) == []
    both = store.read("households", codes=["H1", "H2", "H3"], bbox=(116.32, 39.92, 116.33, 39.93))
    assert _codes(both) == ["H1", "H3"]


def test_upsert_inserts_and_updates(store: Store) -> None:
    _load(store)
    before = store.revision()
    change = gpd.GeoDataFrame(
        {"code": ["H1", "H9"], "address": ["史家胡同1号1单元102室(新)", "新户"], "size": [4, None]},
        geometry=[Point(116.395, 39.995), Point(116.301, 39.901)],
        crs="EPSG:4326",
    )
    assert store.upsert("households", change) == 2
    assert store.revision() != before
    assert store.counts()["households"] == 5
    households = store.read("households").set_index("code")
    assert households.loc["H1", "address"] == "史家胡同1号1单元102室(新)"
    assert households.loc["H1", "size"] == 4
    assert pd.isna(households.loc["H1", "building_code"])  # an upsert writes whole features
    assert households.loc["H9", "size"] == 1
    # the spatial index follows the moved and the new feature
    assert _codes(store.read("households", bbox=(116.32, 39.92, 116.33, 39.93))) == ["H3"]
    assert _codes(store.read("households", bbox=(116.39, 39.99, 116.40, 40.0))) == ["H1"]
    assert _codes(store.read("households", bbox=(116.30, 39.90, 116.302, 39.902))) == ["H9"]


def test_upsert_keeps_building_geometry_types(store: Store) -> None:
    _load(store)
    change = gpd.GeoDataFrame(
        {"code": ["B1", "B4"], "floors": [7, 2]},
        geometry=[
            MultiPolygon([Polygon([(116.32, 39.92), (116.321, 39.92), (116.321, 39.921)])]),
            Polygon([(116.33, 39.93), (116.331, 39.93), (116.331, 39.931)]),
        ],
        crs="EPSG:4326",
    )
    assert store.upsert("buildings", change) == 2
    types = store.read("buildings").set_index("code").geometry.geom_type.to_dict()
    assert types == {"B1": "MultiPolygon", "B2": "Polygon", "B3": "MultiPolygon", "B4": "Polygon"}
    assert _codes(store.read("buildings", bbox=(116.3305, 39.9301, 116.331, 39.931))) == ["B4"]


def test_upsert_of_nothing_changes_nothing(store: Store) -> None:
    _load(store)
    before = store.revision()
    assert store.upsert("households", empty_frame("households")) == 0
    assert store.revision() == before


def test_delete_by_code(store: Store) -> None:
    _load(store)
    before = store.revision()
    assert store.delete("households", ["H1", "H4", "missing", "x' OR '1'='1"]) == 2
    assert store.revision() != before
    assert _codes(store.read("households")) == ["H2", "H3"]
    assert _codes(store.read("households", bbox=(116.32, 39.92, 116.33, 39.93))) == ["H3"]
    unchanged = store.revision()
    assert store.delete("households", ["missing"]) == 0
    assert store.revision() == unchanged


def test_revision_changes_on_every_write_only(store: Store) -> None:
    seen = {store.revision()}
    frames = _load(store)
    seen.add(store.revision())
    assert store.revision() in seen and len(seen) == 2  # reads leave it alone
    store.replace("speakers", frames["speakers"].assign(name="改名"))
    seen.add(store.revision())
    store.upsert("speakers", frames["speakers"].iloc[:1])
    seen.add(store.revision())
    store.delete("speakers", ["K1"])
    seen.add(store.revision())
    assert len(seen) == 5
    unchanged = store.revision()
    store.replace("streets", frames["streets"])  # writes nothing new: no revision
    assert store.revision() == unchanged


def test_last_modified_stamps_the_changed_layer(store: Store) -> None:
    frames = _load(store)
    before = store.last_modified()
    assert set(before) == set(LAYER_NAMES)
    assert all(stamp is not None for stamp in before.values())
    store.upsert("speakers", frames["speakers"].assign(name="改名"))
    after = store.last_modified()
    assert after["speakers"] is not None and before["speakers"] is not None
    assert after["speakers"] > before["speakers"]
    assert after["streets"] == before["streets"]


def test_replace_many_is_atomic_under_failure(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _load(store)
    before, revision = _snapshot(store), store.revision()
    calls = []

    def fail_on_second_layer(real: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            calls.append(args)
            if len(calls) == 2:
                raise RuntimeError("simulated crash halfway through the write")
            return real(*args, **kwargs)

        return wrapper

    if isinstance(store, GeoPackageStore):
        monkeypatch.setattr(geopackage, "_load_layer", fail_on_second_layer(geopackage._load_layer))
    else:
        monkeypatch.setattr(postgis, "_copy", fail_on_second_layer(postgis._copy))
    empty = {name: empty_frame(name) for name in ("households", "buildings", "grids")}
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.replace_many(empty)
    assert len(calls) == 2
    assert store.revision() == revision
    for name, frame in _snapshot(store).items():
        assert_geodataframe_equal(frame, before[name])
    if isinstance(store, GeoPackageStore):
        assert sorted(p.name for p in store.path.parent.iterdir()) == [store.path.name]


@pytest.mark.parametrize(
    ("layer", "change", "message"),
    [
        ("speakers", {"code": ["K1"], "status": ["坏了"]}, "status must be one of working, broken"),
        ("communities", {"code": ["C1"], "name": ["x"], "street_code": [None]}, "street_code is required"),
        ("households", {"code": ["H1", "H1"]}, "duplicate codes H1"),
        ("households", {"code": [None]}, "code is required"),
    ],
)
def test_invalid_frames_are_refused_whole(store: Store, layer: str, change: dict, message: str) -> None:
    _load(store)
    before, revision = store.read(layer), store.revision()
    geometry = [Point(116.3, 39.9)] * len(change["code"])
    frame = gpd.GeoDataFrame(change, geometry=geometry, crs="EPSG:4326")
    for write in (store.replace, store.upsert):
        with pytest.raises(StoreError, match=message):
            write(layer, frame)
    assert_geodataframe_equal(store.read(layer), before)
    assert store.revision() == revision


def test_wrong_geometry_type_is_refused(store: Store) -> None:
    frame = gpd.GeoDataFrame(
        {"code": ["G1"], "name": ["x"], "community_code": ["C1"]}, geometry=[Point(0, 0)], crs=4326
    )
    with pytest.raises(StoreError, match="grids: geometry must be MultiPolygon, not POINT"):
        store.replace("grids", frame)


def test_frames_are_brought_to_wgs84(store: Store) -> None:
    metric = gpd.GeoDataFrame({"code": ["P1"]}, geometry=[Point(116.3, 39.9)], crs=4326).to_crs(3857)
    store.replace("service_points", metric)
    got = store.read("service_points")
    assert got.crs.to_epsg() == 4326
    assert shapely.equals_exact(got.geometry.iloc[0], Point(116.3, 39.9), tolerance=1e-9)
    assert got.loc[0, "radius_m"] == 500.0
    with pytest.raises(CRSError):
        store.replace("service_points", gpd.GeoDataFrame({"code": ["P1"]}, geometry=[Point(0, 0)]))


def test_unknown_layer(store: Store) -> None:
    with pytest.raises(UnknownLayerError, match="expected one of: streets"):
        store.read("rivers")
    with pytest.raises(UnknownLayerError):
        store.delete("rivers; DROP TABLE streets", ["x"])


def test_null_geometry_round_trips(store: Store) -> None:
    frame = gpd.GeoDataFrame({"code": ["H1", "H2"]}, geometry=[None, Point(116.3, 39.9)], crs=4326)
    store.replace("households", frame)
    got = store.read("households")
    assert got.geometry.isna().tolist() == [True, False]
    assert _codes(store.read("households", bbox=(116.2, 39.8, 116.4, 40.0))) == ["H2"]


def test_text_with_a_nul_is_refused_and_never_found(store: Store) -> None:
    """SQLite keeps text only up to a NUL (H9\\0 was stored as H9), PostgreSQL refuses it: one error,
    nothing written; and a code with a NUL finds nothing (it used to find, and delete, H1)."""
    _load(store)
    before = store.read("speakers")
    speaker = before.iloc[[0]]
    for bad in (speaker.assign(code="K9\x00"), speaker.assign(name="村口\x00大喇叭")):
        with pytest.raises(StoreError, match="must not contain a NUL"):
            store.upsert("speakers", bad)
    assert_geodataframe_equal(store.read("speakers"), before)
    code = str(speaker["code"].iloc[0])
    assert store.read("speakers", codes=[f"{code}\x00"]).empty
    assert store.query("speakers", codes=[f"{code}\x00"]).frame.empty
    assert store.delete("speakers", [f"{code}\x00"]) == 0
    assert code in _codes(store.read("speakers"))

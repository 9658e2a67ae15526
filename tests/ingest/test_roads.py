"""Roads import from every vector format and from an OpenStreetMap extract, on both stores."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import osmium
import pytest
import shapely

from gridmap.errors import ValidationError
from gridmap.ingest import import_file
from gridmap.stores import Store

MAIN = shapely.LineString([(114.300, 30.560), (114.305, 30.560), (114.310, 30.560)])
BRANCH = shapely.MultiLineString(
    [[(114.305, 30.560), (114.305, 30.565)], [(114.306, 30.566), (114.307, 30.567)]]
)


def _roads() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "道路编码": ["R2", "R1"],
            "路名": ["中山路", None],
            "道路类型": ["primary", "footway"],
            "可步行": [True, False],
        },
        geometry=[MAIN, BRANCH],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".fgb"])
def test_roads_import_as_lines_kept_as_given(tmp_path: Path, store: Store, suffix: str) -> None:
    path = tmp_path / f"roads{suffix}"
    _roads().to_file(path)
    report = import_file(store, "roads", path)
    assert report.mapping == {"code": "道路编码", "name": "路名", "kind": "道路类型", "walkable": "可步行"}
    got = store.read("roads")
    assert list(got["code"]) == ["R1", "R2"]
    assert got["walkable"].tolist() == [False, True]
    assert got.geometry.iloc[0].equals(BRANCH) and got.geometry.iloc[1].equals(MAIN)


def test_a_road_must_be_a_line(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "roads.geojson"
    gpd.GeoDataFrame({"code": ["R1"]}, geometry=[shapely.Point(114.3, 30.56)], crs="EPSG:4326").to_file(path)
    with pytest.raises(ValidationError) as caught:
        import_file(store, "roads", path)
    assert "LineString" in caught.value.problems[0].reason
    assert store.read("roads").empty


def _osm(path: Path) -> None:
    """A tiny extract: a street, a footway joining it, a motorway bridge over both (no shared node)."""
    writer = osmium.SimpleWriter(str(path))
    nodes = {1: (114.300, 30.560), 2: (114.305, 30.560), 3: (114.310, 30.560), 4: (114.305, 30.565)}
    nodes |= {5: (114.302, 30.555), 6: (114.302, 30.565), 7: (114.3021, 30.5651)}
    for ref, location in nodes.items():
        writer.add_node(osmium.osm.mutable.Node(id=ref, location=location))
    ways = [
        (10, [1, 2, 3], {"highway": "residential", "name": "中山路"}),
        (11, [2, 4], {"highway": "footway"}),
        (12, [5, 6], {"highway": "motorway", "bridge": "yes"}),
        (13, [6, 7], {"waterway": "stream"}),  # not a highway: left out
    ]
    for ref, refs, tags in ways:
        writer.add_way(osmium.osm.mutable.Way(id=ref, nodes=refs, tags=tags))
    writer.close()


def test_an_openstreetmap_extract_imports_its_highways(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "district.osm.pbf"
    _osm(path)
    report = import_file(store, "roads", path)
    assert report.format == "osm"
    got = store.read("roads").set_index("code")
    assert list(got.index) == ["osm10", "osm11", "osm12"]
    assert got.loc["osm10", "name"] == "中山路"
    assert got["kind"].tolist() == ["residential", "footway", "motorway"]
    assert got["walkable"].tolist() == [True, True, False]
    assert got.geometry["osm10"].equals(
        shapely.LineString([(114.300, 30.560), (114.305, 30.560), (114.310, 30.560)])
    )


def test_an_openstreetmap_extract_is_only_roads(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "district.osm.pbf"
    _osm(path)
    with pytest.raises(ValidationError, match="imports as roads"):
        import_file(store, "streets", path)

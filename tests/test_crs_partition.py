"""A district partitioned exactly in GCJ-02 stays partitioned once imported: transformations add no faults.

Amap draws a street with long straight edges; its communities split those
edges, and the grids split the communities' edges again. Moving only the
vertices from GCJ-02 to WGS84 (and on to the metric CRS) would put a child's
vertex centimetres off its parent's transformed edge, and validation would
report gaps and "outside" pieces of tens of m² that are not in the data.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.crs import DENSIFY_DEG, from_wgs84, geoms_from_wgs84, geoms_to_wgs84, metric_crs
from gridmap.frames import WGS84
from gridmap.stores import open_store
from gridmap.topology import check_grids

runner = CliRunner()
X0, Y0, X1, Y1 = 114.30, 30.52, 114.36, 30.57  # about 5.8 km by 5.5 km in Wuchang
STREET = shapely.Polygon([(X0, Y0), (X1, Y0 + 0.01), (X1, Y1), (X0, Y1)])  # a long slanted south edge
SPLITS = [X0, 114.318, 114.341, X1]


def partition() -> dict[str, gpd.GeoDataFrame]:
    """One street, three communities splitting it, six grids in each: an exact partition in GCJ-02.

    Codes of their own: the session's PostGIS store keeps every earlier test's boundaries in its history.
    """
    communities = [STREET.intersection(shapely.box(a, 30.0, b, 31.0)) for a, b in itertools.pairwise(SPLITS)]
    grid_rows = []
    for ci, community in enumerate(communities):
        x0, y0, x1, y1 = community.bounds
        ys = np.linspace(y0, y1, 4)
        middle = (x0 + x1) / 2
        for j in range(3):
            for k, (a, b) in enumerate(((x0 - 1, middle), (middle, x1 + 1))):
                piece = community.intersection(shapely.box(a, ys[j], b, ys[j + 1]))
                if not piece.is_empty:
                    grid_rows.append((f"GCJ-G{ci}{j}{k}", f"GCJ-C{ci}", piece))
    return {
        "streets": gpd.GeoDataFrame({"code": ["GCJ-S1"], "name": ["紫阳街道"]}, geometry=[STREET], crs=WGS84),
        "communities": gpd.GeoDataFrame(
            {
                "code": ["GCJ-C0", "GCJ-C1", "GCJ-C2"],
                "name": ["甲", "乙", "丙"],
                "street_code": ["GCJ-S1"] * 3,
            },
            geometry=communities,
            crs=WGS84,
        ),
        "grids": gpd.GeoDataFrame(
            {
                "code": [r[0] for r in grid_rows],
                "name": [r[0] for r in grid_rows],
                "community_code": [r[1] for r in grid_rows],
            },
            geometry=[r[2] for r in grid_rows],
            crs=WGS84,
        ),
    }


def _import(store_url: str, folder: Path, frames: dict[str, gpd.GeoDataFrame]) -> None:
    for layer in ("streets", "communities", "grids"):
        path = folder / f"{layer}.geojson"
        frames[layer].to_file(path)
        done = runner.invoke(
            app, ["import", layer, str(path), "--crs", "gcj02", "--store", store_url, "--yes"]
        )
        assert done.exit_code == 0, done.output


def test_exact_gcj02_partition_validates_clean(tmp_path: Path, store_url: str) -> None:
    _import(store_url, tmp_path, partition())
    done = runner.invoke(app, ["validate", "--store", store_url, "--out", str(tmp_path / "f.geojson")])
    assert done.exit_code == 0, done.output
    with open_store(store_url) as store:
        findings = check_grids(store.read("grids"), store.read("communities"))
    assert not set(findings["kind"]) & {"gap", "overlap", "outside"}, findings[["kind", "codes", "area_m2"]]


def test_a_planted_one_metre_gap_is_still_found(tmp_path: Path, store_url: str) -> None:
    frames = partition()
    grids = frames["grids"]
    first = grids.geometry.iloc[0]
    x0, y0, x1, y1 = first.bounds
    # 1.04e-5 degrees of longitude is 1.0 m at 30.5° N: the grid's east edge pulled back by a metre.
    grids.loc[0, "geometry"] = first.intersection(shapely.box(x0 - 1, y0 - 1, x1 - 1.04e-5, y1 + 1))
    strip = gpd.GeoSeries([first.difference(grids.geometry.iloc[0])], crs=WGS84)
    planted_m2 = float(strip.to_crs(metric_crs(strip)).area.iloc[0])
    _import(store_url, tmp_path, frames)
    with open_store(store_url) as store:
        findings = check_grids(store.read("grids"), store.read("communities"))
    gaps = findings[findings["kind"] == "gap"]
    assert gaps["codes"].tolist() == ["GCJ-C0"]
    assert planted_m2 > 1000  # 1 m wide, as long as the grid's east edge
    assert gaps["area_m2"].iloc[0] == pytest.approx(planted_m2, rel=0.01)
    assert not set(findings["kind"]) & {"overlap", "outside"}


def test_vertex_by_vertex_would_have_broken_it() -> None:
    """The fault the densified transform removes: a child vertex off its parent's transformed edge."""
    a, b = shapely.get_coordinates(STREET)[:2]  # the 5.8 km slanted south edge
    middle = (a + b) / 2
    straight = shapely.LineString(np.column_stack(from_wgs84(*np.array([a, b]).T, "gcj02")))
    on_it = shapely.Point(*from_wgs84(middle[0], middle[1], "gcj02"))
    assert straight.distance(on_it) * 111_000 > 0.005  # the chord misses the point by centimetres
    edge = geoms_from_wgs84(np.array([shapely.LineString([a, b])], dtype=object), "gcj02")[0]
    assert edge.distance(on_it) * 111_000 < 0.002  # the densified image passes within 2 mm


def test_densified_transform_keeps_few_vertices_and_round_trips() -> None:
    street = np.array([STREET], dtype=object)
    there = geoms_from_wgs84(street, "gcj02")
    back = geoms_to_wgs84(there, "gcj02")
    vertices = shapely.get_num_coordinates(there)[0]
    dense = shapely.get_num_coordinates(shapely.segmentize(street, DENSIFY_DEG))[0]
    assert shapely.get_num_coordinates(street)[0] < vertices < dense / 2
    assert shapely.hausdorff_distance(back[0], STREET) < 2e-8  # about 2 mm

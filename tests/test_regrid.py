"""`grid_changes` across a moved boundary, a split and a merge, on both stores."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from gridmap.regrid import grid_changes
from gridmap.stores import Store
from tests.api.conftest import district


def _grids(
    rows: list[tuple[str, str, tuple[float, float, float, float]]], valid_from: str
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [f"网格{r[0]}" for r in rows],
            "community_code": [r[1] for r in rows],
            "valid_from": [valid_from] * len(rows),
        },
        geometry=[box(*r[2]) for r in rows],
        crs=4326,
    )


def _changed(store: Store, start: str, end: str) -> dict[str, list[tuple[str, str, str]]]:
    found = grid_changes(store, start, end)
    return {
        layer: sorted(zip(frame["code"], frame["grid_from"], frame["grid_to"], strict=True))
        for layer, frame in found.items()
    }


def test_buildings_and_households_that_changed_grid(store: Store) -> None:
    store.replace_many(district())
    extra = gpd.GeoDataFrame(
        {"code": ["H3"], "building_code": ["B2"]}, geometry=[Point(114.3045, 30.5149)], crs=4326
    )
    store.upsert("households", extra)
    g3 = ("G3", "C2", (114.31, 30.50, 114.32, 30.52))
    # 2030: the G1/G2 edge moves north from 30.51 to 30.5148 (B2 now lies mostly in G1)
    store.replace(
        "grids",
        _grids(
            [("G1", "C1", (114.30, 30.50, 114.31, 30.5148)), ("G2", "C1", (114.30, 30.5148, 114.31, 30.52))],
            "2030-01-01",
        ).pipe(lambda moved: pd.concat([moved, _grids([g3], "2020-01-01")], ignore_index=True)),
    )
    # 2031: G3 is split into G3A (west) and G3B (east)
    split = _grids(
        [("G3A", "C2", (114.31, 30.50, 114.315, 30.52)), ("G3B", "C2", (114.315, 30.50, 114.32, 30.52))],
        "2031-01-01",
    )
    store.replace("grids", pd.concat([store.read("grids").query("code != 'G3'"), split], ignore_index=True))
    # 2032: G1 and G2 are merged into G12
    merged = _grids([("G12", "C1", (114.30, 30.50, 114.31, 30.52))], "2032-01-01")
    store.replace(
        "grids", pd.concat([store.read("grids").query("code not in ('G1', 'G2')"), merged], ignore_index=True)
    )

    assert _changed(store, "2029-06-01", "2030-06-01") == {
        "buildings": [("B2", "G2", "G1")],
        "households": [("H3", "G2", "G1")],
    }
    assert _changed(store, "2030-06-01", "2031-06-01") == {
        "buildings": [("B3", "G3", "G3A"), ("B4", "G3", "G3B")],
        "households": [("H2", "G3", "G3A")],
    }
    assert _changed(store, "2031-06-01", "2032-06-01") == {
        "buildings": [("B1", "G1", "G12"), ("B2", "G1", "G12")],
        "households": [("H1", "G1", "G12"), ("H3", "G1", "G12")],
    }
    assert _changed(store, "2032-06-01", "2033-01-01") == {"buildings": [], "households": []}

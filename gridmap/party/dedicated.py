"""专属网格: the dedicated grids of the organisations in force, as polygons for the maps.

A dedicated grid is kept as WKT beside its organisation (`party_orgs.area_wkt`),
not in the grids layer, so it may overlap base grids without being a topology
finding. The grid map and the console draw it apart from the base grids: a
dashed outline labelled with its organisation's name.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.party.vocabulary import DEDICATED

COLUMNS = ["code", "name", "kind", "community_code"]


def dedicated_grids(orgs: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The organisations of `orgs` serving a dedicated grid (code, name, kind, community_code) with
    their polygons (EPSG:4326); empty when there are none."""
    if orgs is None or not len(orgs) or "area_wkt" not in orgs:
        return gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry=[], crs="EPSG:4326")
    rows = orgs[(orgs["area_kind"] == DEDICATED) & orgs["area_wkt"].notna()]
    return gpd.GeoDataFrame(
        {
            "code": rows["code"].astype(str).to_numpy(),
            "name": rows["name"].astype(str).to_numpy(),
            "kind": rows["kind"].astype(str).to_numpy(),
            "community_code": rows["area_code"].astype(str).to_numpy(),
        },
        geometry=shapely.from_wkt(rows["area_wkt"].astype(str).to_numpy()),
        crs="EPSG:4326",
    )


def dedicated_within(orgs: pd.DataFrame | None, area: shapely.Geometry) -> gpd.GeoDataFrame:
    """The dedicated grids reaching into `area` (a grid's outline: the grid map draws those)."""
    found = dedicated_grids(orgs)
    return found[shapely.intersects(found.geometry.to_numpy(), area)]

"""OpenStreetMap extracts (.osm.pbf, .osm) read as the roads layer: every way tagged `highway`.

Ways keep OSM's own vertices, and OSM joins two ways by sharing a node, so
the walking network (`gridmap.walking`) joins roads exactly where OSM does:
a bridge over a road shares no node with it and stays no junction.
`code` is `osm` + the way id, `kind` the highway value, `walkable` false
where pedestrians may not go (motorways and trunk roads, `foot=no`, private
access, ways under construction).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

NOT_WALKABLE = frozenset(
    {"motorway", "motorway_link", "trunk", "trunk_link"}
    | {"construction", "proposed", "raceway", "bus_guideway"}
)
"""Highway values nobody walks along (`foot=yes` overrides)."""
_CLOSED = frozenset({"no", "private"})


def read_osm_roads(path: Path) -> gpd.GeoDataFrame:
    """The highways of an OSM extract as a roads frame (code, name, kind, walkable; EPSG:4326)."""
    import osmium  # only OSM imports need it

    codes: list[str] = []
    names: list[str | None] = []
    kinds: list[str] = []
    walkable: list[bool] = []
    coords: list[tuple[float, float]] = []
    sizes: list[int] = []
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        if not isinstance(way, osmium.osm.Way):
            continue
        points = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
        if len(points) < 2:
            continue
        tags = way.tags
        kind = tags.get("highway") or ""
        foot, access = tags.get("foot"), tags.get("access")
        codes.append(f"osm{way.id}")
        names.append(tags.get("name"))
        kinds.append(kind)
        walkable.append(foot == "yes" or not (kind in NOT_WALKABLE or foot in _CLOSED or access in _CLOSED))
        coords.extend(points)
        sizes.append(len(points))
    lines = (
        shapely.linestrings(np.asarray(coords), indices=np.repeat(np.arange(len(sizes)), sizes))
        if sizes
        else np.empty(0, dtype=object)
    )
    table = pd.DataFrame(
        {
            "code": pd.array(codes, dtype="string"),
            "name": pd.array(names, dtype="string"),
            "kind": pd.array(kinds, dtype="string"),
            "walkable": pd.array(walkable, dtype="boolean"),
        }
    )
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(lines, crs="EPSG:4326"), crs="EPSG:4326")

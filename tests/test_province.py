"""The synthetic province: sample districts inside real county boundaries, written as county partitions."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from gridmap.distributed.partitions import read_counties, read_county
from gridmap.sample.province import county_boundaries, write_province


def test_county_boundaries_are_real_and_in_wgs84() -> None:
    hubei = county_boundaries("42")
    assert len(hubei) == 103
    wuchang = hubei.set_index("code").loc["420106"]
    assert wuchang["name"] == "武昌区"
    # 武昌区 holds Wuhan University (114.365 E, 30.540 N, WGS84) and not Hankou's 江汉路 (114.287, 30.580).
    assert wuchang.geometry.contains(shapely.Point(114.365, 30.540))
    assert not wuchang.geometry.contains(shapely.Point(114.287, 30.580))


def test_province_counties_lie_inside_their_real_boundaries(tmp_path: Path) -> None:
    written = write_province(tmp_path, counties=2, scale=1)
    assert [c.code for c in written] == read_counties(tmp_path) == ["420325", "421321"]  # 房县, 随县: largest
    boundaries = county_boundaries("42").set_index("code")
    for county in written:
        frames = read_county(tmp_path, county.code)
        assert len(frames["grids"]) == county.grids == 61
        assert len(frames["households"]) == county.households > 20_000
        assert frames["households"]["code"].str.startswith(county.code).all()
        boundary = boundaries.loc[county.code].geometry
        assert gpd.GeoSeries(frames["grids"].geometry).within(boundary).all()

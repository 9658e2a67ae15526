"""Households handed to `Store.replace_chunks` and `Store.upsert_chunks` in chunks, and the edit both
tests write over a populated layer."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import shapely

from gridmap.frames import WGS84, conform


def households(codes: list[str], address: str = "和平路1号") -> gpd.GeoDataFrame:
    """Households `codes` (H + a number, which sets the point's longitude) at `address`."""
    n = len(codes)
    return conform(
        "households",
        gpd.GeoDataFrame(
            {"code": codes, "address": [address] * n, "size": list(range(1, n + 1))},
            geometry=shapely.points([116.3 + int(c[1:]) * 1e-4 for c in codes], [39.9] * n),
            crs=WGS84,
        ),
    )


def chunks(frame: gpd.GeoDataFrame, size: int) -> Iterator[gpd.GeoDataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def edited(start: gpd.GeoDataFrame, codes: list[str]) -> gpd.GeoDataFrame:
    """Households `codes` written over `start` (H000-H009): H002-H004 as they were, H005-H009 moved
    on to another address, the codes past H009 new."""
    rows = households(codes)
    rows.loc[rows["code"] >= "H005", "address"] = "幸福路2号"
    rows.loc[rows["code"] < "H005", ["address", "size"]] = (
        start.set_index("code").loc[["H002", "H003", "H004"], ["address", "size"]].to_numpy()
    )
    return rows

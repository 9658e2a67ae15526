"""The city-scale workload every benchmark shares.

The sample generator keeps urban grids at 300–500 households, so its scale 20
gives the 1,220 grids of the benchmarks but only about 500,000 households; the
issues' 1,000,000 households, 8,000 speakers and 2,000 service points are
reached by adding copies of random households (same building and point, new
code) and sites at random building points.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.frames import conform
from gridmap.sample import generate, plan
from gridmap.stores import open_store


def densify(households: gpd.GeoDataFrame, total: int, seed: int = 1) -> gpd.GeoDataFrame:
    """`households` plus copies of random ones (same building and point, new code) up to `total`."""
    extra = total - len(households)
    if extra <= 0:
        return households
    rng = np.random.default_rng(seed)
    copies = households.iloc[rng.integers(0, len(households), extra)].copy()
    copies["code"] = copies["code"] + pd.Series(np.arange(extra), index=copies.index).map("+{}".format)
    return pd.concat([households, copies], ignore_index=True)


def top_up_sites(
    frames: dict[str, gpd.GeoDataFrame], speakers: int, service_points: int, seed: int = 3
) -> None:
    """Add speakers and service points at random building points until the counts are reached."""
    rng = np.random.default_rng(seed)
    spots = shapely.point_on_surface(np.asarray(frames["buildings"].geometry.values, dtype=object))
    for layer, total in (("speakers", speakers), ("service_points", service_points)):
        have = frames[layer]
        extra = total - len(have)
        if extra <= 0:
            continue
        where = spots[rng.integers(0, len(spots), extra)]
        jitter = rng.normal(0, 0.0003, (extra, 2))
        points = shapely.points(shapely.get_x(where) + jitter[:, 0], shapely.get_y(where) + jitter[:, 1])
        columns: dict[str, object] = {"code": [f"{layer[:2].upper()}X{i:06d}" for i in range(extra)]}
        if layer == "speakers":
            columns["status"] = np.where(rng.random(extra) < 0.05, "broken", "working")
            acoustic = rng.random(extra) < 0.2
            columns["power_w"] = np.where(acoustic, rng.choice([10.0, 25.0, 50.0], extra), np.nan)
            columns["sensitivity_db"] = np.where(acoustic, rng.choice([100.0, 105.0, 110.0], extra), np.nan)
        else:
            columns["radius_m"] = rng.choice([300.0, 500.0, 800.0], extra)
        added = conform(layer, gpd.GeoDataFrame(columns, geometry=points, crs=4326))
        frames[layer] = pd.concat([have, added], ignore_index=True)


def city(scale: int, households: int, speakers: int, service_points: int) -> dict[str, gpd.GeoDataFrame]:
    """The sample generated at `scale`, topped up to the given numbers of households and sites."""
    frames = generate(scale=scale)
    frames["households"] = densify(frames["households"], households)
    top_up_sites(frames, speakers, service_points)
    return frames


def city_store(scale: int, path: Path) -> Path:
    """A GeoPackage store at `path` holding `gridmap.sample.plan(scale)` (every household a real sample
    household, no copies; scale 200: 5,023,863), written once and reused."""
    if not path.exists():
        district = plan(scale)
        frames = dict(district.layers)
        step = 500_000
        chunks = [district.households(slice(i, i + step)) for i in range(0, district.household_count, step)]
        frames["households"] = pd.concat(chunks, ignore_index=True)
        with open_store(str(path)) as store:
            store.replace_many(frames)
    return path

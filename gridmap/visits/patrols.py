"""Patrols (巡查) against a store: record one (idempotent on its key), import a GPX file, a week's figures.

A patrol belongs to one worker, one grid and one Beijing day; it is measured
against its grid when recorded (`gridmap.visits.tracks.inside_grids`), so the
figures of a period are a GROUP BY, and the share of the grid's roads walked
in a week is measured from the week's tracks (`roads_walked`). Tracks are
personal data: `gridmap.privacy.may_see_track` says who reads one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from gridmap.crs import metric_crs
from gridmap.errors import NotFoundError, Problem, ValidationError
from gridmap.frames import WGS84
from gridmap.localtime import BEIJING
from gridmap.stores import Store
from gridmap.stores.visits import PATROL_COLUMNS
from gridmap.texts import Message
from gridmap.visits.gpx import read_gpx
from gridmap.visits.sample import DEFAULT_SEED, sample_patrols
from gridmap.visits.tracks import WALKED_BUFFER_M, Track, inside_grids, metric_area, roads_walked

SOURCES = ("phone", "gpx", "seed")


@dataclass(frozen=True)
class Patrol:
    """One patrol as recorded; `key` is the idempotency key (a retry sends the same)."""

    key: str
    worker: str
    grid_code: str
    started_at: dt.datetime
    track: Track
    source: str = "phone"


def record_patrol(
    store: Store, patrol: Patrol, now: dt.datetime | None = None
) -> tuple[dict[str, Any], bool]:
    """Record `patrol` once, measured against its grid: (the stored patrol, whether this call wrote it)."""
    problems = []
    if not patrol.key.strip():
        problems.append(Problem(None, "key", Message("visit.key_required")))
    if not patrol.worker.strip():
        problems.append(Problem(None, "worker", Message("visit.worker_required")))
    if patrol.started_at.tzinfo is None:
        problems.append(Problem(None, "started_at", Message("visit.timezone")))
    if patrol.source not in SOURCES:
        problems.append(Problem(None, "source", Message("visit.one_of", choices=", ".join(SOURCES))))
    if problems:
        raise ValidationError(Message("visit.source.patrol"), problems)
    book = store.visit_book()
    known = book.patrol_by_key(patrol.key)
    if known is not None:
        return known, False
    grids = store.read("grids", codes=[patrol.grid_code])
    if not len(grids):
        raise NotFoundError(Message("case.no_grid", grid=repr(patrol.grid_code)))
    return book.log_patrol(measured(patrol, grids.geometry.iloc[0], now or dt.datetime.now(dt.UTC)))


def measured(
    patrol: Patrol,
    grid: shapely.Geometry,
    recorded_at: dt.datetime,
    metric: pyproj.CRS | None = None,
    area: shapely.Geometry | None = None,
) -> dict[str, Any]:
    """The stored row of a patrol: its figures inside `grid` (lon/lat; `area`, its metric copy in
    `metric`, when known), its track encoded."""
    metric = metric or metric_crs(gpd.GeoSeries([grid], crs=WGS84))
    inside = area if area is not None else metric_area(grid, metric)
    return measured_many([patrol], np.array([inside], dtype=object), recorded_at, metric)[0]


def measured_many(
    patrols: list[Patrol], areas: npt.NDArray[np.object_], recorded_at: dt.datetime, metric: pyproj.CRS
) -> list[dict[str, Any]]:
    """The stored rows of many patrols, each measured against its grid's metric area (`areas[i]`),
    in one pass over all their legs (`inside_grids`)."""
    tracks = [p.track for p in patrols]
    length, inside_m, inside_s = inside_grids(tracks, areas, metric)
    lines = shapely.to_wkb(np.array([t.line() for t in tracks], dtype=object), hex=True)
    rows = []
    for i, patrol in enumerate(patrols):
        started = patrol.started_at.astimezone(dt.UTC)
        rows.append(
            {
                "key": patrol.key,
                "worker": patrol.worker,
                "grid_code": patrol.grid_code,
                "day": started.astimezone(BEIJING).date(),
                "started_at": started,
                "ended_at": started + dt.timedelta(seconds=float(patrol.track.seconds[-1])),
                "source": patrol.source,
                "points": len(patrol.track),
                "length_m": round(float(length[i]), 2),
                "inside_m": round(float(inside_m[i]), 2),
                "inside_s": round(float(inside_s[i]), 1),
                "track": str(lines[i]),
                "seconds": ",".join(f"{s:g}" for s in np.round(patrol.track.seconds, 1)),
                "recorded_at": recorded_at,
            }
        )
    return rows


def stored_track(row: dict[str, Any]) -> Track:
    """The `Track` of a stored patrol row (read with `tracks=True`)."""
    coords = shapely.get_coordinates(shapely.from_wkb(row["track"]))
    seconds = np.array([float(s) for s in str(row["seconds"]).split(",")], dtype=np.float64)
    return Track(coords[:, 0].copy(), coords[:, 1].copy(), seconds)


def import_gpx(
    store: Store, path: Path, worker: str, grid: str | None = None, now: dt.datetime | None = None
) -> tuple[dict[str, Any], bool]:
    """Record the GPX file's track as `worker`'s patrol of `grid` (default: the grid `worker` works).

    The key is the file's digest and the worker's name, so importing one file twice records it once.
    """
    track, started = read_gpx(path)
    code = grid or worker_grid(store, worker)
    digest = hashlib.sha256(path.read_bytes() + worker.encode()).hexdigest()[:32]
    patrol = Patrol(f"gpx-{digest}", worker, code, started, track, source="gpx")
    return record_patrol(store, patrol, now)


def worker_grid(store: Store, worker: str) -> str:
    """The one grid whose `worker_name` is `worker`; a ValidationError when none or several are."""
    grids = store.read_columns("grids", ["code", "worker_name"])
    found = grids.loc[(grids["worker_name"].astype("string") == worker).fillna(False).to_numpy(bool), "code"]
    if len(found) != 1:
        reason = Message("visit.many_grids", worker=repr(worker), n=len(found))
        raise ValidationError(Message("visit.source.patrol"), [Problem(None, "grid", reason)])
    return str(found.iloc[0])


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The Monday and Sunday of `day`'s week."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


WEEK_COLUMNS = (
    "grid_code",
    "patrols",
    "days",
    "inside_km",
    "inside_minutes",
    "road_km",
    "walked_km",
    "road_share",
)


def week_stats(store: Store, day: dt.date, grids: list[str] | None = None) -> pd.DataFrame:
    """Per grid, the week of `day`: patrols, days patrolled, km and minutes inside, and the share of
    the grid's roads walked (None without roads). Every asked grid has a row, patrolled or not."""
    monday, sunday = week_of(day)
    book = store.visit_book()
    shapes = store.read("grids", codes=grids) if grids is not None else store.read("grids")
    if grids is not None and len(shapes) < len(set(grids)):
        missing = sorted(set(grids) - set(shapes["code"].astype(str)))
        raise NotFoundError(Message("case.no_grid", grid=repr(missing[0])))
    rows = book.patrols(grids=grids, since=monday, until=sunday, tracks=True)
    patrols = pd.DataFrame(rows, columns=["grid_code", "day", "inside_m", "inside_s", "track", "seconds"])
    roads = store.read("roads", bbox=tuple(shapes.total_bounds)) if len(shapes) else None
    metric = metric_crs(shapes) if len(shapes) else None
    out = []
    for code, shape in zip(shapes["code"].astype(str), shapes.geometry, strict=True):
        mine = patrols[patrols["grid_code"] == code]
        road_m = walked_m = 0.0
        if roads is not None and metric is not None and len(roads):
            tracks = [stored_track(r) for r in mine.to_dict("records")]
            near = roads.geometry[roads.intersects(shape)]
            road_m, walked_m = roads_walked(near, shape, tracks, metric, WALKED_BUFFER_M)
        out.append(
            {
                "grid_code": code,
                "patrols": len(mine),
                "days": mine["day"].nunique(),
                "inside_km": round(float(mine["inside_m"].sum()) / 1000, 3),
                "inside_minutes": round(float(mine["inside_s"].sum()) / 60, 1),
                "road_km": round(road_m / 1000, 3),
                "walked_km": round(walked_m / 1000, 3),
                "road_share": round(walked_m / road_m, 4) if road_m > 0 else None,
            }
        )
    return pd.DataFrame(out, columns=list(WEEK_COLUMNS))


def seed_patrols(store: Store, now: dt.datetime | None = None, seed: int = DEFAULT_SEED) -> int:
    """A year of patrols up to `now` by every grid's worker, replacing any the store held (the demo)."""
    grids = store.read("grids")
    roads = store.read("roads")
    when = now or dt.datetime.now(dt.UTC)
    metric = metric_crs(grids)
    areas: dict[str, shapely.Geometry] = {}
    patrols, theirs = [], []
    for key, worker, grid, started, track, shape in sample_patrols(grids, roads, when, seed):
        area = areas.get(grid)
        if area is None:
            area = areas[grid] = metric_area(shape, metric)
        patrols.append(Patrol(key, worker, grid, started, track, "seed"))
        theirs.append(area)
    rows = measured_many(patrols, np.array(theirs, dtype=object), when, metric)
    return store.visit_book().replace_patrols(pd.DataFrame(rows, columns=list(PATROL_COLUMNS)))

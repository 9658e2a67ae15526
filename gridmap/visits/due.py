"""A grid worker's visit list for a day: who is overdue, who falls due this week, in walking order.

A household's next visit is due `frequency_days` after its last one (Beijing
calendar days); one never visited is overdue. Overdue households come first,
then those due within `DUE_SOON_DAYS`; each part is ordered as a walk: a
nearest-neighbour tour along the roads' network distances where roads are
loaded (`gridmap.walking`), else the natural order of the addresses.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from gridmap.arrays import FloatArray, IntArray
from gridmap.coverage import metric_xy
from gridmap.crs import metric_crs
from gridmap.localtime import BEIJING
from gridmap.meeting import natural_key
from gridmap.visits.rules import DUE_SOON_DAYS, FREQUENCY_DAYS, ORDINARY
from gridmap.walking import Network, NetworkCache, snap

OVERDUE = "overdue"
DUE_SOON = "due_soon"

COLUMNS = (
    "order",
    "status",
    "code",
    "address",
    "grid_code",
    "categories",
    "frequency_days",
    "last_visit",
    "due_on",
    "days_overdue",
)


def day_end(on: dt.date) -> dt.datetime:
    """The first instant after Beijing's day `on` (visits before it count for that day), in UTC."""
    return dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), BEIJING).astimezone(dt.UTC)


def schedule(households: pd.DataFrame, care: pd.DataFrame, last: pd.Series, on: dt.date) -> pd.DataFrame:
    """Every household's categories, frequency, last visit (Beijing date), next due date and days late.

    `care` is the register (household_code, category); `last` maps household codes to their last
    visit (aware). `due_on` is empty for a household never visited (it is late from the start);
    `days_overdue` is negative for a visit still ahead. Vectorised: no Python loop per household.
    """
    codes = households["code"].astype(str)
    out = pd.DataFrame({"code": codes.to_numpy()}, index=households.index)
    days = pd.Series(FREQUENCY_DAYS, dtype="int64")
    if len(care):
        register = care.assign(days=care["category"].map(days).fillna(FREQUENCY_DAYS[ORDINARY]))
        ordered = register.sort_values(["household_code", "category"])
        alone = ~ordered["household_code"].duplicated(keep=False).to_numpy(dtype=bool)
        # Most households have one category: only those with several are joined in Python.
        several = ordered[~alone].groupby("household_code")["category"].agg(",".join)
        joined = pd.concat([ordered[alone].set_index("household_code")["category"], several])
        fewest = register.groupby("household_code")["days"].min()
        out["categories"] = codes.map(joined).fillna("").to_numpy()
        out["frequency_days"] = codes.map(fewest).fillna(FREQUENCY_DAYS[ORDINARY]).astype("int64").to_numpy()
    else:
        out["categories"] = ""
        out["frequency_days"] = FREQUENCY_DAYS[ORDINARY]
    when = codes.map(last) if len(last) else pd.Series(pd.NaT, index=codes.index)
    local = pd.to_datetime(when, utc=True).dt.tz_convert(BEIJING).dt.normalize().dt.tz_localize(None)
    due = local + pd.to_timedelta(out["frequency_days"], unit="D")
    out["last_visit"] = _dates(local)
    out["due_on"] = _dates(due)
    today = pd.Timestamp(on)
    late = (today - due).dt.days
    out["days_overdue"] = late.astype("Int64").to_numpy()
    return out


def _dates(times: pd.Series) -> npt.NDArray[np.object_]:
    """Dates (None where missing) of naive timestamps."""
    return np.asarray(times.dt.date.astype(object).where(times.notna(), None), dtype=object)


def due_list(
    households: gpd.GeoDataFrame,
    care: pd.DataFrame,
    last: pd.Series,
    on: dt.date,
    roads: gpd.GeoDataFrame | None = None,
    *,
    networks: NetworkCache | None = None,
) -> gpd.GeoDataFrame:
    """The households to visit on `on`: overdue first, then due within a week, each part in walking order.

    Columns are `COLUMNS` and the households' points; `order` numbers the whole list from 1.
    """
    table = schedule(households, care, last, on)
    table["address"] = households["address"].astype("string").fillna("").to_numpy()
    table["grid_code"] = households["grid_code"].astype("string").to_numpy()
    late = table["days_overdue"]
    overdue = (late.isna() | (late > 0)).to_numpy(dtype=bool)
    soon = (~overdue) & (late >= -DUE_SOON_DAYS).fillna(False).to_numpy(dtype=bool)
    network = _network(households, roads, networks)
    parts, positions = [], []
    for status, mask in ((OVERDUE, overdue), (DUE_SOON, soon)):
        rows = np.flatnonzero(mask)
        order = walking_order(households.iloc[rows], network)
        positions.append(rows[order])
        parts.append(table.iloc[rows[order]].assign(status=status))
    result = pd.concat(parts, ignore_index=True)
    result["order"] = np.arange(1, len(result) + 1)
    points = np.asarray(households.geometry.values, dtype=object)[np.concatenate(positions)]
    return gpd.GeoDataFrame(result[list(COLUMNS)], geometry=list(points), crs=households.crs)


def _network(
    households: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None, networks: NetworkCache | None
) -> Network | None:
    if roads is None or not len(roads) or not len(households) or households.crs is None:
        return None
    crs = metric_crs(households)
    network = (networks or NetworkCache()).network_of(roads, crs)
    return network if network.segments else None


def walking_order(households: gpd.GeoDataFrame, network: Network | None) -> IntArray:
    """Positions of `households` in visiting order.

    With a network: start at the first address in natural order and go on to the nearest household
    not yet visited on foot; households off the network follow in address order. Without one:
    natural address order.
    """
    n = len(households)
    by_address = np.array(
        sorted(range(n), key=lambda i: (natural_key(str(households["address"].iloc[i] or "")), i)),
        dtype=np.intp,
    )
    if network is None or n < 3:
        return by_address
    points = snap(network, metric_xy(households, network.crs))
    on_net = points.segment >= 0
    placed = by_address[on_net[by_address]]
    if len(placed) < 3:
        return by_address
    metres = _pair_metres(network, points.segment[placed], points.along[placed], points.leg[placed])
    tour = _nearest_neighbour(metres)
    return np.concatenate([placed[tour], by_address[~on_net[by_address]]])


def _pair_metres(network: Network, segment: IntArray, along: FloatArray, leg: FloatArray) -> FloatArray:
    """Walking metres between every two snapped points (k × k): via the segments' end nodes, or
    along a shared segment directly."""
    u, v = network.u[segment], network.v[segment]
    ends = np.unique(np.concatenate([u, v]))
    node = dijkstra(network.graph, directed=False, indices=ends)  # ends × nodes
    row = {int(e): i for i, e in enumerate(ends)}
    du = node[[row[int(x)] for x in u]]  # from each point's u-node to every node
    dv = node[[row[int(x)] for x in v]]
    to_u = along
    to_v = network.length[segment] - along
    # From point i out by its u or v end, to point j in by its u or v end.
    best = np.full((len(segment), len(segment)), np.inf)
    for out_d, out_nodes in ((to_u, du), (to_v, dv)):
        for in_d, in_node in ((to_u, u), (to_v, v)):
            best = np.minimum(best, out_d[:, None] + out_nodes[:, in_node] + in_d[None, :])
    same = segment[:, None] == segment[None, :]
    direct = np.abs(along[:, None] - along[None, :])
    best = np.where(same, np.minimum(best, direct), best)
    total = leg[:, None] + best + leg[None, :]
    np.fill_diagonal(total, 0.0)
    return total


def _nearest_neighbour(metres: FloatArray) -> IntArray:
    """A tour from point 0, always to the nearest point not yet visited (ties: the earlier one)."""
    n = len(metres)
    seen = np.zeros(n, dtype=bool)
    tour = np.empty(n, dtype=np.intp)
    at = 0
    for step in range(n):
        tour[step] = at
        seen[at] = True
        if step == n - 1:
            break
        left = np.where(seen, np.inf, metres[at])
        at = int(np.argmin(left)) if np.isfinite(left).any() else int(np.flatnonzero(~seen)[0])
    return tour


def visit_status(codes: pd.Series, care: pd.DataFrame, last: pd.Series, on: dt.date) -> gpd.GeoDataFrame:
    """Per household code: visited within its frequency on `on` (`in_time`), or `overdue` (the visit
    coverage measure's input, `gridmap.measures.visits`). A frame without geometry."""
    table = schedule(pd.DataFrame({"code": codes.astype(str).to_numpy()}), care, last, on)
    late = table["days_overdue"]
    overdue = (late.isna() | (late > 0)).to_numpy(dtype=bool)
    return gpd.GeoDataFrame({"code": table["code"].to_numpy(), "in_time": ~overdue, "overdue": overdue})

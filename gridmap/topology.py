"""Grid topology validation: 全覆盖、无缝隙、不交叉.

The grids of a community must cover it without gaps or overlaps and stay
inside it. `check_grids` reports every place where they do not, each finding
with the codes involved, its area in m² (computed in the metric CRS chosen by
`gridmap.crs.metric_crs`), a location and the offending geometry, so a grid
administrator can go straight to the spot.

Everything runs on whole arrays (shapely 2 STRtree and vectorised set
operations); only the per-community union loops over communities.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from gridmap.arrays import IntArray
from gridmap.crs import metric_crs, to_metric
from gridmap.errors import CRSError
from gridmap.frames import WGS84
from gridmap.vocabulary import FINDING_KINDS as KINDS

FindingKind = Literal[
    "overlap",
    "gap",
    "outside",
    "sliver",
    "invalid",
    "too_few_households",
    "too_many_households",
    "no_community",
]

FINDING_KINDS: tuple[str, ...] = tuple(KINDS)
"""Every kind, in the order findings are listed (errors first within each severity)."""

SEVERITY: dict[str, str] = {code: kind.severity for code, kind in KINDS.items()}

KIND_LABELS_ZH: dict[str, str] = {code: kind.zh for code, kind in KINDS.items()}
"""Chinese names of the kinds, from the one vocabulary (`gridmap.vocabulary`)."""

FINDING_COLUMNS: list[str] = [
    "kind",
    "severity",
    "codes",
    "community_code",
    "area_m2",
    "lon",
    "lat",
    "location",
    "message_zh",
    "message_en",
    "geometry",
]

GeomArray = npt.NDArray[np.object_]

_REASONS_ZH: dict[str, str] = {
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points in geometry component": "顶点过少",
    "Hole lies outside shell": "内环在外环之外",
    "Nested holes": "内环嵌套",
    "Interior is disconnected": "内部不连通",
    "Nested shells": "外环嵌套",
    "Duplicate Rings": "环重复",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
    "Empty geometry": "几何为空",
}
"""Chinese names of the GEOS validity problems (is_valid_reason), for people."""

_REASON_POINT = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)")


@dataclass(frozen=True)
class TopologyOptions:
    """Tolerances and ranges of the checks.

    Areas below the tolerances are digitising noise (two surveys of one shared
    edge never agree to the millimetre) and are not reported; so are hairlines,
    pieces whose mean width 2A/P is under `hairline_width_m` whatever their
    area (along a 5 km shared edge a 1 mm misfit is 5 m² but no real gap; a
    1 m wide gap is always reported). A grid part is a
    sliver when its area is below `sliver_area_m2` or its thinness 4πA/P²
    (1 for a circle, 0.785 for a square, about 0.03 for a 1 × 100 strip) is
    below `sliver_thinness`. Household ranges are inclusive; urban communities
    (`kind` community) use `urban_households`, villages `rural_households`.
    """

    overlap_tolerance_m2: float = 0.5
    gap_tolerance_m2: float = 0.5
    outside_tolerance_m2: float = 0.5
    hairline_width_m: float = 0.05
    sliver_area_m2: float = 50.0
    sliver_thinness: float = 0.03
    urban_households: tuple[int, int] = (300, 500)
    rural_households: tuple[int, int] = (0, 300)


def check_grids(
    grids: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    household_counts: pd.Series | None = None,
    options: TopologyOptions | None = None,
    *,
    metric: pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """Topology findings for `grids` against their `communities` (EPSG:4326 frame).

    `household_counts` maps grid code to its number of households; without
    it the household range is not checked. Areas and widths are measured in
    `metric` (by default the CRS chosen from the communities' extent).
    Columns: see `FINDING_COLUMNS`.
    """
    opts = options or TopologyOptions()
    for name, frame in (("grids", grids), ("communities", communities)):
        if frame.crs is None:
            raise CRSError(f"{name}: frame has no CRS")
    grids = grids.to_crs(WGS84).reset_index(drop=True)
    communities = communities.to_crs(WGS84).reset_index(drop=True)
    metric = metric or metric_crs(communities if len(communities) else grids)

    g_code = grids["code"].astype(str).to_numpy()
    g_comm = grids["community_code"].astype("string").fillna("").to_numpy(dtype=object)
    c_code = communities["code"].astype(str).to_numpy()
    g_geom = _metric_polygons(grids.geometry, metric)
    c_geom = _metric_polygons(communities.geometry, metric)
    c_pos = pd.Index(c_code).get_indexer(g_comm)  # community row of each grid, -1 if unknown

    metric_findings = [
        _overlaps(g_code, g_comm, g_geom, opts.overlap_tolerance_m2, opts.hairline_width_m),
        _gaps(c_code, c_geom, c_pos, g_geom, opts.gap_tolerance_m2, opts.hairline_width_m),
        _outside(g_code, g_comm, g_geom, c_geom, c_pos, opts.outside_tolerance_m2, opts.hairline_width_m),
        _slivers(g_code, g_comm, g_geom, opts),
        _no_community(g_code, g_comm, g_geom, c_pos),
    ]
    if household_counts is not None:
        kinds = communities["kind"].astype("string").fillna("community").to_numpy(dtype=object)
        metric_findings.append(
            _household_counts(g_code, g_comm, g_geom, c_pos, kinds, household_counts, opts)
        )
    located = _locate(_concat(metric_findings), metric)
    invalid = _concat(
        [
            _invalid(grids, g_geom, g_comm, "grid"),
            _invalid(communities, c_geom, c_code.astype(object), "community"),
        ]
    )
    return _finish(_concat([located, invalid]))


# --- geometry helpers --------------------------------------------------------


def _metric_polygons(geoms: gpd.GeoSeries, metric: Any) -> GeomArray:
    """Valid polygons in the metric CRS, long edges following their curved image (`gridmap.crs.to_metric`).

    Repaired before densifying (an added vertex can land on a bowtie's
    crossing and change what the repair makes of it) and again after, so set
    operations never fail on a projection's rounding.
    """
    repaired = gpd.GeoSeries(_valid_polygons(np.asarray(geoms.values, dtype=object)), crs=geoms.crs)
    return _valid_polygons(to_metric(repaired, metric))


def _valid_polygons(geoms: GeomArray) -> GeomArray:
    """Valid, purely polygonal versions of `geoms` (empty where missing), so set operations never fail."""
    geoms = np.where(shapely.is_missing(geoms), shapely.from_wkt("MULTIPOLYGON EMPTY"), geoms)
    fixed = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    return _polygonal(fixed)


def _polygonal(geoms: GeomArray) -> GeomArray:
    """Keep only the polygon parts of each geometry (intersections also yield lines and points)."""
    parts, owner = _flat_parts(geoms)
    keep = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    return _regroup(parts[keep], owner[keep], len(geoms))


def _flat_parts(geoms: GeomArray) -> tuple[GeomArray, IntArray]:
    """Single-part geometries of `geoms`, and the position of the geometry each came from."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    nested = shapely.get_type_id(parts) >= shapely.GeometryType.MULTIPOINT
    while nested.any():
        inner, inner_owner = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][inner_owner]])
        nested = shapely.get_type_id(parts) >= shapely.GeometryType.MULTIPOINT
    return parts, owner


def _regroup(parts: GeomArray, owner: IntArray, n: int) -> GeomArray:
    """One MultiPolygon per owner 0..n-1 from polygon `parts` (empty where an owner has none)."""
    out = np.array([shapely.from_wkt("MULTIPOLYGON EMPTY")] * n, dtype=object)
    if len(parts):
        order = np.argsort(owner, kind="stable")
        shapely.multipolygons(parts[order], indices=owner[order], out=out)
    return out


def _significant_parts(
    geoms: GeomArray, tolerance_m2: float, hairline_m: float
) -> tuple[GeomArray, IntArray]:
    """Polygon parts of `geoms` larger than `tolerance_m2` and no hairline, with their owner positions.

    A part's mean width is 2A/P (exact for a long strip, less for a wedge):
    narrower than `hairline_m`, it is a misfit of coordinates, not a gap or an overlap.
    """
    parts, owner = _flat_parts(geoms)
    area = shapely.area(parts)
    perimeter = shapely.length(parts)
    width = np.divide(2.0 * area, perimeter, out=np.zeros_like(area), where=perimeter > 0)
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (area > tolerance_m2)
    keep &= width >= hairline_m
    return parts[keep], owner[keep]


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate finding frames, skipping empty ones (their dtypes would blur the result)."""
    full = [df for df in frames if len(df)]
    return pd.concat(full, ignore_index=True) if full else pd.DataFrame({c: [] for c in FINDING_COLUMNS})


def _frame(kind: str, **columns: Any) -> pd.DataFrame:
    """Findings of one kind (geometry still metric, unlocated)."""
    df = pd.DataFrame({k: v for k, v in columns.items() if k != "geometry"})
    df.insert(0, "kind", kind)
    df["geometry"] = columns["geometry"]
    return df


# --- the checks ---------------------------------------------------------------


def _overlaps(
    code: npt.NDArray[Any], comm: GeomArray, geom: GeomArray, tolerance_m2: float, hairline_m: float
) -> pd.DataFrame:
    """Each pair of grids of one community sharing more than the tolerance of area."""
    tree = shapely.STRtree(geom)
    left, right = tree.query(geom, predicate="intersects")
    pair = (left < right) & (comm[left] == comm[right]) & (comm[left] != "")
    left, right = left[pair], right[pair]
    parts, owner = _significant_parts(shapely.intersection(geom[left], geom[right]), tolerance_m2, hairline_m)
    hit, inverse = np.unique(owner, return_inverse=True)
    shapes = _regroup(parts, inverse.astype(np.intp), len(hit))
    a, b = code[left[hit]], code[right[hit]]
    area = shapely.area(shapes)
    return _frame(
        "overlap",
        codes=[f"{x},{y}" for x, y in zip(a, b, strict=True)],
        community_code=comm[left[hit]],
        area_m2=area,
        message_zh=[f"网格 {x} 与网格 {y} 重叠 {m:.1f} 平方米" for x, y, m in zip(a, b, area, strict=True)],
        message_en=[f"grids {x} and {y} overlap by {m:.1f} m²" for x, y, m in zip(a, b, area, strict=True)],
        geometry=shapes,
    )


def _gaps(
    c_code: npt.NDArray[Any],
    c_geom: GeomArray,
    c_pos: IntArray,
    g_geom: GeomArray,
    tolerance_m2: float,
    hairline_m: float,
) -> pd.DataFrame:
    """Each connected part of a community that none of its grids covers."""
    covered = np.array([shapely.from_wkt("POLYGON EMPTY")] * len(c_geom), dtype=object)
    order = np.argsort(c_pos, kind="stable")
    positions, starts = np.unique(c_pos[order], return_index=True)
    groups = np.split(order, starts[1:]) if len(order) else []
    for pos, rows in zip(positions, groups, strict=True):
        if pos >= 0:
            covered[pos] = shapely.union_all(g_geom[rows])
    parts, owner = _significant_parts(shapely.difference(c_geom, covered), tolerance_m2, hairline_m)
    comm = c_code[owner]
    area = shapely.area(parts)
    return _frame(
        "gap",
        codes=comm,
        community_code=comm,
        area_m2=area,
        message_zh=[f"社区 {c} 有 {m:.1f} 平方米未被任何网格覆盖" for c, m in zip(comm, area, strict=True)],
        message_en=[
            f"{m:.1f} m² of community {c} is covered by no grid" for c, m in zip(comm, area, strict=True)
        ],
        geometry=parts,
    )


def _outside(
    g_code: npt.NDArray[Any],
    g_comm: GeomArray,
    g_geom: GeomArray,
    c_geom: GeomArray,
    c_pos: IntArray,
    tolerance_m2: float,
    hairline_m: float,
) -> pd.DataFrame:
    """The part of each grid lying outside its own community."""
    known = np.flatnonzero(c_pos >= 0)
    beyond = shapely.difference(g_geom[known], c_geom[c_pos[known]])
    parts, owner = _significant_parts(beyond, tolerance_m2, hairline_m)
    hit, inverse = np.unique(owner, return_inverse=True)
    shapes = _regroup(parts, inverse.astype(np.intp), len(hit))
    rows = known[hit]
    area = shapely.area(shapes)
    named = list(zip(g_code[rows], g_comm[rows], area, strict=True))
    return _frame(
        "outside",
        codes=g_code[rows],
        community_code=g_comm[rows],
        area_m2=area,
        message_zh=[f"网格 {g} 超出所属社区 {c} 范围 {m:.1f} 平方米" for g, c, m in named],
        message_en=[f"{m:.1f} m² of grid {g} lies outside its community {c}" for g, c, m in named],
        geometry=shapes,
    )


def _slivers(
    g_code: npt.NDArray[Any], g_comm: GeomArray, g_geom: GeomArray, opts: TopologyOptions
) -> pd.DataFrame:
    """Grid parts too small or too thin to be a real piece of a grid."""
    parts, owner = _flat_parts(g_geom)
    area = shapely.area(parts)
    perimeter = shapely.length(parts)
    thinness = np.divide(4 * np.pi * area, perimeter**2, out=np.zeros_like(area), where=perimeter > 0)
    sliver = (area > 0) & ((area < opts.sliver_area_m2) | (thinness < opts.sliver_thinness))
    parts, owner, area, thinness = parts[sliver], owner[sliver], area[sliver], thinness[sliver]
    return _frame(
        "sliver",
        codes=g_code[owner],
        community_code=g_comm[owner],
        area_m2=area,
        message_zh=[
            f"网格 {g} 含细碎图斑：{m:.1f} 平方米，细长度 {t:.3f}"
            for g, m, t in zip(g_code[owner], area, thinness, strict=True)
        ],
        message_en=[
            f"grid {g} has a sliver part of {m:.1f} m² (thinness {t:.3f})"
            for g, m, t in zip(g_code[owner], area, thinness, strict=True)
        ],
        geometry=parts,
    )


def _no_community(
    g_code: npt.NDArray[Any], g_comm: GeomArray, g_geom: GeomArray, c_pos: IntArray
) -> pd.DataFrame:
    """Grids whose community_code names no community."""
    rows = np.flatnonzero(c_pos < 0)
    return _frame(
        "no_community",
        codes=g_code[rows],
        community_code=g_comm[rows],
        area_m2=shapely.area(g_geom[rows]),
        message_zh=[
            f"网格 {g} 的所属社区 {c} 不存在" if c else f"网格 {g} 未填写所属社区"
            for g, c in zip(g_code[rows], g_comm[rows], strict=True)
        ],
        message_en=[
            f"grid {g} names community {c}, which does not exist" if c else f"grid {g} names no community"
            for g, c in zip(g_code[rows], g_comm[rows], strict=True)
        ],
        geometry=g_geom[rows],
    )


def _household_counts(
    g_code: npt.NDArray[Any],
    g_comm: GeomArray,
    g_geom: GeomArray,
    c_pos: IntArray,
    c_kind: GeomArray,
    counts: pd.Series,
    opts: TopologyOptions,
) -> pd.DataFrame:
    """Grids with fewer or more households than their community kind allows."""
    n = counts.reindex(pd.Index(g_code)).fillna(0).to_numpy(dtype=np.int64)
    village = np.zeros(len(g_code), dtype=bool)
    village[c_pos >= 0] = c_kind[c_pos[c_pos >= 0]] == "village"
    low = np.where(village, opts.rural_households[0], opts.urban_households[0])
    high = np.where(village, opts.rural_households[1], opts.urban_households[1])
    frames = []
    for kind, rows, bound, zh, en in (
        ("too_few_households", np.flatnonzero(n < low), low, "少于", "below"),
        ("too_many_households", np.flatnonzero(n > high), high, "多于", "above"),
    ):
        frames.append(
            _frame(
                kind,
                codes=g_code[rows],
                community_code=g_comm[rows],
                area_m2=shapely.area(g_geom[rows]),
                message_zh=[
                    f"网格 {g} 有 {h} 户，{zh} {b} 户"
                    for g, h, b in zip(g_code[rows], n[rows], bound[rows], strict=True)
                ],
                message_en=[
                    f"grid {g} has {h} households, {en} {b}"
                    for g, h, b in zip(g_code[rows], n[rows], bound[rows], strict=True)
                ],
                geometry=g_geom[rows],
            )
        )
    return _concat(frames)


def _invalid(frame: gpd.GeoDataFrame, fixed: GeomArray, community: GeomArray, what: str) -> pd.DataFrame:
    """Invalid or missing geometries, located where GEOS found the problem (already lon/lat)."""
    geoms = frame.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    reasons = np.where(missing, "Empty geometry", shapely.is_valid_reason(geoms).astype(object))
    rows = np.flatnonzero(missing | ~shapely.is_valid(geoms))
    codes = frame["code"].astype(str).to_numpy()[rows]
    where = [_reason_point(r) for r in reasons[rows]]
    # GEOS names the problem, then the point in brackets: keep the name, report the point as the location
    names = [r.split("[", 1)[0].strip() for r in reasons[rows]]
    at = ["" if np.isnan(x) else f" ({x:.6f},{y:.6f})" for x, y in where]
    label_zh = "网格" if what == "grid" else "社区"
    df = pd.DataFrame(
        {
            "kind": "invalid",
            "codes": codes,
            "community_code": community[rows],
            "area_m2": shapely.area(fixed[rows]),
            "lon": [p[0] for p in where],
            "lat": [p[1] for p in where],
            "message_zh": [
                f"{label_zh} {c} 几何无效：{_REASONS_ZH.get(n, n)}{a}"
                for c, n, a in zip(codes, names, at, strict=True)
            ],
            "message_en": [
                f"{what} {c} has an invalid geometry: {n}{a}"
                for c, n, a in zip(codes, names, at, strict=True)
            ],
        }
    )
    df["geometry"] = geoms[rows]
    return _fill_location(df, lambda: shapely.point_on_surface(geoms[rows]))


def _reason_point(reason: str) -> tuple[float, float]:
    """The coordinate GEOS names in an is_valid_reason text (NaN when it names none)."""
    m = _REASON_POINT.search(reason)
    return (float(m.group(1)), float(m.group(2))) if m else (np.nan, np.nan)


# --- locating and shaping the result ------------------------------------------


def _locate(df: pd.DataFrame, metric: Any) -> pd.DataFrame:
    """Convert metric findings to EPSG:4326 and add the lon/lat of a representative point."""
    geometry = gpd.GeoSeries(df["geometry"].to_numpy(), crs=metric).to_crs(WGS84)
    df = df.assign(geometry=geometry.to_numpy())
    where = shapely.point_on_surface(geometry.to_numpy())
    df["lon"] = shapely.get_x(where)
    df["lat"] = shapely.get_y(where)
    return df


def _fill_location(df: pd.DataFrame, points: Callable[[], GeomArray]) -> pd.DataFrame:
    """Where no lon/lat is known yet, use the representative point of the geometry."""
    gap = df["lon"].isna().to_numpy()
    if gap.any():
        where = points()
        df.loc[gap, "lon"] = shapely.get_x(where)[gap]
        df.loc[gap, "lat"] = shapely.get_y(where)[gap]
    return df


def finding_order(findings: pd.DataFrame) -> IntArray:
    """Row order of findings as reported: by kind (errors first), then codes, else as found."""
    rank = findings["kind"].map({k: i for i, k in enumerate(FINDING_KINDS)}).to_numpy()
    codes = findings["codes"].astype(object).fillna("").to_numpy()
    return np.lexsort((np.arange(len(findings)), codes, rank)) if len(findings) else np.empty(0, np.intp)


def _finish(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Typed columns in `FINDING_COLUMNS` order, errors first, then by kind and codes."""
    df["severity"] = df["kind"].map(SEVERITY)
    df["location"] = [
        "" if np.isnan(x) else f"{x:.6f},{y:.6f}" for x, y in zip(df["lon"], df["lat"], strict=True)
    ]
    df = df.iloc[finding_order(df)].reset_index(drop=True)
    out = gpd.GeoDataFrame(
        {
            "kind": df["kind"].astype("string"),
            "severity": df["severity"].astype("string"),
            "codes": df["codes"].astype("string"),
            "community_code": df["community_code"].astype("string").mask(df["community_code"] == ""),
            "area_m2": df["area_m2"].astype("float64"),
            "lon": df["lon"].astype("float64"),
            "lat": df["lat"].astype("float64"),
            "location": df["location"].astype("string"),
            "message_zh": df["message_zh"].astype("string"),
            "message_en": df["message_en"].astype("string"),
        },
        geometry=gpd.GeoSeries(df["geometry"].to_numpy(), crs=WGS84),
        crs=WGS84,
    )
    return out.reset_index(drop=True)

"""The district's polygons: streets, communities and grids from one jittered lattice.

All streets share one lattice of road lines (metres, CGCS2000 Gauss–Krüger
zone CM 114°E). Each lattice cell is one urban grid; every corner and every
edge midpoint is jittered once and shared by the cells on both sides, so
grids tile their community exactly (no gaps, no overlaps) while looking
irregular. A street is a block of `ROWS` × (`URBAN_COLS` + 1) cells; its
eastern column is the village, one rural grid. Jitter never exceeds `JITTER`
metres, so each cell's nominal rectangle shrunk by `MARGIN` is buildable:
nothing placed there can cross a grid edge.

Numbering (documented in data/README.md): communities and grids are
numbered north to south, then west to east — rows first (a community's grids
in lattice row 0 before those in row 1), west to east within a row. Seen from
the geometry: sort grid centroids by latitude descending, start a new row
whenever a centroid lies more than `ROW_BREAK_M` metres south of the first
centroid of the current row, and order each row by longitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyproj

from gridmap.sample import names

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

COUNTY_CODE = "420106"  # 武昌区, GB/T 2260
COUNTY_NAME = "武昌区"
METRIC_EPSG = 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
ORIGIN_LONLAT = (114.300, 30.565)  # north-west corner of the district

ROWS = 6  # lattice rows per street: three bands of two rows, one band per community pair
URBAN_COLS = 10
BAND_ROWS = 2
ROW_HEIGHT_M = (225.0, 260.0)
COL_WIDTH_M = (250.0, 300.0)
VILLAGE_WIDTH_M = 420.0
JITTER = 18.0  # max displacement of a shared vertex from its lattice position
MARGIN = JITTER + 14.0  # road half-width plus setback: the buildable inset of a cell
ROW_BREAK_M = 100.0
MAX_SCALE = 100


@dataclass(frozen=True)
class Layout:
    """Streets, communities and grids as arrays (metric coordinates)."""

    street_code: list[str]
    street_name: list[str]
    community_code: list[str]
    community_name: list[str]
    community_street: IntArray
    community_kind: list[str]
    grid_code: list[str]
    grid_name: list[str]
    grid_community: IntArray
    grid_rings: list[FloatArray]  # one closed ring (k, 2) per grid
    grid_village: npt.NDArray[np.bool_]
    grid_rect: FloatArray  # (grids, 4) buildable x0, y0, x1, y1 of urban grids (village: its column)
    grid_row: IntArray  # lattice row of the grid within its street (village: 0)
    grid_col: IntArray  # lattice column within its street
    road_index: IntArray  # per grid: index of the road its compound fronts (urban)
    village_cells: FloatArray  # (streets, ROWS, 4) buildable rectangles of each village's cells


def build_layout(scale: int, rng: np.random.Generator) -> Layout:
    """The polygons of a district of `scale` streets, arranged in a near-square block."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    block_cols = math.ceil(math.sqrt(scale))
    block_rows = math.ceil(scale / block_cols)
    n_rows, n_cols = block_rows * ROWS, block_cols * (URBAN_COLS + 1)

    # Road lines: row heights and column widths vary; the last column of each street is the village.
    is_village_col = (np.arange(n_cols) % (URBAN_COLS + 1)) == URBAN_COLS
    widths = np.where(is_village_col, VILLAGE_WIDTH_M, rng.uniform(*COL_WIDTH_M, n_cols))
    heights = rng.uniform(*ROW_HEIGHT_M, n_rows)
    x0, y0 = _origin_metric()
    xs = x0 + np.concatenate([[0.0], np.cumsum(widths)])
    ys = y0 - np.concatenate([[0.0], np.cumsum(heights)])

    # Shared vertices: corners move in both axes, edge midpoints across their edge (and a little along).
    corners = np.stack(np.meshgrid(xs, ys), axis=-1) + rng.uniform(
        -JITTER, JITTER, (n_rows + 1, n_cols + 1, 2)
    )
    hmid = np.stack(np.meshgrid((xs[:-1] + xs[1:]) / 2, ys), axis=-1)
    hmid += np.stack(
        [rng.uniform(-40, 40, (n_rows + 1, n_cols)), rng.uniform(-JITTER, JITTER, (n_rows + 1, n_cols))], -1
    )
    vmid = np.stack(np.meshgrid(xs, (ys[:-1] + ys[1:]) / 2), axis=-1)
    vmid += np.stack(
        [rng.uniform(-JITTER, JITTER, (n_rows, n_cols + 1)), rng.uniform(-40, 40, (n_rows, n_cols + 1))], -1
    )

    street_of = np.arange(scale)
    s_row0 = (street_of // block_cols) * ROWS
    s_col0 = (street_of % block_cols) * (URBAN_COLS + 1)

    streets_code = [f"{COUNTY_CODE}{s + 1:03d}" for s in range(scale)]
    streets_name = [
        names.pair_name(names.STREET_FIRST, names.STREET_SECOND, s * 11) + "街道" for s in range(scale)
    ]

    comm_code: list[str] = []
    comm_name: list[str] = []
    comm_street: list[int] = []
    comm_kind: list[str] = []
    g_code: list[str] = []
    g_name: list[str] = []
    g_comm: list[int] = []
    g_rings: list[FloatArray] = []
    g_village: list[bool] = []
    g_rect: list[FloatArray] = []
    g_row: list[int] = []
    g_col: list[int] = []
    g_road: list[int] = []
    village_cells = np.zeros((scale, ROWS, 4))

    def cell_ring(gr: int, gc: int) -> FloatArray:
        return np.array(
            [
                corners[gr, gc],
                hmid[gr, gc],
                corners[gr, gc + 1],
                vmid[gr, gc + 1],
                corners[gr + 1, gc + 1],
                hmid[gr + 1, gc],
                corners[gr + 1, gc],
                vmid[gr, gc],
                corners[gr, gc],
            ]
        )

    def cell_rect(gr: int, gc: int) -> FloatArray:
        return np.array([xs[gc] + MARGIN, ys[gr + 1] + MARGIN, xs[gc + 1] - MARGIN, ys[gr] - MARGIN])

    for s in range(scale):
        street = streets_code[s]
        # Six urban communities: each band of two rows is split at a random column into west and east.
        picks = rng.permutation(len(names.COMMUNITY_FIRST) * len(names.COMMUNITY_SECOND))[:6]
        splits = rng.integers(4, 7, ROWS // BAND_ROWS)
        number = 0
        for band, split in enumerate(splits):
            for lo, hi in ((0, int(split)), (int(split), URBAN_COLS)):
                community = len(comm_code)
                cname = names.pair_name(names.COMMUNITY_FIRST, names.COMMUNITY_SECOND, int(picks[number]))
                number += 1
                comm_code.append(f"{street}{number:03d}")
                comm_name.append(cname + "社区")
                comm_street.append(s)
                comm_kind.append("community")
                seq = 0
                for r in range(band * BAND_ROWS, (band + 1) * BAND_ROWS):
                    for c in range(lo, hi):
                        seq += 1
                        gr, gc = s_row0[s] + r, s_col0[s] + c
                        g_code.append(f"{comm_code[-1]}{seq:03d}")
                        g_name.append(f"{cname}社区第{seq}网格")
                        g_comm.append(community)
                        g_rings.append(cell_ring(gr, gc))
                        g_village.append(False)
                        g_rect.append(cell_rect(gr, gc))
                        g_row.append(r)
                        g_col.append(c)
                        g_road.append(s * (ROWS // BAND_ROWS) + band)
        # The village: the street's eastern column, one grid; its ring walks the column's outline.
        gc = s_col0[s] + URBAN_COLS
        rows = np.arange(s_row0[s], s_row0[s] + ROWS)
        vname = names.VILLAGES[s % len(names.VILLAGES)] + "村"
        community = len(comm_code)
        comm_code.append(f"{street}201")  # GB/T 10114: village committees are numbered from 200
        comm_name.append(vname)
        comm_street.append(s)
        comm_kind.append("village")
        east = [p for r in rows for p in (corners[r, gc + 1], vmid[r, gc + 1])]
        west = [p for r in rows[::-1] for p in (corners[r + 1, gc], vmid[r, gc])]
        top = [corners[rows[0], gc], hmid[rows[0], gc]]
        bottom = [corners[rows[-1] + 1, gc + 1], hmid[rows[-1] + 1, gc]]
        ring = np.array([*top, *east, *bottom, *west, corners[rows[0], gc]])
        g_code.append(f"{comm_code[-1]}001")
        g_name.append(f"{vname}第1网格")
        g_comm.append(community)
        g_rings.append(ring)
        g_village.append(True)
        g_rect.append(
            np.array([xs[gc] + MARGIN, ys[rows[-1] + 1] + MARGIN, xs[gc + 1] - MARGIN, ys[rows[0]] - MARGIN])
        )
        g_row.append(0)
        g_col.append(URBAN_COLS)
        g_road.append(-1)
        village_cells[s] = [cell_rect(r, gc) for r in rows]

    return Layout(
        street_code=streets_code,
        street_name=streets_name,
        community_code=comm_code,
        community_name=comm_name,
        community_street=np.asarray(comm_street),
        community_kind=comm_kind,
        grid_code=g_code,
        grid_name=g_name,
        grid_community=np.asarray(g_comm),
        grid_rings=g_rings,
        grid_village=np.asarray(g_village),
        grid_rect=np.asarray(g_rect),
        grid_row=np.asarray(g_row),
        grid_col=np.asarray(g_col),
        road_index=np.asarray(g_road),
        village_cells=village_cells,
    )


def _origin_metric() -> tuple[float, float]:
    """The district's north-west corner in the metric CRS."""
    x, y = _transformer(to_metric=True).transform(*ORIGIN_LONLAT)
    return float(x), float(y)


@lru_cache(maxsize=2)
def _transformer(*, to_metric: bool) -> pyproj.Transformer:
    """WGS84 ↔ the generator's metric CRS (always lon/lat order)."""
    metric, wgs84 = f"EPSG:{METRIC_EPSG}", "EPSG:4326"
    src, dst = (wgs84, metric) if to_metric else (metric, wgs84)
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def to_lonlat(xy: FloatArray) -> FloatArray:
    """Metric coordinates (…, 2) to WGS84 lon/lat rounded to 7 decimals (about 1 cm)."""
    lon, lat = _transformer(to_metric=False).transform(xy[..., 0], xy[..., 1])
    return np.round(np.stack([lon, lat], axis=-1), 7)

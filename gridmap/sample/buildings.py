"""Buildings: one residential compound (小区) per urban grid, scattered houses in villages.

A compound is a lattice of building slots inside the grid's buildable
rectangle, in one of three styles: rows of six-storey slabs (板楼), towers
(塔楼) or old low-rise blocks (老旧小区). Slots are filled in random order
until the grid reaches its household target, which leaves open space where a
real compound has a square, a school or a car park. Everything is computed
on whole arrays of slots, never per building.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gridmap.arrays import FloatArray
from gridmap.arrays import Int64Array as IntArray
from gridmap.sample import names
from gridmap.sample.layout import ROWS, Layout

StrArray = npt.NDArray[np.str_]

URBAN_HOUSEHOLDS = (300, 500)
KINDS = ("slab", "tower", "lowrise")
KIND_SHARES = (0.45, 0.25, 0.30)
# Per kind: widest footprint (m), depth (m), slot pitch east-west and north-south (m).
_SLOT = {
    "slab": (42.0, 12.0, 54.0, 32.0),
    "tower": (24.0, 22.0, 50.0, 48.0),
    "lowrise": (36.0, 10.0, 46.0, 24.0),
}
_MAX_BUILDING_HOUSEHOLDS = 104  # a 26-floor tower, 2 units × 2 rooms: keeps dropped overshoots above 300
VILLAGE_PITCH = (30.0, 26.0)
HAMLETS = 6
HAMLET_SIGMA_M = 110.0


@dataclass(frozen=True)
class Buildings:
    """Building footprints (axis-aligned rectangles in metres) and their attributes."""

    grid: IntArray
    rect: FloatArray  # (n, 4) x0, y0, x1, y1
    floors: IntArray
    units: IntArray  # 0 for a village house (no units or rooms)
    rooms: IntArray  # rooms per floor per unit
    number: IntArray  # 1-based number within the grid
    name: StrArray
    address: StrArray

    @property
    def households(self) -> IntArray:
        """Households per building: every room of every floor of every unit; one per village house."""
        return np.where(self.units > 0, self.floors * self.units * self.rooms, 1)


def build_buildings(layout: Layout, rng: np.random.Generator) -> Buildings:
    """All buildings of the district: compounds in urban grids, houses in villages."""
    urban = np.flatnonzero(~layout.grid_village)
    kinds = rng.choice(len(KINDS), size=len(urban), p=KIND_SHARES)
    targets = rng.integers(URBAN_HOUSEHOLDS[0] + 20, URBAN_HOUSEHOLDS[1] - 20, len(urban))
    slots = _compound_slots(layout.grid_rect[urban], kinds, targets, rng)
    totals = np.bincount(slots["grid"], weights=slots["households"], minlength=len(urban))
    short = np.flatnonzero(totals < URBAN_HOUSEHOLDS[0])
    if len(short):
        # A small slab or low-rise lattice cannot hold the target: those grids get towers instead.
        keep = ~np.isin(slots["grid"], short)
        redo = _compound_slots(
            layout.grid_rect[urban][short], np.full(len(short), KINDS.index("tower")), targets[short], rng
        )
        redo["grid"] = short[redo["grid"]]
        slots = {k: np.concatenate([v[keep], redo[k]]) for k, v in slots.items()}
        kinds[short] = KINDS.index("tower")
    order = np.lexsort((slots["col"], slots["row"], slots["grid"]))
    slots = {k: v[order] for k, v in slots.items()}
    grid = urban[slots["grid"]]
    number = number_within(slots["grid"])

    compound = _compound_names(layout, urban, kinds, rng)[slots["grid"]]
    road = np.asarray([names.road_name(int(i)) for i in layout.road_index[urban]])
    # House numbers rise eastward along the road: even on its north side, odd on its south side.
    row, col = layout.grid_row[urban], layout.grid_col[urban]
    house = 2 * (10 * col + rng.integers(1, 10, len(urban))) + (row % 2)
    gate = np.char.add(np.char.add(road, house.astype(str)), "号")[slots["grid"]]
    tag = np.char.add(number.astype(str), "栋")
    urban_buildings = Buildings(
        grid=grid,
        rect=slots["rect"],
        floors=slots["floors"],
        units=slots["units"],
        rooms=slots["rooms"],
        number=number,
        name=np.char.add(compound, tag),
        address=np.char.add(gate, tag),
    )
    return _concat(urban_buildings, _village_houses(layout, rng))


def _compound_slots(
    rects: FloatArray, kinds: IntArray, targets: IntArray, rng: np.random.Generator
) -> dict[str, npt.NDArray[Any]]:
    """Slots of every grid's lattice, filled in random order up to each grid's target."""
    spec = np.asarray([_SLOT[k] for k in KINDS])[kinds]
    width, depth, pitch_x, pitch_y = spec.T
    span_x, span_y = rects[:, 2] - rects[:, 0], rects[:, 3] - rects[:, 1]
    nx = np.floor((span_x - width) / pitch_x).astype(np.int64) + 1
    ny = np.floor((span_y - depth) / pitch_y).astype(np.int64) + 1
    count = nx * ny
    g = np.repeat(np.arange(len(rects)), count)
    local = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    col, row = local % nx[g], local // nx[g]
    # The lattice is centred in the buildable rectangle; row 0 is the northernmost.
    left = rects[:, 0] + (span_x - (nx - 1) * pitch_x - width) / 2 + width / 2
    top = rects[:, 3] - (span_y - (ny - 1) * pitch_y - depth) / 2 - depth / 2
    cx, cy = left[g] + col * pitch_x[g], top[g] - row * pitch_y[g]

    kind = kinds[g]
    n = len(g)
    is_slab, is_tower = kind == KINDS.index("slab"), kind == KINDS.index("tower")
    units = np.select(
        [is_slab, is_tower], [rng.choice([2, 3], n, p=[0.6, 0.4]), np.full(n, 2)], rng.integers(1, 4, n)
    )
    floors = np.select(
        [is_slab, is_tower],
        [rng.choice([5, 6, 7], n, p=[0.2, 0.5, 0.3]), rng.integers(18, 27, n)],
        rng.integers(3, 6, n),
    )
    rooms = np.select(
        [is_slab, is_tower], [np.full(n, 2), np.full(n, 2)], rng.choice([2, 3], n, p=[0.7, 0.3])
    )
    w = np.select([is_slab, is_tower], [units * 14.0, np.full(n, 24.0)], units * 12.0)
    d = depth[g]
    rect = np.stack([cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2], axis=1)
    households = floors * units * rooms

    # Random fill order per grid; keep slots until the target is reached, never above the maximum.
    order = np.lexsort((rng.random(n), g))
    filled = np.cumsum(households[order])
    start = np.repeat(np.cumsum(count) - count, count)
    before = filled - households[order] - np.concatenate([[0], filled])[start]
    within = before + households[order]
    keep = np.zeros(n, dtype=bool)
    keep[order] = (before < targets[g[order]]) & (within <= URBAN_HOUSEHOLDS[1])
    assert households.max(initial=0) <= _MAX_BUILDING_HOUSEHOLDS
    return {
        "grid": g[keep],
        "row": row[keep],
        "col": col[keep],
        "rect": rect[keep],
        "floors": floors[keep],
        "units": units[keep],
        "rooms": rooms[keep],
        "households": households[keep],
    }


def number_within(group: IntArray) -> IntArray:
    """1-based position of each row within its run of equal `group` values (input sorted by group)."""
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    lengths = np.diff(np.r_[starts, len(group)])
    return np.arange(len(group)) - np.repeat(starts, lengths) + 1


def _compound_names(layout: Layout, urban: IntArray, kinds: IntArray, rng: np.random.Generator) -> StrArray:
    """A compound name per urban grid, unique within its street (prefix by street, suffix by style)."""
    street = layout.community_street[layout.grid_community[urban]]
    prefixes = np.asarray(names.COMPOUND_PREFIXES)
    out = np.empty(len(urban), dtype=object)
    for s in np.unique(street):
        members = np.flatnonzero(street == s)
        picks = prefixes[rng.permutation(len(prefixes))[: len(members)]]
        suffix = [names.COMPOUND_SUFFIXES[KINDS[k]][rng.integers(0, 3)] for k in kinds[members]]
        out[members] = np.char.add(picks, np.asarray(suffix))
    return out.astype(str)


def _village_houses(layout: Layout, rng: np.random.Generator) -> Buildings:
    """Houses clustered in hamlets (自然村, numbered as 组) across each village's cells."""
    villages = np.flatnonzero(layout.grid_village)
    cells = layout.village_cells.reshape(-1, 4)  # (streets * ROWS, 4), street-major
    cell_village = np.repeat(villages, ROWS)
    px, py = VILLAGE_PITCH
    nx = np.floor((cells[:, 2] - cells[:, 0] - 14) / px).astype(np.int64) + 1
    ny = np.floor((cells[:, 3] - cells[:, 1] - 11) / py).astype(np.int64) + 1
    count = nx * ny
    c = np.repeat(np.arange(len(cells)), count)
    local = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    cx = cells[c, 0] + 7 + (local % nx[c]) * px
    cy = cells[c, 3] - 5.5 - (local // nx[c]) * py

    # Hamlet centres, numbered north to south (组 1 is the northernmost).
    v = len(villages)
    per_village = cells.reshape(v, ROWS, 4)
    extent = np.concatenate([per_village[:, :, :2].min(axis=1), per_village[:, :, 2:].max(axis=1)], axis=1)
    hx = rng.uniform(extent[:, [0]], extent[:, [2]], (v, HAMLETS))
    hy = -np.sort(-rng.uniform(extent[:, [1]], extent[:, [3]], (v, HAMLETS)), axis=1)
    village_of = np.repeat(np.arange(v), ROWS)[c]
    d2 = (cx[:, None] - hx[village_of]) ** 2 + (cy[:, None] - hy[village_of]) ** 2
    group = d2.argmin(axis=1)
    chance = 0.9 * np.exp(-d2.min(axis=1) / (2 * HAMLET_SIGMA_M**2))
    keep = rng.random(len(cx)) < chance
    cx, cy, group, grid = cx[keep], cy[keep], group[keep], cell_village[c][keep]
    n = len(cx)
    w, d = rng.uniform(10, 14, n), rng.uniform(8, 11, n)
    cx, cy = cx + rng.uniform(-3, 3, n), cy + rng.uniform(-2.5, 2.5, n)

    # Numbered within each 组 from west to east, then north to south.
    order = np.lexsort((-cy, cx, group, grid))
    cx, cy, w, d, group, grid = cx[order], cy[order], w[order], d[order], group[order], grid[order]
    number_in_group = number_within(grid * HAMLETS + group)
    village_name = np.asarray(layout.community_name)[layout.grid_community[grid]]
    address = np.char.add(
        np.char.add(np.char.add(village_name, (group + 1).astype(str)), "组"),
        np.char.add(number_in_group.astype(str), "号"),
    )
    return Buildings(
        grid=grid,
        rect=np.stack([cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2], axis=1),
        floors=rng.choice([1, 2, 3], n, p=[0.2, 0.5, 0.3]),
        units=np.zeros(n, dtype=np.int64),
        rooms=np.zeros(n, dtype=np.int64),
        number=number_within(grid),
        name=address,
        address=address,
    )


def _concat(a: Buildings, b: Buildings) -> Buildings:
    """Urban and village buildings together, ordered by grid (stable within a grid)."""
    fields = {k: np.concatenate([getattr(a, k), getattr(b, k)]) for k in Buildings.__dataclass_fields__}
    order = np.argsort(fields["grid"], kind="stable")
    return Buildings(**{k: v[order] for k, v in fields.items()})

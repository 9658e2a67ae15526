"""The district's roads: the lattice lines every grid edge follows, cut by a river crossed by few bridges.

Every lattice edge is a road (corner, jittered midpoint, corner), so roads
meet where lattice corners are shared. A river runs east–west along the
lattice line between two bands of communities (`river_line`): no road runs
along that line; instead a riverside road runs `BANK_M` north and south of
it, the north–south roads end on their own bank, and only every
`BRIDGE_EVERY`-th corner column has a bridge. A household on one bank whose
service point lies across the water, a few hundred metres away as the crow
flies, walks to the nearest bridge and back. No random draws: adding roads
leaves every other layer of a seed as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridmap.arrays import FloatArray
from gridmap.sample.layout import BAND_ROWS, Layout

BANK_M = 12.0
"""Metres from the river's middle line to each riverside road (inside every grid's setback)."""
BRIDGE_EVERY = 6
BRIDGE_FIRST = 3


@dataclass(frozen=True)
class Roads:
    """Road lines (metric vertices, one (k, 2) array each) with their codes, names, kinds."""

    code: list[str]
    name: list[str]
    kind: list[str]
    lines: list[FloatArray]


def river_line(rows: int) -> int:
    """The lattice line (0 = north edge) the river follows: a band boundary near the middle."""
    return max(BAND_ROWS, (rows // 2 // BAND_ROWS) * BAND_ROWS)


def bridge_columns(cols: int) -> list[int]:
    """The corner columns with a bridge over the river (at least one)."""
    return list(range(min(BRIDGE_FIRST, cols), cols + 1, BRIDGE_EVERY))


def build_roads(layout: Layout, county: str) -> Roads:
    """Every road of the district, in metres (see the module docstring)."""
    lat = layout.lattice
    corners, hmid, vmid = lat.corners, lat.hmid, lat.vmid
    rows, cols = corners.shape[0] - 1, corners.shape[1] - 1
    k = river_line(rows)
    shift = np.array([0.0, BANK_M])
    north_bank, south_bank = corners[k] + shift, corners[k] - shift
    north_mid, south_mid = hmid[k] + shift, hmid[k] - shift
    out = Roads([], [], [], [])

    def add(code: str, name: str, kind: str, *points: FloatArray) -> None:
        out.code.append(f"{county}{code}")
        out.name.append(name)
        out.kind.append(kind)
        out.lines.append(np.array(points))

    for r in range(rows + 1):
        for c in range(cols):
            if r == k:
                add(f"RN{c:03d}", "滨江北路", "residential", north_bank[c], north_mid[c], north_bank[c + 1])
                add(f"RS{c:03d}", "滨江南路", "residential", south_bank[c], south_mid[c], south_bank[c + 1])
            else:
                add(
                    f"RH{r:03d}{c:03d}",
                    f"东西{r + 1}路",
                    "residential",
                    corners[r, c],
                    hmid[r, c],
                    corners[r, c + 1],
                )
    for c in range(cols + 1):
        for r in range(rows):
            start = south_bank[c] if r == k else corners[r, c]
            end = north_bank[c] if r + 1 == k else corners[r + 1, c]
            add(f"RV{c:03d}{r:03d}", f"南北{c + 1}街", "residential", start, vmid[r, c], end)
    for number, c in enumerate(bridge_columns(cols), start=1):
        add(f"RB{c:03d}", f"第{number}大桥", "bridge", north_bank[c], south_bank[c])
    return out

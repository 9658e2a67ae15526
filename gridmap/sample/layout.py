"""The district's polygons: streets, communities and grids from one jittered lattice.

All streets share one lattice of road lines (metres east and north of the
district's north-west corner, see `to_lonlat`). Each lattice cell is one urban grid; every corner and every
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
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gridmap.arrays import FloatArray
from gridmap.arrays import Int64Array as IntArray
from gridmap.sample import names

COUNTY_CODE = "420106"  # 武昌区, GB/T 2260
ORIGIN_LONLAT = (114.300, 30.565)  # north-west corner of the district
# Metres per degree of longitude and latitude at the origin on the WGS84 ellipsoid:
# N·cos φ·π/180 and M·π/180 (N, M the prime-vertical and meridional radii at φ = 30.565°).
METRES_PER_DEGREE = (95935.03359322717, 110862.01883495826)


@dataclass(frozen=True)
class Place:
    """Where a generated district lies: its county code (GB/T 2260) and its north-west corner.

    `metres_per_degree` (east, north) is the local plane's scale at the corner
    (see `to_lonlat`); the default place keeps literal constants so its files
    stay byte-identical on every platform.
    """

    county: str = COUNTY_CODE
    origin: tuple[float, float] = ORIGIN_LONLAT
    metres_per_degree: tuple[float, float] = METRES_PER_DEGREE

    @classmethod
    def at(cls, county: str, lon: float, lat: float) -> Place:
        """A place with its north-west corner at (lon, lat), scaled on the WGS84 ellipsoid there."""
        a, e2 = 6378137.0, 0.00669437999014
        phi = math.radians(lat)
        w = 1.0 - e2 * math.sin(phi) ** 2
        east = a / math.sqrt(w) * math.cos(phi) * math.pi / 180.0
        north = a * (1.0 - e2) / w**1.5 * math.pi / 180.0
        return cls(county, (lon, lat), (east, north))


WUCHANG = Place()

ROWS = 6  # lattice rows per street: three bands of two rows, one band per community pair
URBAN_COLS = 10
BAND_ROWS = 2
ROW_HEIGHT_M = (225.0, 260.0)
COL_WIDTH_M = (250.0, 300.0)
VILLAGE_WIDTH_M = 420.0
JITTER = 18.0  # max displacement of a shared vertex from its lattice position
MARGIN = JITTER + 14.0  # road half-width plus setback: the buildable inset of a cell
ROW_BREAK_M = 100.0
MAX_SCALE = 999  # three-digit street numbers; 999 streets hold about 24 million households


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
    lattice: _Lattice  # the road lines every grid edge follows (`gridmap.sample.roads`)


@dataclass(frozen=True)
class _Lattice:
    """Road lines (`xs` west→east, `ys` north→south) and the jittered vertices cells share."""

    xs: FloatArray
    ys: FloatArray
    corners: FloatArray  # (rows + 1, cols + 1, 2)
    hmid: FloatArray  # (rows + 1, cols, 2): midpoints of east-west edges
    vmid: FloatArray  # (rows, cols + 1, 2): midpoints of north-south edges

    def cell_ring(self, gr: int, gc: int) -> FloatArray:
        """The closed ring of cell (row, col), clockwise from its north-west corner."""
        c, h, v = self.corners, self.hmid, self.vmid
        north = [c[gr, gc], h[gr, gc], c[gr, gc + 1], v[gr, gc + 1]]
        south = [c[gr + 1, gc + 1], h[gr + 1, gc], c[gr + 1, gc], v[gr, gc]]
        return np.array([*north, *south, c[gr, gc]])

    def column_ring(self, rows: IntArray, gc: int) -> FloatArray:
        """The closed outline of the cells `rows` of column `gc` (exactly their union)."""
        c, h, v = self.corners, self.hmid, self.vmid
        top = [c[rows[0], gc], h[rows[0], gc]]
        east = [p for r in rows for p in (c[r, gc + 1], v[r, gc + 1])]
        bottom = [c[rows[-1] + 1, gc + 1], h[rows[-1] + 1, gc]]
        west = [p for r in rows[::-1] for p in (c[r + 1, gc], v[r, gc])]
        return np.array([*top, *east, *bottom, *west, c[rows[0], gc]])

    def rect(self, top_row: int, bottom_row: int, gc: int) -> FloatArray:
        """The buildable rectangle (x0, y0, x1, y1) of rows top..bottom of column `gc`."""
        return np.array(
            [
                self.xs[gc] + MARGIN,
                self.ys[bottom_row + 1] + MARGIN,
                self.xs[gc + 1] - MARGIN,
                self.ys[top_row] - MARGIN,
            ]
        )


def _jittered_lattice(n_rows: int, n_cols: int, rng: np.random.Generator) -> _Lattice:
    """Road lines of varying spacing (every street's last column is its village) and jittered vertices."""
    is_village_col = (np.arange(n_cols) % (URBAN_COLS + 1)) == URBAN_COLS
    widths = np.where(is_village_col, VILLAGE_WIDTH_M, rng.uniform(*COL_WIDTH_M, n_cols))
    heights = rng.uniform(*ROW_HEIGHT_M, n_rows)
    xs = np.concatenate([[0.0], np.cumsum(widths)])
    ys = -np.concatenate([[0.0], np.cumsum(heights)])
    # Corners move in both axes; edge midpoints at most JITTER across their edge (freely along it).
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
    return _Lattice(xs, ys, corners, hmid, vmid)


@dataclass
class _Builder:
    """Accumulates communities and grids street by street, then freezes them into a `Layout`."""

    comm_code: list[str] = field(default_factory=list)
    comm_name: list[str] = field(default_factory=list)
    comm_street: list[int] = field(default_factory=list)
    comm_kind: list[str] = field(default_factory=list)
    grids: dict[str, list[object]] = field(
        default_factory=lambda: {
            k: [] for k in ("code", "name", "comm", "ring", "village", "rect", "row", "col", "road")
        }
    )

    def community(self, code: str, name: str, street: int, kind: str) -> int:
        self.comm_code.append(code)
        self.comm_name.append(name)
        self.comm_street.append(street)
        self.comm_kind.append(kind)
        return len(self.comm_code) - 1

    def grid(self, **values: object) -> None:
        for key, value in values.items():
            self.grids[key].append(value)

    def layout(
        self, street_code: list[str], street_name: list[str], village_cells: FloatArray, lattice: _Lattice
    ) -> Layout:
        g = self.grids
        return Layout(
            street_code=street_code,
            street_name=street_name,
            community_code=self.comm_code,
            community_name=self.comm_name,
            community_street=np.asarray(self.comm_street),
            community_kind=self.comm_kind,
            grid_code=[str(c) for c in g["code"]],
            grid_name=[str(n) for n in g["name"]],
            grid_community=np.asarray(g["comm"]),
            grid_rings=[np.asarray(r) for r in g["ring"]],
            grid_village=np.asarray(g["village"], dtype=bool),
            grid_rect=np.asarray(g["rect"]),
            grid_row=np.asarray(g["row"]),
            grid_col=np.asarray(g["col"]),
            road_index=np.asarray(g["road"]),
            village_cells=village_cells,
            lattice=lattice,
        )


def build_layout(scale: int, rng: np.random.Generator, place: Place = WUCHANG) -> Layout:
    """The polygons of a district of `scale` streets, arranged in a near-square block."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    block_cols = math.ceil(math.sqrt(scale))
    lattice = _jittered_lattice(math.ceil(scale / block_cols) * ROWS, block_cols * (URBAN_COLS + 1), rng)
    street_code = [f"{place.county}{s + 1:03d}" for s in range(scale)]
    street_name = [names.street_name(s) for s in range(scale)]
    used: set[str] = set()
    village_cells = np.zeros((scale, ROWS, 4))
    out = _Builder()
    for s, street in enumerate(street_code):
        row0, col0 = (s // block_cols) * ROWS, (s % block_cols) * (URBAN_COLS + 1)
        # Six urban communities: each band of two rows is split at a random column into west and east.
        picks = rng.permutation(len(names.COMMUNITY_FIRST) * len(names.COMMUNITY_SECOND))[:6]
        splits = rng.integers(4, 7, ROWS // BAND_ROWS)
        halves = [
            (band, lo, hi)
            for band, split in enumerate(splits)
            for lo, hi in ((0, split), (split, URBAN_COLS))
        ]
        for number, (band, lo, hi) in enumerate(halves, start=1):
            cname = names.pair_name(names.COMMUNITY_FIRST, names.COMMUNITY_SECOND, int(picks[number - 1]))
            if cname in used:
                # Taken by an earlier street: like real cities, the street's name tells them apart.
                cname = street_name[s].removesuffix("街道") + cname
            used.add(cname)
            community = out.community(f"{street}{number:03d}", cname + "社区", s, "community")
            cells = [(r, c) for r in range(band * BAND_ROWS, (band + 1) * BAND_ROWS) for c in range(lo, hi)]
            for seq, (r, c) in enumerate(cells, start=1):
                gr, gc = row0 + r, col0 + c
                out.grid(
                    code=f"{out.comm_code[community]}{seq:03d}",
                    name=f"{cname}社区第{seq}网格",
                    comm=community,
                    ring=lattice.cell_ring(gr, gc),
                    village=False,
                    rect=lattice.rect(gr, gr, gc),
                    row=r,
                    col=c,
                    road=s * (ROWS // BAND_ROWS) + band,
                )
        # The village: the street's eastern column, one grid (GB/T 10114 numbers villages from 200).
        gc, rows = col0 + URBAN_COLS, np.arange(row0, row0 + ROWS)
        vname = names.village_name(s)
        community = out.community(f"{street}201", vname, s, "village")
        out.grid(
            code=f"{street}201001",
            name=f"{vname}第1网格",
            comm=community,
            ring=lattice.column_ring(rows, gc),
            village=True,
            rect=lattice.rect(row0, row0 + ROWS - 1, gc),
            row=0,
            col=URBAN_COLS,
            road=-1,
        )
        village_cells[s] = [lattice.rect(int(r), int(r), gc) for r in rows]
    return out.layout(street_code, street_name, village_cells, lattice)


def to_lonlat(xy: FloatArray, place: Place = WUCHANG) -> FloatArray:
    """Local metres (…, 2) east and north of the origin to WGS84 lon/lat, rounded to 7 decimals (≈ 1 cm).

    A local plane: over a district of a few kilometres (twenty at scale 100)
    its scale error stays below 0.1 %, and plain arithmetic on literal
    constants gives the same coordinates on every platform and library
    version, which keeps the committed files byte-identical when regenerated.
    """
    degrees = np.asarray(place.origin) + xy / np.asarray(place.metres_per_degree)
    return np.round(degrees, 7)

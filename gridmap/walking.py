"""Walking distance along the road network: how far residents really walk to a facility.

The network is the walkable roads' lines split at every vertex, their ends
joined where coordinates coincide (to the millimetre) and nowhere else: a
bridge crossing a road is no junction. Only the largest connected piece (by
length) is walked; the smaller pieces are reported (`Network.pieces`) so GIS
staff can join them.

A point (household, building, facility) joins the network at the nearest
point of its nearest segment, not at the nearest node. Its walking distance to
a facility is

    straight leg to its snap point + path along the network + facility's straight leg,

the path running along the segment itself when both snap onto the same one.
All facilities are searched at once (one multi-source Dijkstra of
`scipy.sparse.csgraph`, each facility a node of its own tied to its segment's
two ends), stopped at the cut-off (`WalkingOptions.cutoff_m`, 2,000 m): never
one search per household.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from gridmap.arrays import BoolArray, FloatArray, IntArray
from gridmap.coverage import metric_xy

DEFAULT_CUTOFF_M = 2000.0
WALKING_SPEED_M_PER_MIN = 1000.0 / 15.0
"""GB 50180-2018 puts the 15-minute life circle at about 1,000 m on foot: 66.7 m a minute."""

_SNAP_DECIMALS = 3  # coordinates equal to the millimetre are one node
SAMPLE_SPACING_M = 10.0
_CANDIDATES = 16  # sample points asked per point before falling back to the STRtree


@dataclass
class NetworkCache:
    """The last network built, handed out again while the same roads frame (the same object: frames
    are replaced, never edited in place) is asked for in the same CRS, so an edit that leaves the
    roads alone does not build the city's network again.

    With it, what was found on that network and holds until the roads change: every point's snap
    (`PointSnaps`: an edit never snaps the households again) and the last facilities' distances at
    every node (`Sources`: a moved facility is searched around, not the whole city again).
    """

    roads: gpd.GeoDataFrame | None = None
    crs: pyproj.CRS | None = None
    network: Network | None = None
    points: PointSnaps | None = None
    sources: Sources | None = None

    def network_of(self, roads: gpd.GeoDataFrame, crs: pyproj.CRS) -> Network:
        """The network of `roads` in `crs`; on other roads in the same CRS (an edit), the points'
        snaps are carried over to it where they still hold (`PointSnaps.carried`)."""
        if self.network is None or self.roads is not roads or self.crs != crs:
            network = build_network(roads, crs)
            last = self.points if self.points is not None and self.points.network is self.network else None
            carry = last is not None and self.crs == crs and network.segments > 0
            self.points = last.carried(network) if last is not None and carry else None
            self.network, self.roads, self.crs, self.sources = network, roads, crs, None
        return self.network

    def snap(self, network: Network, xy: FloatArray) -> Snap:
        """`snap(network, xy)`, each point snapped once per network (kept by its exact coordinates)."""
        if self.points is None or self.points.network is not network:
            self.points = PointSnaps(network)
        return self.points.snap(xy)

    def sources_of(self, network: Network, xy: FloatArray, cutoff_m: float) -> Sources:
        """`Sources` of the facilities at `xy`, updated from the last ones around what moved."""
        last = self.sources if self.sources is not None and self.sources.network is network else None
        self.sources = sources(network, xy, cutoff_m, last)
        return self.sources


@dataclass(frozen=True)
class WalkingOptions:
    """How far the search goes (metres): beyond `cutoff_m` a point counts as out of reach; the
    network last built (`NetworkCache`, one per options object)."""

    cutoff_m: float = DEFAULT_CUTOFF_M
    networks: NetworkCache = field(default_factory=lambda: NetworkCache(), compare=False, repr=False)
    sites: gpd.GeoDataFrame | None = field(default=None, compare=False, repr=False)
    """The whole city's service points when only a part of it is analysed (`gridmap.incremental`):
    its households walk to them all, as in the whole analysis, from the nodes' distances kept for
    them (`NetworkCache.sources_of`), rather than searching again from the part's own."""


@dataclass(frozen=True)
class Piece:
    """A connected piece of the road network left out of the walking network."""

    segments: int
    length_m: float
    x: float
    y: float
    """A point of the piece (metric CRS of the network), to find it on a map."""


@dataclass(frozen=True)
class Network:
    """The walking network in a metric CRS: segments of the largest connected piece and their nodes.

    Segment i runs from node `u[i]` at `start[i]` to node `v[i]` at `end[i]`
    over `length[i]` metres; `graph` is the symmetric node-by-node matrix of
    the shortest segment between two nodes.
    """

    crs: pyproj.CRS
    start: FloatArray
    end: FloatArray
    u: IntArray
    v: IntArray
    length: FloatArray
    nodes: int
    graph: sp.csr_matrix
    tree: shapely.STRtree
    samples: cKDTree
    """Points every `SAMPLE_SPACING_M` or closer along each segment (`sample_segment`): what `snap`
    asks first, exactly, before the STRtree."""
    sample_segment: IntArray
    pieces: tuple[Piece, ...] = field(default=())

    @property
    def segments(self) -> int:
        return len(self.length)

    @property
    def length_m(self) -> float:
        return float(self.length.sum())


@dataclass(frozen=True)
class Snap:
    """Where points join the network: segment (-1: no point or no network), metres along it, leg."""

    segment: IntArray
    along: FloatArray
    leg: FloatArray


@dataclass(frozen=True)
class Reach:
    """Each point's walking distance to the nearest facility (NaN beyond the cut-off) and its row."""

    metres: FloatArray
    facility: IntArray
    """Row of the nearest facility among those given (-1: none within the cut-off)."""


def walkable_lines(roads: gpd.GeoDataFrame, crs: pyproj.CRS) -> npt.NDArray[np.object_]:
    """The walkable roads' single lines in `crs` (`walkable` null counts as walkable)."""
    if "walkable" in roads.columns:
        keep = roads["walkable"].astype("boolean").fillna(True).to_numpy(dtype=bool)
        roads = roads[keep]
    geoms = np.asarray(roads.geometry.to_crs(crs).values, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    parts = shapely.get_parts(geoms)
    return parts[shapely.get_type_id(parts) == 1]  # LineString


def build_network(roads: gpd.GeoDataFrame, crs: pyproj.CRS) -> Network:
    """The walking network of `roads` (a roads layer, any CRS) measured in the metric `crs`."""
    lines = walkable_lines(roads, crs)
    coords, line = shapely.get_coordinates(lines, return_index=True)
    same_line = line[:-1] == line[1:]
    start, end = coords[:-1][same_line], coords[1:][same_line]
    keyed = np.round(np.concatenate([start, end]), _SNAP_DECIMALS)
    if len(keyed):
        _, node = np.unique(keyed, axis=0, return_inverse=True)
        node = node.ravel()
    else:
        node = np.empty(0, dtype=np.intp)
    u, v = node[: len(start)], node[len(start) :]
    length = np.hypot(*(end - start).T)
    real = u != v
    start, end, u, v, length = start[real], end[real], u[real], v[real], length[real]
    n = int(node.max()) + 1 if len(node) else 0
    keep, pieces = _largest_piece(u, v, length, start, n)
    start, end, u, v, length = start[keep], end[keep], u[keep], v[keep], length[keep]
    used, renumbered = np.unique(np.concatenate([u, v]), return_inverse=True)
    u, v = renumbered[: len(u)], renumbered[len(u) :]
    segments = (
        shapely.linestrings(np.stack([start, end], axis=1)) if len(start) else np.empty(0, dtype=object)
    )
    samples, sample_segment = _samples(start, end, length)
    return Network(
        crs=crs,
        start=start,
        end=end,
        u=u.astype(np.intp),
        v=v.astype(np.intp),
        length=length,
        nodes=len(used),
        graph=_graph(u, v, length, len(used)),
        tree=shapely.STRtree(segments),
        samples=cKDTree(samples),
        sample_segment=sample_segment,
        pieces=pieces,
    )


def _samples(start: FloatArray, end: FloatArray, length: FloatArray) -> tuple[FloatArray, IntArray]:
    """Points along every segment, both ends included, at most `SAMPLE_SPACING_M` apart."""
    counts = np.ceil(length / SAMPLE_SPACING_M).astype(np.intp) + 1
    segment = np.repeat(np.arange(len(length)), counts)
    first = np.cumsum(counts) - counts
    t = (np.arange(counts.sum()) - np.repeat(first, counts)) / np.repeat(counts - 1, counts)
    points = start[segment] + (end - start)[segment] * t[:, None]
    return (points if len(points) else np.empty((0, 2))), segment


def _largest_piece(
    u: IntArray, v: IntArray, length: FloatArray, start: FloatArray, n: int
) -> tuple[BoolArray, tuple[Piece, ...]]:
    """Which segments lie in the longest connected piece, and the other pieces, longest first."""
    if not len(u):
        return np.zeros(0, dtype=bool), ()
    adjacency = sp.coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)).tocsr()
    _, label = connected_components(adjacency, directed=False)
    piece = label[u]
    totals = np.bincount(piece, weights=length)
    counts = np.bincount(piece)
    best = int(np.argmax(totals))
    others = [int(p) for p in np.argsort(-totals, kind="stable") if p != best and counts[p] > 0]
    _, first = np.unique(piece, return_index=True)  # the first segment of every piece, by piece
    at = np.full(len(totals), -1, dtype=np.intp)
    at[np.unique(piece)] = first
    return piece == best, tuple(
        Piece(int(counts[p]), float(totals[p]), float(start[at[p], 0]), float(start[at[p], 1]))
        for p in others
    )


def _graph(u: IntArray, v: IntArray, length: FloatArray, n: int) -> sp.csr_matrix:
    """Symmetric node matrix keeping the shortest of parallel segments (a sum would lengthen them)."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((length, b, a))
    a, b, w = a[order], b[order], length[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, w = a[first], b[first], w[first]
    rows, cols = np.concatenate([a, b]), np.concatenate([b, a])
    return sp.csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n))


def changed_segments(before: Network, after: Network) -> FloatArray:
    """The segments in one network and not in the other (m × 4: start x, y, end x, y), either way
    round: the only places where a walk along one and along the other can differ."""
    keys = [_segment_keys(network) for network in (before, after)]
    ids = [pd.factorize(np.concatenate([k[end] for k in keys]))[0].astype(np.int64) for end in (0, 1)]
    pair = ids[0] * (len(ids[1]) + 1) + ids[1]
    mine, theirs = pair[: len(keys[0][0])], pair[len(keys[0][0]) :]
    gone, came = ~np.isin(mine, theirs), ~np.isin(theirs, mine)
    return np.concatenate(
        [np.hstack([n.start[m], n.end[m]]) for n, m in ((before, gone), (after, came))]
    ).reshape(-1, 4)


def _segment_keys(network: Network) -> tuple[npt.NDArray[np.complex128], npt.NDArray[np.complex128]]:
    """Each segment's ends as two numbers (`point_keys`), the lesser first: the same segment either way."""
    a, b = point_keys(network.start), point_keys(network.end)
    swap = (a.real > b.real) | ((a.real == b.real) & (a.imag > b.imag))
    return np.where(swap, b, a), np.where(swap, a, b)


SNAP_CHUNK = 250_000
"""Points snapped together: their candidate arrays (points × `_CANDIDATES`, a dozen of them alive at
once) stay near 0.5 GB however many households are snapped, where a city's 5M at once held about 7 GB."""


def snap(network: Network, xy: FloatArray) -> Snap:
    """Where each point (n × 2 in the network's CRS; NaN: none) joins the network."""
    n = len(xy)
    segment = np.full(n, -1, dtype=np.intp)
    along, leg = np.full(n, np.nan), np.full(n, np.nan)
    ok = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if not network.segments or not len(ok):
        return Snap(segment, along, leg)
    for start in range(0, len(ok), SNAP_CHUNK):  # n × k candidates at once would hold gigabytes
        rows = ok[start : start + SNAP_CHUNK]
        seg, distance = _nearest_segments(network, xy[rows])
        segment[rows] = seg
        leg[rows] = distance
        along[rows] = _along(network, seg, xy[rows])
    return Snap(segment, along, leg)


def _nearest_segments(network: Network, xy: FloatArray) -> tuple[IntArray, FloatArray]:
    """Each point's nearest segment and its distance, exactly.

    The k nearest sample points name candidate segments. A segment at distance
    d ≤ d0 (d0: the nearest sample's distance, an upper bound) has a sample
    within d0 + spacing / 2, so when the k-th sample lies beyond that the
    candidates hold the nearest segment; the few points where it does not
    ask the STRtree.
    """
    k = min(_CANDIDATES, len(network.sample_segment))
    near, at = network.samples.query(xy, k=k, workers=-1)
    near, at = near.reshape(len(xy), k), at.reshape(len(xy), k)
    candidate = network.sample_segment[at]
    distance = _distances(network, candidate, xy)
    pick = np.argmin(distance, axis=1)
    rows = np.arange(len(xy))
    seg, best = candidate[rows, pick], distance[rows, pick]
    unsure = np.flatnonzero(near[:, -1] <= near[:, 0] + SAMPLE_SPACING_M / 2)
    if k < len(network.sample_segment) and len(unsure):
        (found, hit), exact = network.tree.query_nearest(
            shapely.points(xy[unsure]), return_distance=True, all_matches=False
        )
        seg[unsure[found]], best[unsure[found]] = hit, exact
    return seg.astype(np.intp), best


def _distances(network: Network, segment: IntArray, xy: FloatArray) -> FloatArray:
    """Distance from each point (row of `xy`) to each of its candidate segments (n × k)."""
    ax, ay = network.start[:, 0][segment], network.start[:, 1][segment]
    dx, dy = network.end[:, 0][segment] - ax, network.end[:, 1][segment] - ay
    px, py = xy[:, 0, None] - ax, xy[:, 1, None] - ay
    span = dx * dx + dy * dy
    t = np.clip((px * dx + py * dy) / np.where(span > 0, span, 1.0), 0.0, 1.0)
    return np.hypot(px - dx * t, py - dy * t)


def _along(network: Network, seg: IntArray, xy: FloatArray) -> FloatArray:
    """Metres from each segment's start to the foot of the point on it (clamped to the segment)."""
    a, b = network.start[seg], network.end[seg]
    d = b - a
    span = np.einsum("ij,ij->i", d, d)
    t = np.einsum("ij,ij->i", xy - a, d) / np.where(span > 0, span, 1.0)
    return np.clip(t, 0.0, 1.0) * network.length[seg]


def node_distances(network: Network, facilities: Snap, cutoff_m: float) -> tuple[FloatArray, IntArray]:
    """Each node's walking distance to its nearest facility (inf beyond `cutoff_m`) and that facility.

    One Dijkstra from every facility at once: facility f is a node of its own
    tied to its segment's ends by its leg plus the way along the segment.
    """
    n = network.nodes
    placed = np.flatnonzero(facilities.segment >= 0)
    if not n or not len(placed):
        return np.full(n, np.inf), np.full(n, -1, dtype=np.intp)
    graph, own = _tied(network, facilities)
    distance, _, source = dijkstra(
        graph, directed=False, indices=own, min_only=True, limit=cutoff_m, return_predecessors=True
    )
    nearest = np.where(source[:n] >= 0, placed[np.maximum(source[:n] - n, 0)], -1)
    return distance[:n], nearest.astype(np.intp)


def walk_to_nearest(
    network: Network, points: Snap, facilities: Snap, cutoff_m: float = DEFAULT_CUTOFF_M
) -> Reach:
    """Each point's walking distance to its nearest facility: leg + network path + facility leg."""
    node_distance, node_facility = node_distances(network, facilities, cutoff_m)
    return walk_from_nodes(network, points, facilities, node_distance, node_facility, cutoff_m)


def walk_from_nodes(
    network: Network,
    points: Snap,
    facilities: Snap,
    node_distance: FloatArray,
    node_facility: IntArray,
    cutoff_m: float = DEFAULT_CUTOFF_M,
) -> Reach:
    """`walk_to_nearest` given each node's distance to its nearest facility (and which, -1: unknown)."""
    n = len(points.segment)
    metres, facility = np.full(n, np.inf), np.full(n, -1, dtype=np.intp)
    on = np.flatnonzero(points.segment >= 0)
    if len(on) and network.nodes:
        seg, along, leg = points.segment[on], points.along[on], points.leg[on]
        via_u = node_distance[network.u[seg]] + along
        via_v = node_distance[network.v[seg]] + network.length[seg] - along
        by_u = via_u <= via_v
        metres[on] = leg + np.where(by_u, via_u, via_v)
        facility[on] = np.where(by_u, node_facility[network.u[seg]], node_facility[network.v[seg]])
        _same_segment(points, facilities, on, metres, facility)
    beyond = ~(metres <= cutoff_m)
    metres[beyond] = np.nan
    facility[beyond] = -1
    return Reach(metres, facility)


def _same_segment(
    points: Snap, facilities: Snap, on: IntArray, metres: FloatArray, facility: IntArray
) -> None:
    """Points sharing a segment with a facility: straight along it when that is shorter (in place)."""
    placed = np.flatnonzero(facilities.segment >= 0)
    if not len(placed):
        return
    order = placed[np.argsort(facilities.segment[placed], kind="stable")]
    f_seg = facilities.segment[order]
    lo = np.searchsorted(f_seg, points.segment[on], side="left")
    hi = np.searchsorted(f_seg, points.segment[on], side="right")
    many = hi - lo
    if not many.any():
        return
    point = np.repeat(on, many)
    pos = np.repeat(lo, many) + (np.arange(many.sum()) - np.repeat(np.cumsum(many) - many, many))
    f = order[pos]
    direct = points.leg[point] + np.abs(points.along[point] - facilities.along[f]) + facilities.leg[f]
    best = np.full(len(metres), np.inf)
    np.minimum.at(best, point, direct)
    wins = (direct == best[point]) & (direct < metres[point])
    metres[point[wins]] = direct[wins]
    facility[point[wins]] = f[wins]


def reachable_lines(network: Network, facilities: Snap, within_m: float) -> npt.NDArray[np.object_]:
    """The parts of the network's segments within `within_m` on foot of a facility (metric lines).

    Drawn from the network (what a walking-time band shows), not a circle:
    from each end the reach left after the walk to it, and around each
    facility along its own segment.
    """
    distance, _ = node_distances(network, facilities, within_m)
    pieces: list[tuple[IntArray, FloatArray, FloatArray]] = []
    left_u, left_v = within_m - distance[network.u], within_m - distance[network.v]
    length = network.length
    whole = (left_u >= 0) & (left_v >= 0) & (left_u + left_v >= length)
    every = np.arange(network.segments)
    pieces.append((every[whole], np.zeros(whole.sum()), length[whole]))
    part_u = ~whole & (left_u > 0)
    pieces.append((every[part_u], np.zeros(part_u.sum()), np.minimum(left_u[part_u], length[part_u])))
    part_v = ~whole & (left_v > 0)
    pieces.append((every[part_v], np.maximum(length[part_v] - left_v[part_v], 0.0), length[part_v]))
    placed = np.flatnonzero((facilities.segment >= 0) & (facilities.leg < within_m))
    seg = facilities.segment[placed]
    spare = within_m - facilities.leg[placed]
    along = facilities.along[placed]
    pieces.append((seg, np.maximum(along - spare, 0.0), np.minimum(along + spare, length[seg])))
    seg = np.concatenate([p[0] for p in pieces])
    a = np.concatenate([p[1] for p in pieces])
    b = np.concatenate([p[2] for p in pieces])
    keep = b > a
    seg, a, b = seg[keep], a[keep], b[keep]
    if not len(seg):
        return np.empty(0, dtype=object)
    direction = (network.end[seg] - network.start[seg]) / length[seg, None]
    p = network.start[seg] + direction * a[:, None]
    q = network.start[seg] + direction * b[:, None]
    return np.asarray(shapely.linestrings(np.stack([p, q], axis=1)), dtype=object)


def walk_bands(
    roads: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    crs: pyproj.CRS,
    bands: tuple[tuple[int, int], ...],
    *,
    width_m: float = 30.0,
) -> gpd.GeoDataFrame:
    """Walking-time bands (`minutes`, `metres`, geometry in EPSG:4326), widest first: the network
    within each reach of a facility, widened by `width_m` either side so it reads as an area."""
    network = build_network(roads, crs)
    xy = metric_xy(facilities, crs)
    sites = snap(network, xy[np.isfinite(xy).all(axis=1)])
    rows = sorted(bands, key=lambda band: -band[1])
    shapes = [
        shapely.union_all(
            shapely.buffer(reachable_lines(network, sites, float(metres)), width_m, quad_segs=2)
        )
        for _, metres in rows
    ]
    return gpd.GeoDataFrame(
        {"minutes": [m for m, _ in rows], "metres": [d for _, d in rows]},
        geometry=gpd.GeoSeries(shapes, crs=crs).to_crs("EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )


_MATRIX_CELLS = 20_000_000  # distances held at once while building a walking matrix (160 MB)


def walk_matrix(network: Network, origins: Snap, targets: Snap, within_m: float) -> sp.csr_matrix:
    """Origins × targets, 1 where the target lies within `within_m` on foot of the origin.

    A siting coverage matrix on the network: origins a chunk at a time, each
    chunk one Dijkstra from its origins (each a node tied to its segment, as
    facilities are) stopped at `within_m`; legs added as in `walk_to_nearest`,
    and along the segment directly when both lie on it.
    """
    n_o, n_t, n = len(origins.segment), len(targets.segment), network.nodes
    shape = (n_o, n_t)
    hit = np.flatnonzero(targets.segment >= 0)
    if not n or not len(hit):
        return sp.csr_matrix(shape, dtype=np.int8)
    t_seg, t_along, t_leg = targets.segment[hit], targets.along[hit], targets.leg[hit]
    chunk = max(1, _MATRIX_CELLS // max(n + len(hit), 1))
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    placed = np.flatnonzero(origins.segment >= 0)
    for lo in range(0, len(placed), chunk):
        mine = placed[lo : lo + chunk]
        part = Snap(origins.segment[mine], origins.along[mine], origins.leg[mine])
        graph, own = _tied(network, part)
        node = dijkstra(graph, directed=False, indices=own, limit=within_m)[:, :n]
        via_u = node[:, network.u[t_seg]] + t_along
        via_v = node[:, network.v[t_seg]] + network.length[t_seg] - t_along
        metres = np.minimum(via_u, via_v) + t_leg
        same = part.segment[:, None] == t_seg[None, :]
        direct = part.leg[:, None] + np.abs(part.along[:, None] - t_along[None, :]) + t_leg[None, :]
        metres = np.where(same, np.minimum(metres, direct), metres)
        r, c = np.nonzero(metres <= within_m)
        rows.append(mine[r])
        cols.append(hit[c])
    row, col = np.concatenate(rows), np.concatenate(cols)
    matrix = sp.csr_matrix((np.ones(len(row), dtype=np.int8), (row, col)), shape=shape)
    matrix.sort_indices()
    return matrix


def _tied(network: Network, facilities: Snap) -> tuple[sp.csr_matrix, IntArray]:
    """The network with one node per placed facility tied to its segment's two ends, and those nodes."""
    n = network.nodes
    placed = np.flatnonzero(facilities.segment >= 0)
    seg = facilities.segment[placed]
    leg, along = facilities.leg[placed], facilities.along[placed]
    own = n + np.arange(len(placed))
    rows = np.concatenate([own, own])
    cols = np.concatenate([network.u[seg], network.v[seg]])
    weight = np.concatenate([leg + along, leg + network.length[seg] - along])
    weight = np.maximum(weight, 1e-9)  # scipy reads an explicit zero as no edge
    size = n + len(placed)
    ties = sp.csr_matrix((weight, (rows, cols)), shape=(size, size))
    graph = sp.block_diag([network.graph, sp.csr_matrix((len(placed), len(placed)))], format="csr") + ties
    return graph, own


_FOLD_SHARE = 0.125  # points snapped since the last fold, as a share of the kept ones, that are folded in


def point_keys(xy: FloatArray) -> npt.NDArray[np.complex128]:
    """Each point (n × 2) as one number, equal exactly when both coordinates are."""
    return np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2).view(np.complex128).ravel()


class PointSnaps:
    """The snaps found on one network, by the points' exact coordinates.

    A snap depends on the network and the point alone, so once the whole
    city's households and buildings are snapped, an analysis of any part of it
    looks its points up (a hash lookup, about 0.5 µs a point, against about
    30 µs to snap one). Points not seen before (a household moved or added)
    are snapped and kept; points sharing coordinates are snapped once.
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        self._keys: list[pd.Index] = []
        self._snaps: list[Snap] = []

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._keys)

    def carried(self, network: Network) -> PointSnaps:
        """These snaps on `network`, built of the roads edited: a point keeps its snap, its segment
        renumbered, unless that segment is gone or a new one lies as near as it (at most its leg
        away); those are snapped again when asked. The key tables are shared, hashes and all."""
        out = PointSnaps(network)
        if not self.network.segments:
            return out
        at = _renumbered(self.network, network)
        came = np.ones(network.segments, dtype=bool)
        came[at[at >= 0]] = False
        for keys, snaps in zip(self._keys, self._snaps, strict=True):
            segment = np.where(snaps.segment >= 0, at[np.maximum(snaps.segment, 0)], -1)
            near = _as_near(self.network, network, np.flatnonzero(came), keys.to_numpy(), snaps)
            stale = (segment < 0) | near
            out._keys.append(keys)
            out._snaps.append(Snap(np.where(stale, _STALE, segment), snaps.along, snaps.leg))
        return out

    def snap(self, xy: FloatArray) -> Snap:
        """`snap(self.network, xy)`, snapping only the points not kept already."""
        keys = point_keys(xy)
        n = len(keys)
        segment = np.full(n, -1, dtype=np.intp)
        along, leg = np.full(n, np.nan), np.full(n, np.nan)
        todo = np.flatnonzero(np.isfinite(xy).all(axis=1)) if n else np.empty(0, dtype=np.intp)
        for known, snaps in zip(self._keys, self._snaps, strict=True):
            if not len(todo):
                break
            at = known.get_indexer(pd.Index(keys[todo]))
            hit = at >= 0
            hit[hit] = snaps.segment[at[hit]] != _STALE
            rows, at = todo[hit], at[hit]
            segment[rows], along[rows], leg[rows] = snaps.segment[at], snaps.along[at], snaps.leg[at]
            todo = todo[~hit]
        if len(todo):
            inverse, unique = pd.factorize(keys[todo])
            fresh = snap(self.network, unique.view(np.float64).reshape(-1, 2))
            segment[todo], along[todo], leg[todo] = (
                fresh.segment[inverse],
                fresh.along[inverse],
                fresh.leg[inverse],
            )
            self._keep(pd.Index(unique), fresh)
        return Snap(segment, along, leg)

    def _keep(self, keys: pd.Index, snaps: Snap) -> None:
        """Keep new snaps: the first (the whole city's) as they are; later ones gathered into the
        second set while it stays small next to the first, so a lookup asks at most two tables.
        A set gathered into drops its stale snaps (`carried`) first: keys stay one of a kind."""
        if len(self._keys) < 2:
            keys.get_indexer(keys[:1])  # its hash table built now, not by the first edit's lookup
            self._keys.append(keys)
            self._snaps.append(snaps)
            return
        last_keys, last = _live(self._keys[-1], self._snaps[-1])
        recent, held = last_keys.append(keys), _joined(last, snaps)
        if len(recent) > _FOLD_SHARE * len(self._keys[0]):
            first_keys, first = _live(self._keys[0], self._snaps[0])
            self._keys, self._snaps = [first_keys.append(recent)], [_joined(first, held)]
        else:
            self._keys[-1], self._snaps[-1] = recent, held


def _live(keys: pd.Index, snaps: Snap) -> tuple[pd.Index, Snap]:
    """Kept snaps without the stale ones (the same objects when there are none)."""
    live = snaps.segment != _STALE
    if live.all():
        return keys, snaps
    rows = np.flatnonzero(live)
    return keys[rows], _taken(snaps, rows)


_STALE = -2
"""A kept snap's segment when the roads changed around it: the point is snapped again when asked."""


def _renumbered(old: Network, new: Network) -> IntArray:
    """Each segment of `old` as numbered in `new` (-1: not there, or not the only one of its ends)."""
    ends = [(point_keys(n.start), point_keys(n.end)) for n in (old, new)]
    ids = [pd.factorize(np.concatenate([e[i] for e in ends]))[0].astype(np.int64) for i in (0, 1)]
    pair = ids[0] * (len(ids[1]) + 1) + ids[1]
    mine, theirs = pair[: old.segments], pair[old.segments :]
    single = [pd.Index(p).duplicated(keep=False) for p in (mine, theirs)]
    at = pd.Index(theirs[~single[1]]).get_indexer(mine)
    found = np.flatnonzero(~single[1])[np.maximum(at, 0)]
    return np.where((at >= 0) & ~single[0], found, -1).astype(np.intp)


def _as_near(
    old: Network, new: Network, segments: IntArray, keys: npt.NDArray[np.complex128], snaps: Snap
) -> BoolArray:
    """Which points (`keys`, snapped on `old` as `snaps`) have one of `new`'s `segments` at most their
    leg away (and a micrometre: a point as near two segments is snapped again rather than left on
    the older by rounding).

    A point within its leg of its own segment and of a new one has its segment within twice its
    leg of the new one: the old segments' boxes are measured first (thousands), and only the points
    on those near enough (not a city's millions) are measured exactly.
    """
    out = np.zeros(len(keys), dtype=bool)
    if not len(segments) or not len(keys):
        return out
    lo = np.minimum(new.start[segments], new.end[segments]).min(axis=0)
    hi = np.maximum(new.start[segments], new.end[segments]).max(axis=0)
    gap = np.maximum(lo - np.maximum(old.start, old.end), np.minimum(old.start, old.end) - hi).max(axis=1)
    leg = snaps.leg + 1e-6
    placed = snaps.segment >= 0
    rows = np.flatnonzero(placed & (gap[np.maximum(snaps.segment, 0)] <= 2 * leg))
    if not len(rows):
        return out
    xy = np.ascontiguousarray(keys[rows], dtype=np.complex128).view(np.float64).reshape(-1, 2)
    lines = shapely.linestrings(np.stack([new.start[segments], new.end[segments]], axis=1))
    hit, _ = shapely.STRtree(lines).query(shapely.points(xy), predicate="dwithin", distance=leg[rows])
    out[rows[np.unique(hit)]] = True
    return out


def _joined(a: Snap, b: Snap) -> Snap:
    return Snap(
        np.concatenate([a.segment, b.segment]),
        np.concatenate([a.along, b.along]),
        np.concatenate([a.leg, b.leg]),
    )


def _taken(snaps: Snap, rows: IntArray) -> Snap:
    return Snap(snaps.segment[rows], snaps.along[rows], snaps.leg[rows])


MOST_MOVED = 64
"""Facilities added or removed at once that are searched around; more, and all are searched again."""


@dataclass(frozen=True)
class Sources:
    """Facilities on a network (`keys`: their exact coordinates, in the caller's order; `snaps`) and
    every node's walking distance to the nearest within `cutoff_m` (inf beyond) and its row."""

    network: Network
    keys: npt.NDArray[np.complex128]
    snaps: Snap
    distance: FloatArray
    nearest: IntArray
    cutoff_m: float

    def walk(self, points: Snap) -> Reach:
        """Each point's walking distance to the nearest of these facilities (`walk_to_nearest`)."""
        return walk_from_nodes(self.network, points, self.snaps, self.distance, self.nearest, self.cutoff_m)


def sources(network: Network, xy: FloatArray, cutoff_m: float, last: Sources | None = None) -> Sources:
    """The `Sources` of facilities at `xy` (n × 2, the network's CRS), equal to one search from them all.

    From `last` (the same network and cut-off), when at most `MOST_MOVED`
    facilities were added or removed (a moved one is both), only what they can
    change is searched again (`_moved`); otherwise one multi-source search.
    """
    keys = point_keys(xy)
    if last is not None and last.network is network and last.cutoff_m == cutoff_m:
        was = _matched_keys(last.keys, keys)
        gone = np.setdiff1d(np.arange(len(last.keys)), was[was >= 0])
        if len(gone) + np.count_nonzero(was < 0) <= MOST_MOVED:
            return _moved(last, keys, xy, was, gone)
    snaps = snap(network, xy)
    distance, nearest = node_distances(network, snaps, cutoff_m)
    return Sources(network, keys, snaps, distance, nearest, cutoff_m)


def _matched_keys(old: npt.NDArray[np.complex128], new: npt.NDArray[np.complex128]) -> IntArray:
    """The row of `old` at the same coordinates as each row of `new` (-1: none left), the k-th of
    several at one place matched to the k-th."""
    ids, _ = pd.factorize(np.concatenate([old, new]))
    ids = ids.astype(np.int64)
    nth = np.zeros(len(ids), dtype=np.int64)
    for part in (slice(0, len(old)), slice(len(old), None)):
        mine = ids[part]
        order = np.argsort(mine, kind="stable")
        run = np.r_[0, np.flatnonzero(np.diff(mine[order])) + 1]
        rank = np.arange(len(mine)) - np.repeat(run, np.diff(np.r_[run, len(mine)]))
        nth[part][order] = rank if len(mine) else rank[:0]
    pair = ids * (len(ids) + 1) + nth
    return pd.Index(pair[: len(old)]).get_indexer(pair[len(old) :]).astype(np.intp)


def _moved(
    last: Sources, keys: npt.NDArray[np.complex128], xy: FloatArray, was: IntArray, gone: IntArray
) -> Sources:
    """`last` with the facilities `gone` removed and those where `was` is -1 added.

    A node's nearest facility within the cut-off can change only if a removed or
    added one lies within the cut-off of it: those nodes (one search from the
    changed facilities) are searched again, from the facilities that can reach
    them (whose segment ends lie within twice the cut-off of a changed one, the
    same search); every other node keeps its distance and facility.
    """
    network, cutoff = last.network, last.cutoff_m
    n = network.nodes
    kept = was >= 0
    added = np.flatnonzero(~kept)
    fresh = snap(network, xy[added])
    snaps = Snap(np.empty(len(keys), dtype=np.intp), np.empty(len(keys)), np.empty(len(keys)))
    for name in ("segment", "along", "leg"):
        getattr(snaps, name)[kept] = getattr(last.snaps, name)[was[kept]]
        getattr(snaps, name)[added] = getattr(fresh, name)
    renumber = np.full(len(last.keys) + 1, -1, dtype=np.intp)  # the last slot: -1 stays -1
    renumber[was[kept]] = np.flatnonzero(kept)
    nearest = renumber[last.nearest]
    distance = last.distance.copy()
    changed = _joined(_taken(last.snaps, gone), fresh)
    changed = _taken(changed, np.flatnonzero(changed.segment >= 0))
    if n and len(changed.segment):
        graph, own = _tied(network, changed)
        around = dijkstra(graph, directed=False, indices=own, min_only=True, limit=2 * cutoff + 1.0)[:n]
        near = np.flatnonzero(around <= cutoff)
        if len(near):
            wide = np.isfinite(around)
            on = np.maximum(snaps.segment, 0)
            reach = np.flatnonzero((snaps.segment >= 0) & (wide[network.u[on]] | wide[network.v[on]]))
            d, f = node_distances(network, _taken(snaps, reach), cutoff)
            distance[near] = d[near]
            found = f[near] >= 0
            nearest[near] = -1
            nearest[near[found]] = reach[f[near][found]]
    return Sources(network, keys, snaps, distance, nearest, cutoff)

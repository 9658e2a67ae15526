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
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

from gridmap.arrays import BoolArray, FloatArray, IntArray

DEFAULT_CUTOFF_M = 2000.0
WALKING_SPEED_M_PER_MIN = 1000.0 / 15.0
"""GB 50180-2018 puts the 15-minute life circle at about 1,000 m on foot: 66.7 m a minute."""

_SNAP_DECIMALS = 3  # coordinates equal to the millimetre are one node


@dataclass(frozen=True)
class WalkingOptions:
    """How far the search goes (metres): beyond `cutoff_m` a point counts as out of reach."""

    cutoff_m: float = DEFAULT_CUTOFF_M


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
        pieces=pieces,
    )


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


def snap(network: Network, xy: FloatArray) -> Snap:
    """Where each point (n × 2 in the network's CRS; NaN: none) joins the network."""
    n = len(xy)
    segment = np.full(n, -1, dtype=np.intp)
    along, leg = np.full(n, np.nan), np.full(n, np.nan)
    ok = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if not network.segments or not len(ok):
        return Snap(segment, along, leg)
    points = shapely.points(xy[ok])
    (at, seg), distance = network.tree.query_nearest(points, return_distance=True, all_matches=False)
    rows = ok[at]
    segment[rows] = seg
    leg[rows] = distance
    along[rows] = _along(network, seg, xy[rows])
    return Snap(segment, along, leg)


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

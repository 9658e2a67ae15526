"""Walking coverage at city scale, scipy against networkx on the same network in the same run.

    .venv/bin/python -m bench.bench_walking [--scale 20] [--households 1000000] [--service-points 2000]

Workload: the sample city (`gridmap.sample.generate(scale)`, its lattice of
roads cut by a river with few bridges), households topped up to
`--households` (same building and point, new code), service points to
`--service-points` at random building points (`bench.workload`). Measured,
each stage once in a forked process for its peak memory:
- gridmap's walk: the network built, every household snapped, one
  multi-source Dijkstra with the 2,000 m cut-off, each household's distance
  to its nearest service point (`gridmap.walking`);
- the same node distances from networkx (`multi_source_dijkstra_path_length`
  with the same cut-off, from the same facility nodes tied to their
  segments), on the same graph, and the households' distances from them;
  both answers are compared household by household.
Writes bench/RESULTS.md (section "walking").
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from bench.common import WORK, run_isolated, table, write_section
from bench.workload import city
from gridmap.coverage import metric_xy
from gridmap.crs import metric_crs
from gridmap.walking import (
    DEFAULT_CUTOFF_M,
    Network,
    Snap,
    build_network,
    snap,
    walk_from_nodes,
    walk_to_nearest,
)


def _facility_graph(network: Network, facilities: Snap) -> tuple[sp.csr_matrix, np.ndarray]:
    """The network with one node per facility tied to its segment's ends (as gridmap searches it)."""
    n = network.nodes
    placed = np.flatnonzero(facilities.segment >= 0)
    seg = facilities.segment[placed]
    own = n + np.arange(len(placed))
    rows = np.concatenate([own, own])
    cols = np.concatenate([network.u[seg], network.v[seg]])
    leg, along = facilities.leg[placed], facilities.along[placed]
    weight = np.concatenate([leg + along, leg + network.length[seg] - along])
    size = n + len(placed)
    ties = sp.csr_matrix((np.maximum(weight, 1e-9), (rows, cols)), shape=(size, size))
    graph = sp.block_diag([network.graph, sp.csr_matrix((len(placed), len(placed)))], format="csr") + ties
    return graph, own


def _networkx_walk(network: Network, points: Snap, facilities: Snap) -> tuple[np.ndarray, dict[str, float]]:
    """Households' walking distances with networkx doing the search (legs added the same way)."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    graph, sources = _facility_graph(network, facilities)
    coo = graph.tocoo()  # ties run one way (facility → ends); the network both: an undirected graph takes all
    g = nx.Graph()
    g.add_nodes_from(range(graph.shape[0]))
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    seconds["graph"] = time.perf_counter() - start
    start = time.perf_counter()
    found = nx.multi_source_dijkstra_path_length(g, set(sources.tolist()), cutoff=DEFAULT_CUTOFF_M)
    seconds["search"] = time.perf_counter() - start
    start = time.perf_counter()
    node = np.full(network.nodes, np.inf)
    keys = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
    values = np.fromiter(found.values(), dtype=np.float64, count=len(found))
    inside = keys < network.nodes
    node[keys[inside]] = values[inside]
    unknown = np.full(network.nodes, -1, dtype=np.intp)  # which facility: not asked of networkx
    metres = walk_from_nodes(network, points, facilities, node, unknown).metres
    seconds["legs"] = time.perf_counter() - start
    return metres, seconds


def _measure(frames: dict[str, Any], engine: str) -> dict[str, Any]:
    crs = metric_crs(frames["grids"])
    out: dict[str, Any] = {}
    start = time.perf_counter()
    network = build_network(frames["roads"], crs)
    out["network"] = time.perf_counter() - start
    start = time.perf_counter()
    points = snap(network, metric_xy(frames["households"], crs))
    facilities = snap(network, metric_xy(frames["service_points"], crs))
    out["snap"] = time.perf_counter() - start
    start = time.perf_counter()
    if engine == "scipy":
        metres = walk_to_nearest(network, points, facilities).metres
        out["search"] = time.perf_counter() - start
    else:
        metres, parts = _networkx_walk(network, points, facilities)
        out.update({f"nx_{k}": v for k, v in parts.items()})
    out["segments"], out["nodes"], out["pieces"] = network.segments, network.nodes, len(network.pieces)
    out["within_1000"] = float(np.mean(metres <= 1000.0))
    out["checksum"] = float(np.nansum(metres))
    out["reached"] = int(np.isfinite(metres).sum())
    np.save(WORK / f"walking_{engine}.npy", metres)
    return out


def _isolated(frames: dict[str, Any], engine: str) -> tuple[float, float, dict[str, Any]]:
    """`_measure` in a forked process: (seconds, peak MiB, its figures, handed back through a file)."""
    path = WORK / f"walking_{engine}.json"

    def run() -> None:
        path.write_text(json.dumps(_measure(frames, engine)))

    seconds, peak = run_isolated(run)
    return seconds, peak, json.loads(path.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--service-points", type=int, default=2_000)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    frames = city(args.scale, args.households, 0, args.service_points)
    s_time, s_peak, s = _isolated(frames, "scipy")
    n_time, n_peak, n = _isolated(frames, "networkx")
    a, b = np.load(WORK / "walking_scipy.npy"), np.load(WORK / "walking_networkx.npy")
    same = bool(np.allclose(np.nan_to_num(a, nan=-1.0), np.nan_to_num(b, nan=-1.0), atol=1e-6))
    body = (
        f"Workload: the sample city at scale {args.scale} ({len(frames['grids']):,} grids), "
        f"{len(frames['households']):,} households, {len(frames['service_points']):,} service points, "
        f"{len(frames['roads']):,} roads → {s['segments']:,} segments, {s['nodes']:,} nodes "
        f"({s['pieces']} other pieces); cut-off {DEFAULT_CUTOFF_M:,.0f} m. Each engine in a forked process "
        "(time from the network's build to every household's distance; peak resident memory of the "
        "process, the city's frames included).\n\n"
        + table(
            ["engine", "total (s)", "peak memory (MiB)", "network (s)", "snap (s)", "search + legs (s)"],
            [
                [
                    "gridmap (scipy csgraph, one multi-source Dijkstra)",
                    f"{s_time:.1f}",
                    f"{s_peak:,.0f}",
                    f"{s['network']:.2f}",
                    f"{s['snap']:.2f}",
                    f"{s['search']:.2f}",
                ],
                [
                    "networkx multi_source_dijkstra_path_length",
                    f"{n_time:.1f}",
                    f"{n_peak:,.0f}",
                    f"{n['network']:.2f}",
                    f"{n['snap']:.2f}",
                    f"graph {n['nx_graph']:.2f} + search {n['nx_search']:.2f} + legs {n['nx_legs']:.2f}",
                ],
            ],
        )
        + f"\n\nBoth give the same distance for every household: {same} "
        f"({s['reached']:,} households within the cut-off; {s['within_1000']:.1%} within 1,000 m)."
    )
    print(body)
    write_section("walking", body)


if __name__ == "__main__":
    main()

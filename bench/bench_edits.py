"""Edit benchmark: how long the live analysis takes to catch up with one edit, by kind, at city scale.

    .venv/bin/python -m bench.bench_edits [--scale 200] [--rounds 3]

Workload: the city GeoPackage of `bench.bench_city` (scale 200: 5,023,863
households, 12,200 grids), copied aside so the edits leave it as it was. A
`LiveAnalysis` (what the server's builder keeps) reads and analyses the whole
store once; then, each round, one edit of every kind is written through the
store as the API writes it, and the refresh that follows is timed: a speaker
moved 100 m, a service point moved, a household made a center household, a
household registered (inserted), a building moved 20 m, a grid's party
branch changed, a grid renamed, a community's name changed. Each round also
times a whole refresh (`forget` then `refresh`: what every non-site edit cost
before edits were redone community by community), the baseline the edits are
measured against in the same run. After the last round the live analysis is
compared with a fresh analysis of the edited store (grid, community and street
tables, and every household's figures), so the figures are known to be right,
not only fast.
Writes bench/RESULTS.md section "edits-city".
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import time
from collections.abc import Callable

import pandas as pd
import shapely
import shapely.affinity

from bench.bench_city import _store
from bench.common import WORK, table, write_section
from gridmap.analysis import analyze, read_inputs
from gridmap.serving import LiveAnalysis
from gridmap.stores import Store, open_store

Edit = Callable[[Store, LiveAnalysis, int], None]


def _moved(layer: str, east: float) -> Edit:
    def edit(store: Store, live: LiveAnalysis, n: int) -> None:
        code = live.frames[layer]["code"].iloc[(97 * n + 13) % len(live.frames[layer])]
        site = store.read(layer, codes=[code])
        point = site.geometry.iloc[0]
        store.upsert(layer, site.set_geometry([shapely.Point(point.x + east, point.y)], crs=site.crs))

    return edit


def _center(store: Store, live: LiveAnalysis, n: int) -> None:
    code = live.frames["households"]["code"].iloc[(1_000_003 * n + 7) % len(live.frames["households"])]
    household = store.read("households", codes=[code])
    store.upsert("households", household.assign(center_household=~household["center_household"].astype(bool)))


def _registered(store: Store, live: LiveAnalysis, n: int) -> None:
    code = live.frames["households"]["code"].iloc[(700_001 * n + 3) % len(live.frames["households"])]
    household = store.read("households", codes=[code])
    store.upsert("households", household.assign(code=f"{code}N{n}", room=f"新{n}室"))


def _building(store: Store, live: LiveAnalysis, n: int) -> None:
    code = live.frames["buildings"]["code"].iloc[(40_009 * n + 11) % len(live.frames["buildings"])]
    building = store.read("buildings", codes=[code])
    shape = shapely.affinity.translate(building.geometry.iloc[0], 0.0002, 0.0)
    store.upsert("buildings", building.set_geometry([shape], crs=building.crs))


def _grid(store: Store, live: LiveAnalysis, n: int) -> None:
    code = live.frames["grids"]["code"].iloc[(2_003 * n + 5) % len(live.frames["grids"])]
    store.upsert("grids", store.read("grids", codes=[code]).assign(party_branch=f"第{n}党支部"))


def _grid_name(store: Store, live: LiveAnalysis, n: int) -> None:
    code = live.frames["grids"]["code"].iloc[(3_001 * n + 9) % len(live.frames["grids"])]
    store.upsert("grids", store.read("grids", codes=[code]).assign(name=f"新网格{n}"))


def _community(store: Store, live: LiveAnalysis, n: int) -> None:
    code = live.frames["communities"]["code"].iloc[(211 * n + 1) % len(live.frames["communities"])]
    store.upsert("communities", store.read("communities", codes=[code]).assign(name=f"新社区{n}"))


EDITS: dict[str, Edit] = {
    "speaker moved 100 m": _moved("speakers", 0.001),
    "service point moved 100 m": _moved("service_points", 0.001),
    "household made a center household": _center,
    "household registered": _registered,
    "building moved 20 m": _building,
    "grid's party branch changed": _grid,
    "grid renamed": _grid_name,
    "community renamed": _community,
}


def _check(store: Store, live: LiveAnalysis) -> None:
    """The live analysis equals a fresh one of the store as it now is."""
    assert live.analysis is not None
    want = analyze(read_inputs(store))
    for name in ("grids", "communities", "streets"):
        pd.testing.assert_frame_equal(
            pd.DataFrame(getattr(live.analysis, name)).drop(columns="geometry"),
            pd.DataFrame(getattr(want, name)).drop(columns="geometry"),
            check_dtype=False,
        )
    got = live.analysis.households.set_index("code")
    for column in ("grid_code", "speaker_covered", "service_covered", "linked_to"):
        a = got[column].reindex(want.households["code"]).astype(object).fillna("-").to_numpy()
        b = want.households[column].astype(object).fillna("-").to_numpy()
        assert (a == b).all(), column


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    path = WORK / f"edits{args.scale}.gpkg"
    shutil.copyfile(_store(args.scale), path)
    store = open_store(str(path))
    counts = store.counts()
    live = LiveAnalysis(store)
    start = time.perf_counter()
    live.refresh()
    first = time.perf_counter() - start
    seconds: dict[str, list[float]] = {name: [] for name in ["whole refresh", *EDITS]}
    streets: dict[str, list[int]] = {name: [] for name in EDITS}
    for n in range(args.rounds):
        for name, edit in EDITS.items():
            edit(store, live, n)
            start = time.perf_counter()
            done = live.refresh()
            seconds[name].append(time.perf_counter() - start)
            assert done is not None, name
            streets[name].append(len(done.streets) if done.streets is not None else -1)
            print(f"{name}: {seconds[name][-1]:.2f} s, streets {done.streets}", flush=True)
        live.forget()
        start = time.perf_counter()
        live.refresh()
        seconds["whole refresh"].append(time.perf_counter() - start)
        print(f"whole refresh: {seconds['whole refresh'][-1]:.1f} s", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _check(store, live)
    whole = statistics.median(seconds["whole refresh"])
    rows = [
        [
            name,
            f"{statistics.median(times):.2f}",
            f"{max(times):.2f}",
            "—" if name == "whole refresh" else " / ".join(str(s) for s in streets[name]),
            "1×" if name == "whole refresh" else f"{whole / statistics.median(times):.0f}× faster",
        ]
        for name, times in seconds.items()
    ]
    body = "\n\n".join(
        [
            f"`python -m bench.bench_edits --scale {args.scale} --rounds {args.rounds}`: a `LiveAnalysis` "
            f"(the builder's) of {counts['households']:,} households, {counts['buildings']:,} buildings and "
            f"{counts['grids']:,} grids in a GeoPackage store; each round one edit of every kind written "
            "through the store, and the refresh after it timed. Baseline, in the same run: a whole "
            "refresh (what every edit but a site's cost before edits were redone community by community). "
            f"First read and analysis: {first:.1f} s; peak memory {peak:,.0f} MiB. After the last round "
            "the live figures equal a fresh analysis of the edited store (grids, communities, streets, "
            "every household's grid, coverage and link).",
            table(
                ["edit", "refresh median (s)", "slowest (s)", "streets whose figures changed", "vs whole"],
                rows,
            ),
        ]
    )
    write_section("edits-city", body)
    print(body)
    path.unlink()


if __name__ == "__main__":
    main()

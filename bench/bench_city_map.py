"""City map render: the coverage map of a 5-million-household store in headless Chromium, before and after.

    .venv/bin/python -m bench.bench_city_map --store bench/work/city200.gpkg --baseline DIR [--rounds 7]
        [--phase make|render|all]

Workload: `gridmap map` (speaker measure, no basemap) on the given store (the city
of bench.bench_city: scale 200, 5,023,863 households, 7,951 speakers) and on the
sample district (scale 1), each written once by this checkout and once by the
source in `--baseline` (e.g. `git archive <commit> gridmap | tar -x -C DIR`), as a
user runs the command (wall, CPU and peak of the child process).

Render: the four pages opened in turn, `--rounds` times, each on a fresh page of
one headless Chromium profile with the network cut off; the figure is the
page's own `gridmap.renderedAt` (navigation start to two animation frames after
the page has drawn its first view), medians reported with every value. Taking
the pages in turn makes a change in the machine's load hit all of them alike.
Also counted at the opening view: Leaflet layers on the map and marker
elements in the page. Writes bench/RESULTS.md section "city-map".

`--phase make` only writes the pages (two analyses of the city: run it under
the machine's lock for big jobs) and keeps their figures beside them;
`--phase render` then opens them (a browser, no analysis) and writes the section.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from bench.common import WORK, run_cli, table, write_section
from gridmap.sample import generate
from gridmap.stores import open_store
from tests.maps.browser import chromium, open_map

TARGET_S = 2.0
_LAYERS_JS = """() => { let n = 0; gridmap.map.eachLayer(() => { n += 1; }); return n; }"""


def _sample_store(path: Path) -> Path:
    """The sample district (scale 1) in a GeoPackage store, written once."""
    if not path.exists():
        with open_store(str(path)) as store:
            store.replace_many(generate(1))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=WORK / "city200.gpkg")
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--phase", choices=["make", "render", "all"], default="all")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    stores = {"sample": _sample_store(WORK / "city-map-sample.gpkg"), "city": args.store}
    sources: dict[str, str | None] = {"before": str(args.baseline.resolve()), "after": None}
    pages = {
        (workload, label): WORK / f"city-map-{workload}-{label}.html"
        for workload in stores
        for label in sources
    }
    kept = WORK / "city-map-made.json"
    if args.phase in ("make", "all"):
        made_now = {}
        for (workload, label), html in pages.items():
            command = ["map", "--store", str(stores[workload].resolve()), "--out", str(html.resolve())]
            made_now[f"{workload} {label}"] = run_cli(command, sources[label])
            print(workload, label, made_now[f"{workload} {label}"], flush=True)
        kept.write_text(json.dumps({"made": made_now, "load": os.getloadavg()[0]}))
        if args.phase == "make":
            return
    record = json.loads(kept.read_text())
    made = {tuple(key.split(" ")): tuple(v) for key, v in record["made"].items()}
    with open_store(str(args.store)) as opened:
        counts = opened.counts()
    load_start = os.getloadavg()
    renders: dict[tuple[str, str], list[float]] = {key: [] for key in pages}
    opening: dict[tuple[str, str], tuple[int, int]] = {}
    errors: dict[tuple[str, str], int] = dict.fromkeys(pages, 0)
    with chromium() as context:
        for _ in range(args.rounds):
            for key, html in pages.items():
                page, log = open_map(context, html, timeout_ms=300_000)
                renders[key].append(page.evaluate("gridmap.renderedAt") / 1000)
                opening[key] = (page.evaluate(_LAYERS_JS), page.locator(".leaflet-marker-icon").count())
                errors[key] += len(log.page_errors) + len(log.console_errors) + len(log.blocked)
                page.close()
                print(key, f"{renders[key][-1]:.2f}", flush=True)
    load_end = os.getloadavg()
    rows = []
    for (workload, label), html in pages.items():
        wall, cpu, peak = made[workload, label]
        times = renders[workload, label]
        layers, markers = opening[workload, label]
        rows.append(
            [
                workload,
                label,
                f"{html.stat().st_size / 1e6:.1f}",
                f"{wall:.1f}",
                f"{cpu:.1f}",
                f"{peak:,.0f}",
                f"{layers:,}",
                f"{markers:,}",
                f"{statistics.median(times):.2f}",
                ", ".join(f"{t:.2f}" for t in times),
                errors[workload, label],
            ]
        )
    city_before = statistics.median(renders["city", "before"])
    city_after = statistics.median(renders["city", "after"])
    sample_after = statistics.median(renders["sample", "after"])
    headers = [
        "store",
        "code",
        "HTML MB",
        "`gridmap map` wall s",
        "CPU s",
        "peak MiB",
        "Leaflet layers at opening",
        "marker elements at opening",
        "render s (median)",
        f"render s, each of {args.rounds} rounds",
        "page errors",
    ]
    print(table(headers, rows))
    body = f"""
Workload: `python -m bench.bench_city_map --store {args.store} --baseline {args.baseline}
--rounds {args.rounds}`: `gridmap map` (speaker measure, no basemap) on the city store
({counts["grids"]:,} grids, {counts["households"]:,} households, {counts["speakers"]:,} speakers)
and on the sample district, by the code before this change (`before`) and this checkout
(`after`); the four pages then opened in turn, {args.rounds} rounds, each on a fresh page of one
headless Chromium with the network cut off. Render = navigation start to two animation frames
after the page drew its first view (`gridmap.renderedAt`). 1-minute load average
{record["load"]:.1f} when the pages were written, {load_start[0]:.1f} when the rendering started and
{load_end[0]:.1f} at its end (2 cores, shared with other work).

{table(headers, rows)}

- City map render at {counts["households"]:,} households: {city_before:.2f} s before,
  {city_after:.2f} s after ({city_before / city_after:.1f}× faster; the sample district after this
  change: {sample_after:.2f} s); target ≤ {TARGET_S:.0f} s: {"met" if city_after <= TARGET_S else "NOT met"}.
"""
    write_section("city-map", body)


if __name__ == "__main__":
    main()

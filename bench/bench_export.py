"""Export benchmark: the households layer of the sample district at a million households.

    .venv/bin/python -m bench.bench_export [--scale 41] [--admin-url URL] [--formats geojson,gpkg,...]

Generates the sample district (`gridmap.sample.generate(scale)`; scale 41 is
about 1,000,000 households), then measures, each export in a forked process
(time and peak memory), `gridmap.export.export_layer` of the households layer
in every format, with the file size. Then loads the layer into a GeoPackage
store and a fresh PostGIS database (dropped at the end) and times every zoom
14 tile over the district (`gridmap.tiles.tile`): p50 and p95 per store.
Writes the tables to bench/RESULTS.md (section "export").
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import geopandas as gpd

from bench.bench_import import _create_database, _drop_database
from bench.common import WORK, run_isolated, table, write_section
from gridmap.export import FORMATS, export_layer
from gridmap.sample import generate
from gridmap.stores import Store, open_store
from gridmap.tiles import tile

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TILE_ZOOM = 14


def _tile_range(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    """Every XYZ tile at zoom `z` covering lon/lat `bounds`."""

    def xy(lon: float, lat: float) -> tuple[int, int]:
        n = 2**z
        y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
        return int((lon + 180.0) / 360.0 * n), int(y)

    x0, y0 = xy(bounds[0], bounds[3])
    x1, y1 = xy(bounds[2], bounds[1])
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def export_rows(households: gpd.GeoDataFrame, formats: list[str]) -> list[list[object]]:
    rows: list[list[object]] = []
    out_dir = WORK / "export"
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        target = out_dir / f"households{FORMATS[fmt].suffix}"

        def run(fmt: str = fmt, target: Path = target) -> None:
            export_layer(households, target, fmt, layer="households")

        seconds, peak = run_isolated(run)
        size = target.stat().st_size
        rows.append(
            [
                FORMATS[fmt].label,
                f"{seconds:.1f}",
                f"{len(households) / seconds:,.0f}",
                f"{size / 2**20:,.0f}",
                f"{peak:,.0f}",
            ]
        )
        print(rows[-1], flush=True)
    return rows


def tile_row(name: str, store: Store, tiles: list[tuple[int, int]]) -> list[object]:
    times = []
    sizes = []
    for x, y in tiles:
        start = time.perf_counter()
        data = tile(store, "households", TILE_ZOOM, x, y)
        times.append(time.perf_counter() - start)
        sizes.append(len(data))
    nonempty = [s for s in sizes if s]
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 2 else times[0]
    return [
        name,
        len(tiles),
        len(nonempty),
        f"{statistics.median(times) * 1000:,.0f}",
        f"{p95 * 1000:,.0f}",
        f"{statistics.median(nonempty) / 1024:,.0f}" if nonempty else "0",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=41)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]

    start = time.perf_counter()
    frames = generate(scale=args.scale)
    households = frames["households"]
    print(f"generated {len(households):,} households in {time.perf_counter() - start:.0f} s", flush=True)
    exports = export_rows(households, formats)

    tiles = _tile_range(tuple(frames["grids"].total_bounds), TILE_ZOOM)
    tile_rows = []
    gpkg = WORK / "export" / "tiles.gpkg"
    gpkg.unlink(missing_ok=True)
    with open_store(str(gpkg)) as store:
        store.replace_many(frames)
        tile_rows.append(tile_row("GeoPackage (mapbox-vector-tile encoder)", store, tiles))
    name, url = _create_database(args.admin_url)
    try:
        with open_store(url) as store:
            store.replace_many(frames)
            tile_rows.append(tile_row("PostGIS (ST_AsMVT)", store, tiles))
    finally:
        _drop_database(args.admin_url, name)

    body = (
        f"Households layer of the sample district at scale {args.scale} "
        f"({len(households):,} households; `python -m bench.bench_export --scale {args.scale}`), "
        "WGS84, admin role; each export one run in a forked process, peak = the child's peak resident memory "
        "(it includes the generated frames the parent holds).\n\n"
        + table(["format", "seconds", "features/s", "MiB", "peak MiB"], exports)
        + f"\n\nVector tiles of the households layer, every zoom {TILE_ZOOM} tile over the district "
        "(`gridmap.tiles.tile`, one request each, warm store):\n\n"
        + table(["store", "tiles", "non-empty", "p50 ms", "p95 ms", "median KiB"], tile_rows)
    )
    write_section("export", body)
    print(body)


if __name__ == "__main__":
    main()

"""Analysis benchmark: assignment, coverage and the whole `gridmap analyze`, side by side with PostGIS.

    .venv/bin/python -m bench.bench_analysis [--scale 20] [--households 1000000]
        [--speakers 8000] [--service-points 2000] [--repeat 5] [--admin-url URL]

Workload: the sample district (`gridmap.sample.generate(scale)`: 1,220 grids
at scale 20) topped up to `--households` (copies of random households, same
building and point, new code: `bench.workload.densify`), and to
`--speakers` / `--service-points` with new sites at random building points
(speakers: 5 % broken, a fifth with power and sensitivity so their range comes
from the inverse-square law; service points: radius 300, 500 or 800 m).

Measured in one run, on the same data, each figure the median of `--repeat`
runs (PostGIS: of 3, after one warm-up; the database is fresh, loaded with
COPY, GiST-indexed and analysed, and dropped at the end):
- assignment: `GridLocator(grids).locate(lon, lat)` for every household point
  (index build included) against PostGIS point-in-polygon joins counting
  the matches (a plain join, polygon-outer LATERAL, and polygon-outer
  LATERAL over `ST_Subdivide`d grids), all with `ST_Contains`;
- coverage: speaker and service coverage with per-feature radii from metric
  coordinates (and, separately, the projection of the households to metres)
  against PostGIS `ST_DWithin` on metric-projected geometry with GiST
  (household-outer EXISTS with a largest-radius index probe, and site-outer
  DISTINCT);
- the whole `gridmap analyze --out` from a GeoPackage store (read, assign,
  coverage, linkage, topology, uncovered areas, summaries, writing every
  output), in a forked process with its peak memory (modules already
  imported, as in any long-lived process); also at scale 1.
Writes the tables to bench/RESULTS.md (section "analysis").
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import time
import uuid
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from bench.common import WORK, median_seconds, run_isolated, table, write_section
from bench.workload import city
from gridmap.analysis import analyze
from gridmap.assignment import GridLocator, point_xy
from gridmap.catalogue import LAYER_NAMES
from gridmap.cli import app
from gridmap.coverage import (
    metric_xy,
    service_coverage,
    service_radii,
    speaker_coverage,
    speaker_radii,
    working,
)
from gridmap.crs import metric_crs
from gridmap.sample import generate
from gridmap.stores import open_store

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_ASSIGN_S, TARGET_ASSIGN_X = 1.0, 1.5
TARGET_COVERAGE_S, TARGET_COVERAGE_X = 1.0, 3.0
TARGET_ANALYZE_S, TARGET_ANALYZE_MIB = 30.0, 4096.0


# --- PostGIS ---------------------------------------------------------------------------------------


def _copy(conn: psycopg.Connection, table_sql: str, columns: dict[str, object]) -> None:
    """Create a table and COPY `columns` into it (CSV through Arrow)."""
    conn.execute(f"CREATE TABLE {table_sql}")
    name = table_sql.split("(", 1)[0].strip()
    buffer = io.BytesIO()
    pacsv.write_csv(pa.table(columns), buffer, pacsv.WriteOptions(include_header=False))
    with conn.cursor().copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())


def load_postgis(conn: psycopg.Connection, frames: dict[str, gpd.GeoDataFrame], epsg: int) -> None:
    """The bench tables: grids, households, speakers and service points, 4326 and metric, indexed."""
    grids = frames["grids"]
    _copy(
        conn,
        "grids_in (code text, wkb text)",
        {"code": grids["code"].to_numpy(dtype=str), "wkb": shapely.to_wkb(grids.geometry.values, hex=True)},
    )
    conn.execute(
        "CREATE TABLE grids AS SELECT code, ST_GeomFromWKB(decode(wkb, 'hex'), 4326) AS geom FROM grids_in"
    )
    conn.execute("CREATE TABLE grids_sub AS SELECT code, ST_Subdivide(geom, 64) AS geom FROM grids")
    lon, lat = point_xy(frames["households"])
    _copy(
        conn, "homes_in (id int, lon float8, lat float8)", {"id": np.arange(len(lon)), "lon": lon, "lat": lat}
    )
    conn.execute(
        "CREATE TABLE homes AS SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom, "
        f"ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), {epsg}) AS geom_m FROM homes_in"
    )
    for layer, radii, on in (
        ("speakers", speaker_radii(frames["speakers"]), working(frames["speakers"])),
        (
            "service_points",
            service_radii(frames["service_points"]),
            np.ones(len(frames["service_points"]), bool),
        ),
    ):
        x, y = point_xy(frames[layer])
        _copy(
            conn,
            f"{layer}_in (lon float8, lat float8, radius_m float8, working boolean)",
            {"lon": x, "lat": y, "radius_m": radii, "working": on},
        )
        conn.execute(
            f"CREATE TABLE {layer} AS SELECT radius_m, working, "
            f"ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), {epsg}) AS geom_m FROM {layer}_in"
        )
        conn.execute(f"CREATE INDEX ON {layer} USING gist (geom_m)")
    for name, column in (("grids", "geom"), ("grids_sub", "geom"), ("homes", "geom"), ("homes", "geom_m")):
        conn.execute(f"CREATE INDEX ON {name} USING gist ({column})")
    for name in ("grids", "grids_sub", "homes", "speakers", "service_points"):
        conn.execute(f"VACUUM ANALYZE {name}")


ASSIGN_SQL = {
    "plain join": "SELECT count(*) FROM homes h JOIN grids g ON ST_Contains(g.geom, h.geom)",
    "polygon-outer LATERAL": (
        "SELECT count(*) FROM grids g CROSS JOIN LATERAL "
        "(SELECT 1 FROM homes h WHERE ST_Contains(g.geom, h.geom)) x"
    ),
    "polygon-outer LATERAL, ST_Subdivide(64)": (
        "SELECT count(*) FROM grids_sub g CROSS JOIN LATERAL "
        "(SELECT 1 FROM homes h WHERE ST_Contains(g.geom, h.geom)) x"
    ),
}

_EXISTS = (
    "SELECT count(*) FROM homes h WHERE EXISTS (SELECT 1 FROM {t} s WHERE {w} "
    "ST_DWithin(s.geom_m, h.geom_m, {r}) AND ST_Distance(s.geom_m, h.geom_m) <= s.radius_m)"
)
_DISTINCT = (
    "SELECT count(DISTINCT h.id) FROM {t} s JOIN homes h ON ST_DWithin(h.geom_m, s.geom_m, s.radius_m) {w2}"
)


def coverage_sql(conn: psycopg.Connection) -> dict[str, str]:
    """Speaker plus service coverage in one statement per formulation (both counts summed)."""
    out = {}
    radius = {
        t: conn.execute(f"SELECT max(radius_m) FROM {t}").fetchone()[0]
        for t in ("speakers", "service_points")
    }
    for label, template in (("household-outer EXISTS", _EXISTS), ("site-outer DISTINCT", _DISTINCT)):
        parts = [
            template.format(t="speakers", w="s.working AND", w2="WHERE s.working", r=radius["speakers"]),
            template.format(t="service_points", w="", w2="", r=radius["service_points"]),
        ]
        out[label] = f"SELECT ({parts[0]}) + ({parts[1]})"
    return out


def postgis_seconds(conn: psycopg.Connection, sql: str) -> tuple[float, int]:
    """Median of 3 timed runs after a warm-up, and the count the query returns."""
    count = conn.execute(sql).fetchone()[0]
    return median_seconds(lambda: conn.execute(sql).fetchone(), repeat=3), int(count)


# --- measurements ----------------------------------------------------------------------------------


def assignment_rows(
    frames: dict[str, gpd.GeoDataFrame], conn: psycopg.Connection, repeat: int
) -> tuple[list, list]:
    grids = frames["grids"]
    lon, lat = point_xy(frames["households"])
    located: list[np.ndarray] = []
    ours = median_seconds(lambda: located.append(GridLocator(grids).locate(lon, lat)), repeat)
    found = int((located[-1] >= 0).sum())
    rows: list[list[object]] = [
        ["gridmap: GridLocator (sweep + prepared intersects_xy)", f"{ours:.3f}", f"{found:,}", ""]
    ]
    best = np.inf
    for label, sql in ASSIGN_SQL.items():
        seconds, count = postgis_seconds(conn, sql)
        best = min(best, seconds)
        rows.append([f"PostGIS: {label}", f"{seconds:.3f}", f"{count:,}", f"{seconds / ours:.1f}×"])
    verdict = "met" if ours <= TARGET_ASSIGN_S and best / ours >= TARGET_ASSIGN_X else "NOT met"
    notes = [
        f"- assignment of {len(lon):,} households: {ours:.3f} s (target ≤ {TARGET_ASSIGN_S} s), "
        f"{best / ours:.1f}× the fastest PostGIS formulation (target ≥ {TARGET_ASSIGN_X}×): {verdict}"
    ]
    return rows, notes


def coverage_rows(
    frames: dict[str, gpd.GeoDataFrame], conn: psycopg.Connection, repeat: int
) -> tuple[list, list]:
    households = frames["households"]
    metric = metric_crs(frames["grids"])
    xy = metric_xy(households, metric)
    project = median_seconds(lambda: metric_xy(households, metric), repeat)
    counts: list[int] = []

    def both() -> None:
        speaker = speaker_coverage(xy, frames["speakers"], metric)
        service = service_coverage(xy, frames["service_points"], metric)
        counts.append(int(speaker.sum() + service.sum()))

    ours = median_seconds(both, repeat)
    # The same sites over households spread uniformly (no building clusters): the cell pass cannot help.
    rng = np.random.default_rng(5)
    low, high = xy.min(axis=0), xy.max(axis=0)
    spread = rng.uniform(low, high, xy.shape)
    spread_counts: list[int] = []

    def uniform() -> None:
        speaker = speaker_coverage(spread, frames["speakers"], metric)
        service = service_coverage(spread, frames["service_points"], metric)
        spread_counts.append(int(speaker.sum() + service.sum()))

    plain = median_seconds(uniform, repeat)
    rows: list[list[object]] = [
        [
            "gridmap: StraightLine (cells, nearest site, lifted KD-tree), speakers + service points",
            f"{ours:.3f}",
            f"{counts[-1]:,}",
            "",
        ],
        ["gridmap: projecting the households to metres (once per analysis)", f"{project:.3f}", "", ""],
        [
            "gridmap: the same, households spread uniformly over the district's extent (no PostGIS run)",
            f"{plain:.3f}",
            f"{spread_counts[-1]:,}",
            "",
        ],
    ]
    best = np.inf
    for label, sql in coverage_sql(conn).items():
        seconds, count = postgis_seconds(conn, sql)
        best = min(best, seconds)
        rows.append(
            [
                f"PostGIS ST_DWithin, metric geometry: {label}",
                f"{seconds:.3f}",
                f"{count:,}",
                f"{seconds / ours:.1f}×",
            ]
        )
    verdict = "met" if ours <= TARGET_COVERAGE_S and best / ours >= TARGET_COVERAGE_X else "NOT met"
    notes = [
        f"- speaker + service coverage of {len(xy):,} households: {ours:.3f} s "
        f"(target ≤ {TARGET_COVERAGE_S} s), "
        f"{best / ours:.1f}× the fastest PostGIS formulation (target ≥ {TARGET_COVERAGE_X}×): {verdict}; "
        f"with the projection to metres {ours + project:.3f} s, {best / (ours + project):.1f}×"
    ]
    return rows, notes


def analyze_cli(store_path: str, out_dir: str) -> Callable[[], None]:
    """`gridmap analyze --store … --out …` as the command runs it (its summary goes to a buffer)."""

    def run() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            app(["analyze", "--store", store_path, "--out", out_dir], standalone_mode=False)

    return run


def analyze_rows(cases: list[tuple[str, dict[str, gpd.GeoDataFrame]]], repeat: int) -> tuple[list, list]:
    rows: list[list[object]] = []
    notes: list[str] = []
    for label, frames in cases:
        path = WORK / f"analysis-{label.replace(' ', '-')}.gpkg"
        path.unlink(missing_ok=True)
        with open_store(str(path)) as store:
            store.replace_many({name: frames[name] for name in LAYER_NAMES})
        out = WORK / f"analysis-out-{label.replace(' ', '-')}"
        runs = [run_isolated(analyze_cli(str(path), str(out))) for _ in range(repeat)]
        seconds = float(np.median([r[0] for r in runs]))
        peak = max(r[1] for r in runs)
        steps = analyze(frames).timings
        detail = ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
        rows.append([label, f"{len(frames['households']):,}", f"{seconds:.2f}", f"{peak:,.0f}", detail])
        shutil.rmtree(out, ignore_errors=True)
        path.unlink(missing_ok=True)
    seconds, peak = float(rows[-1][2]), float(str(rows[-1][3]).replace(",", ""))
    verdict = "met" if seconds <= TARGET_ANALYZE_S and peak <= TARGET_ANALYZE_MIB else "NOT met"
    notes.append(
        f"- whole `gridmap analyze --out` at {rows[-1][0]}: {seconds:.2f} s "
        f"(target ≤ {TARGET_ANALYZE_S:.0f} s), "
        f"peak {peak:,.0f} MiB (target ≤ {TARGET_ANALYZE_MIB:,.0f} MiB): {verdict}"
    )
    return rows, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--speakers", type=int, default=8_000)
    parser.add_argument("--service-points", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)

    start = time.perf_counter()
    frames = city(args.scale, args.households, args.speakers, args.service_points)
    print(
        f"workload ready in {time.perf_counter() - start:.1f} s: "
        + ", ".join(f"{k} {len(v):,}" for k, v in frames.items())
    )
    epsg = metric_crs(frames["grids"]).to_epsg()
    name = f"gridmap_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = args.admin_url.rsplit("/", 1)[0] + "/" + name
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
            load_postgis(conn, frames, epsg)
            print("PostGIS loaded")
            a_rows, a_notes = assignment_rows(frames, conn, args.repeat)
            print(table(["method", "seconds", "matches", "PostGIS / gridmap"], a_rows))
            c_rows, c_notes = coverage_rows(frames, conn, args.repeat)
            print(table(["method", "seconds", "covered (speaker + service)", "PostGIS / gridmap"], c_rows))
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    small = generate(scale=1)
    z_rows, z_notes = analyze_rows([("sample scale 1", small), (f"scale {args.scale}", frames)], repeat=3)
    print(table(["workload", "households", "seconds", "peak MiB", "steps of analyze() (s)"], z_rows))

    counts = ", ".join(
        f"{len(frames[k]):,} {k}" for k in ("grids", "households", "speakers", "service_points")
    )
    body = f"""
Workload: `gridmap.sample.generate(scale={args.scale})` topped up to {counts}
(`python -m bench.bench_analysis`; see the module docstring). gridmap figures are medians
of {args.repeat} runs; PostGIS figures medians of 3 runs after a warm-up, same data, same run
(PostgreSQL 15 + PostGIS, GiST indexes, tables analysed, default parallel settings).
PostGIS queries only count their matches (nothing is sent back), which favours PostGIS.

**Assignment: which grid holds each household point**

{table(["method", "seconds", "matches", "PostGIS / gridmap"], a_rows)}

**Coverage: households within range of a working speaker, and of a service point (per-feature radii)**

{table(["method", "seconds", "covered (speaker + service)", "PostGIS / gridmap"], c_rows)}

**Whole `gridmap analyze --out DIR` from a GeoPackage store**
(forked process, median of 3, peak resident memory)

{table(["workload", "households", "seconds", "peak MiB", "steps of analyze() (s)"], z_rows)}

{chr(10).join(a_notes + c_notes + z_notes)}
"""
    write_section("analysis", body)


if __name__ == "__main__":
    main()

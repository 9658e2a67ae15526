"""Import benchmark: a million household points into PostGIS and GeoPackage.

    .venv/bin/python -m bench.bench_import [--rows N] [--admin-url URL]

Generates a CSV of households (lon/lat, Chinese addresses, names, phones)
into bench/work/, creates a fresh PostGIS database (dropped at the end), and
measures, each in a forked process (time and peak memory):
- the end-to-end import, `gridmap.ingest.import_file` (read, map, validate,
  load, index), into PostGIS and into GeoPackage;
- the load step alone, `store.replace` on the already-read frame;
- `GeoDataFrame.to_postgis` on the same frame, as the baseline.
Writes the table to bench/RESULTS.md (section "import").
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa

from bench.common import WORK, median_seconds, run_isolated, table, write_section
from gridmap.frames import WGS84, conform
from gridmap.ingest import import_file
from gridmap.stores import Store, open_store

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HOUSEHOLDS_PER_BUILDING = 40
E2E = "import_file (read, validate, load, index)"
_KM_BOX = (116.40, 39.90, 116.4117, 39.909)
TARGETS = {"end_to_end": 150_000, "load": 250_000, "vs_to_postgis": 2.5}

_SURNAMES = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
_GIVEN = np.array(["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳"])
_STREETS = np.array(["朝阳门", "建国门", "东直门", "和平里", "安定门", "交道口", "景山", "东华门"])
_ROADS = np.array(["史家胡同", "南小街", "北小街", "新中街", "东四十条", "香河园路", "和平里中街", "安德路"])


def _pick(rng: np.random.Generator, values: np.ndarray, n: int) -> pd.Series:
    return pd.Series(values[rng.integers(0, len(values), n)], dtype="string[pyarrow]")


def _digits(numbers: np.ndarray, width: int) -> pd.Series:
    return pd.Series(numbers).astype("string[pyarrow]").str.zfill(width)


def generate(rows: int, seed: int = 7) -> tuple[Path, gpd.GeoDataFrame]:
    """The households CSV (written to bench/work/) and the buildings it refers to."""
    rng = np.random.default_rng(seed)
    n_buildings = max(1, rows // HOUSEHOLDS_PER_BUILDING)
    # buildings on a jittered grid over a 20 km × 20 km district of Beijing
    bx = 116.30 + rng.random(n_buildings) * 0.23
    by = 39.85 + rng.random(n_buildings) * 0.18
    building_codes = "B" + _digits(np.arange(n_buildings), 7)
    buildings = conform(
        "buildings",
        gpd.GeoDataFrame(
            {"code": building_codes, "floors": rng.integers(2, 33, n_buildings)},
            geometry=shapely.box(bx, by, bx + 0.0004, by + 0.0003),
            crs=WGS84,
        ),
    )
    which = rng.integers(0, n_buildings, rows)
    unit = _digits(rng.integers(1, 7, rows), 1)
    room = _digits(rng.integers(1, 33, rows), 2) + _digits(rng.integers(1, 5, rows), 2)
    address = (
        "北京市东城区"
        + _pick(rng, _STREETS, rows)
        + "街道"
        + _pick(rng, _ROADS, rows)
        + _digits(which % 300 + 1, 1)
        + "号"
        + unit
        + "单元"
        + room
        + "室"
    )
    party = rng.random(rows) < 0.12
    households = pd.DataFrame(
        {
            "编码": "H" + _digits(np.arange(rows), 8),
            "地址": address,
            "楼栋编码": building_codes.to_numpy()[which],
            "单元": unit,
            "房号": room,
            "人口": rng.integers(1, 7, rows),
            "党员户": np.where(party, "是", "否"),
            "党员中心户": np.where(party & (rng.random(rows) < 0.1), "是", "否"),
            "户主": _pick(rng, _SURNAMES, rows) + _pick(rng, _GIVEN, rows),
            "联系电话": "13" + _digits(rng.integers(0, 10**9, rows), 9),
            "lon": np.round(bx[which] + rng.random(rows) * 0.0004, 7),
            "lat": np.round(by[which] + rng.random(rows) * 0.0003, 7),
        }
    )
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"households_{rows}.csv"
    pacsv.write_csv(pa.Table.from_pandas(households, preserve_index=False), path)
    return path, buildings


def read_frame(path: Path) -> gpd.GeoDataFrame:
    """The CSV as a canonical households frame (what the load step is given)."""
    raw = pd.read_csv(path, engine="pyarrow", dtype_backend="pyarrow")
    renamed = raw.rename(
        columns={
            "编码": "code",
            "地址": "address",
            "楼栋编码": "building_code",
            "单元": "unit",
            "房号": "room",
            "人口": "size",
            "户主": "contact_name",
            "联系电话": "contact_phone",
        }
    )
    renamed["party_member"] = raw["党员户"] == "是"
    renamed["center_household"] = raw["党员中心户"] == "是"
    for column in ("unit", "room", "contact_phone"):
        renamed[column] = renamed[column].astype("string")
    geometry = shapely.points(raw["lon"].to_numpy(float), raw["lat"].to_numpy(float))
    return conform("households", gpd.GeoDataFrame(renamed, geometry=geometry, crs=WGS84))


def measure(url: str, fn: Callable[[Store], object], repeat: int = 1) -> tuple[float, float]:
    """Median seconds of `fn(store)` over `repeat` forked runs (store opened before the clock starts)
    and the largest peak MiB of those children."""
    inner = mp.get_context("fork").Value("d", 0.0)

    def child() -> None:
        with open_store(url) as store:
            start = time.perf_counter()
            fn(store)
            inner.value = time.perf_counter() - start

    runs = []
    for _ in range(repeat):
        _, peak = run_isolated(child)
        runs.append((inner.value, peak))
    return statistics.median(s for s, _ in runs), max(p for _, p in runs)


def operations(url: str, codes: list[str]) -> list[tuple[str, float]]:
    """Median seconds of everyday operations on the loaded store (3 runs each)."""
    one = gpd.GeoDataFrame(
        {"code": [codes[0]], "address": ["更新"]}, geometry=[shapely.Point(116.4, 39.9)], crs=WGS84
    )
    with open_store(url) as store:
        return [
            ("read the whole layer", median_seconds(lambda: store.read("households"), repeat=3)),
            (
                "read a 1 km × 1 km bbox",
                median_seconds(lambda: store.read("households", bbox=_KM_BOX), repeat=3),
            ),
            ("read 100 codes", median_seconds(lambda: store.read("households", codes=codes[:100]), repeat=3)),
            ("upsert one feature", median_seconds(lambda: store.upsert("households", one), repeat=3)),
            (
                "delete one missing code",
                median_seconds(lambda: store.delete("households", ["none"]), repeat=3),
            ),
            ("counts", median_seconds(store.counts, repeat=3)),
        ]


def to_postgis(url: str, frame: gpd.GeoDataFrame) -> tuple[float, float]:
    """The geopandas baseline into a table of its own, spatial index included as geopandas makes it."""
    inner = mp.get_context("fork").Value("d", 0.0)

    def child() -> None:
        engine = sa.create_engine(url)
        start = time.perf_counter()
        frame.to_postgis("households_to_postgis", engine, if_exists="replace", index=False)
        inner.value = time.perf_counter() - start
        engine.dispose()

    _, peak = run_isolated(child)
    return inner.value, peak


def _create_database(admin_url: str) -> tuple[str, str]:
    name = f"gridmap_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    return name, f"postgresql+psycopg://{host}/{name}"


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    rows: int = args.rows

    start = time.perf_counter()
    csv, buildings = generate(rows)
    print(f"generated {rows:,} households in {time.perf_counter() - start:.1f} s: {csv}")
    frame = read_frame(csv)

    name, pg_url = _create_database(args.admin_url)
    gpkg = WORK / "bench_import.gpkg"
    gpkg.unlink(missing_ok=True)
    results: list[tuple[str, str, float, float]] = []
    everyday: dict[str, list[tuple[str, float]]] = {}
    load = os.getloadavg()[0]
    try:
        for store_name, url in (("PostGIS", pg_url), ("GeoPackage", str(gpkg))):
            with open_store(url) as store:
                store.replace("buildings", buildings)

            def end_to_end(store: Store) -> None:
                report = import_file(store, "households", csv)
                assert report.written == rows, report

            seconds, peak = measure(url, end_to_end)
            results.append((store_name, f"end to end: {E2E}", seconds, peak))
            seconds, peak = measure(url, lambda store: store.replace("households", frame), repeat=3)
            results.append(
                (store_name, "load step: store.replace on the read frame (median of 3)", seconds, peak)
            )
            with open_store(url) as store:
                assert store.counts()["households"] == rows
            everyday[store_name] = operations(url, frame["code"].tolist()[::997])
        seconds, peak = to_postgis(pg_url, frame)
        results.append(("PostGIS", "baseline: GeoDataFrame.to_postgis", seconds, peak))
    finally:
        _drop_database(args.admin_url, name)
        gpkg.unlink(missing_ok=True)

    report(rows, results, everyday, (load, os.getloadavg()[0]))


def report(
    rows: int,
    results: list[tuple[str, str, float, float]],
    everyday: dict[str, list[tuple[str, float]]],
    load: tuple[float, float],
) -> None:
    lines = [[store, step, f"{s:.2f}", f"{rows / s:,.0f}", f"{mib:,.0f}"] for store, step, s, mib in results]
    rate = {(store, step.split(":")[0]): rows / s for store, step, s, _ in results}
    pg_e2e, pg_load = rate[("PostGIS", "end to end")], rate[("PostGIS", "load step")]
    baseline = rate[("PostGIS", "baseline")]
    checks = [
        f"- PostGIS end to end: {pg_e2e:,.0f} rows/s (target ≥ {TARGETS['end_to_end']:,}): "
        + ("met" if pg_e2e >= TARGETS["end_to_end"] else "NOT met"),
        f"- PostGIS load step: {pg_load:,.0f} rows/s (target ≥ {TARGETS['load']:,}): "
        + ("met" if pg_load >= TARGETS["load"] else "NOT met"),
        f"- load step vs to_postgis: {pg_load / baseline:.1f}× (target ≥ {TARGETS['vs_to_postgis']}×): "
        + ("met" if pg_load / baseline >= TARGETS["vs_to_postgis"] else "NOT met"),
    ]
    body = (
        f"{rows:,} household points from CSV (`python -m bench.bench_import --rows {rows}`); "
        "each figure one run in a forked process, peak = the child's peak resident memory "
        "(it includes the already-read frame the parent holds).\n\n"
        + table(["store", "step", "seconds", "rows/s", "peak MiB"], lines)
        + "\n\n"
        + "\n".join(checks)
        + f"\n\nThe machine is shared: its 1-minute load average was {load[0]:.1f} at the start and "
        f"{load[1]:.1f} at the end of the run (2 cores), so these are pessimistic figures.\n\n"
        f"Everyday operations on the same {rows:,}-household stores (median of 3, seconds):\n\n"
        + table(
            ["operation", *everyday],
            [
                [name, *(f"{dict(ops)[name]:.3f}" for ops in everyday.values())]
                for name, _ in next(iter(everyday.values()))
            ],
        )
    )
    print(body)
    write_section("import", body)


if __name__ == "__main__":
    main()

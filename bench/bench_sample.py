"""Sample generator benchmark: generation time, peak memory and file size by scale.

    .venv/bin/python -m bench.bench_sample [--scales 1 20 42]

For each scale, in a forked process (time and peak memory): `generate(scale)`
alone, then `write_sample` of its frames into bench/work/sample_<scale>/.
Scale 20 is the 1,220-grid city; at the generator's 300–500 households per
urban grid it holds about 500,000 households, so scale 42 is the one that
reaches 1,000,000 households. Writes the table to bench/RESULTS.md (section
"sample"); the target is under 2 minutes of generation for 1,000,000 households.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

from bench.common import WORK, run_isolated, table, write_section
from gridmap.sample import generate, write_sample
from gridmap.sample.files import directory_size

TARGET_SECONDS = 120.0


def _measure(scale: int) -> list[object]:

    def only_generate() -> None:
        generate(scale)

    out = WORK / f"sample_{scale}"

    def generate_and_write() -> None:
        frames = generate(scale)
        write_sample(frames, out)

    gen_seconds, gen_peak = run_isolated(only_generate)
    total_seconds, total_peak = run_isolated(generate_and_write)
    grids = len(json.loads((out / "grids.geojson").read_text(encoding="utf-8"))["features"])
    with (out / "households.csv").open(encoding="utf-8") as f:
        households = sum(1 for _ in f) - 1
    size_mib = directory_size(out) / 2**20
    shutil.rmtree(out)
    return [
        scale,
        f"{grids:,}",
        f"{households:,}",
        f"{gen_seconds:.1f}",
        f"{gen_peak:,.0f}",
        f"{total_seconds:.1f}",
        f"{max(gen_peak, total_peak):,.0f}",
        f"{size_mib:,.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 20, 42])
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    load = os.getloadavg()[0]
    rows = []
    for scale in args.scales:
        row = _measure(scale)
        print(row, flush=True)
        rows.append(row)
    headers = [
        "scale",
        "grids",
        "households",
        "generate (s)",
        "generate peak (MiB)",
        "generate + write (s)",
        "peak (MiB)",
        "files (MiB)",
    ]
    body = (
        "`gridmap.sample.generate(scale)` (seed 20261124) and `write_sample` (GeoJSON per layer, "
        "households CSV), each timed in a forked process. Scale 1 is the committed sample "
        "(data/sample); scale 20 is 1,220 grids; scale 42 reaches 1,000,000 households. "
        f"Target: generation under {TARGET_SECONDS:.0f} s at 1,000,000 households. Wall times on a "
        f"shared machine (1-minute load average {load:.1f} at the start).\n\n" + table(headers, rows)
    )
    write_section("sample", body)


if __name__ == "__main__":
    main()

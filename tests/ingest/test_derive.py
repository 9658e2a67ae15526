"""An import derives `grid_code` from the store's grids and ignores any given in the file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gridmap.ingest import import_file
from gridmap.sample import load_sample
from gridmap.stores import Store

INSIDE_GRID_6 = (114.30162906, 30.56175025)  # a point inside 420106001001006
BUILDING_IN_GRID_1 = "4201060010010010002"  # 幸福路4号2栋, in 420106001001001


def test_households_take_their_building_grid_else_their_point_grid(store: Store, tmp_path: Path) -> None:
    load_sample(store)
    lon, lat = INSIDE_GRID_6
    csv = tmp_path / "new_households.csv"
    csv.write_text(
        "code,building_code,lon,lat,grid_code\n"
        f"H-VIA-BUILDING,{BUILDING_IN_GRID_1},{lon},{lat},999\n"
        f"H-BY-POINT,,{lon},{lat},999\n"
        "H-OUTSIDE,,114.0,30.0,999\n",
        encoding="utf-8",
    )
    report = import_file(store, "households", csv, mode="append")
    assert report.ignored["grid_code"]
    got = store.read("households", codes=["H-VIA-BUILDING", "H-BY-POINT", "H-OUTSIDE"])
    codes = dict(zip(got["code"], got["grid_code"], strict=True))
    assert codes["H-VIA-BUILDING"] == "420106001001001"
    assert codes["H-BY-POINT"] == "420106001001006"
    assert pd.isna(codes["H-OUTSIDE"])


def test_speakers_are_placed_by_their_point(store: Store, tmp_path: Path) -> None:
    load_sample(store)
    lon, lat = INSIDE_GRID_6
    csv = tmp_path / "speakers.csv"
    csv.write_text(f"编码,名称,经度,纬度,状态\nSPK-NEW,新广播,{lon},{lat},正常\n", encoding="utf-8")
    import_file(store, "speakers", csv, mode="append")
    got = store.read("speakers", codes=["SPK-NEW"])
    assert got["grid_code"].tolist() == ["420106001001006"]
    assert got["status"].tolist() == ["working"]

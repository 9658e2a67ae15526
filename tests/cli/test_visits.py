"""`gridmap visits care|log|due|stats` on a GeoPackage: the worker's list as a table and as a file."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.stores import open_store
from tests.visits.test_due import households

runner = CliRunner()


def _run(store: str, *args: str) -> str:
    result = runner.invoke(app, ["visits", *args, "--store", store], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_care_log_and_due(tmp_path: Path) -> None:
    store = str(tmp_path / "store.gpkg")
    with open_store(store) as opened:
        opened.replace("households", households())
    _run(store, "care", "A", "--category", "空巢/独居老人")
    _run(store, "care", "B", "--category", "correction")
    assert "recorded" in _run(store, "log", "A", "--at", "2026-11-01T10:00", "--key", "k1")
    assert "already recorded" in _run(store, "log", "A", "--at", "2026-11-01T10:00", "--key", "k1")
    _run(store, "log", "B", "--at", "2026-11-20T10:00", "--by", "王网格")
    _run(store, "log", "C", "--at", "2026-11-20T10:00")
    _run(store, "log", "D", "--at", "2026-11-20T10:00")
    _run(store, "log", "E", "--at", "2026-11-20T10:00")
    assert "1 household(s)" in _run(store, "due", "--grid", "G1", "--on", "2026-12-07")  # A alone is late
    masked = tmp_path / "masked.csv"
    _run(store, "due", "--grid", "G1", "--on", "2026-12-18", "--output", str(masked))
    assert "关爱对象" in masked.read_text(encoding="utf-8-sig")  # without --with-personal
    assert "elderly_alone" not in masked.read_text(encoding="utf-8-sig")
    out = tmp_path / "due.csv"
    _run(store, "due", "--grid", "G1", "--on", "2026-12-18", "--output", str(out), "--with-personal")
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2, rows  # A overdue since 12-01, B due 12-20 (this week)
    assert "elderly_alone" in str(rows[0])
    assert "correction" in str(rows[1])
    assert "王网格" in _run(store, "stats", "--since", "2026-11-01", "--until", "2026-11-30")

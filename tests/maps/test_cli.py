"""`gridmap map` on a store holding the sample district."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.errors import NotFoundError
from gridmap.maps.assets import external_references
from gridmap.stores import open_store


def test_district_and_grid_maps(sample_store: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "coverage.html"
    zh = {"GRIDMAP_LANG": "zh"}
    result = runner.invoke(
        app, ["map", "--store", sample_store, "--measure", "grade", "--out", str(out)], env=zh
    )
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "综合等级" in html and external_references(html) == []
    with open_store(sample_store) as store:
        grid = store.read("grids")["code"].iloc[0]
    out = tmp_path / "grid.html"
    result = runner.invoke(
        app, ["map", "--store", sample_store, "--grid", grid, "--lang", "en", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Grid detail map" in out.read_text()
    # The grid with the largest speaker gap of the sample district, with proposed sites numbered.
    result = runner.invoke(
        app,
        ["map", "--store", sample_store, "--grid", "420106001004011", "--propose", "2", "--out", str(out)],
        env=zh,
    )
    assert result.exit_code == 0, result.output
    assert "建议新增站点" in out.read_text() and "gm-site" in out.read_text()


def test_unknown_grid_and_basemap(sample_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDMAP_TIANDITU_KEY", raising=False)
    runner = CliRunner()
    result = runner.invoke(
        app, ["map", "--store", sample_store, "--grid", "nope", "--out", str(tmp_path / "x")]
    )
    assert isinstance(result.exception, NotFoundError)
    result = runner.invoke(app, ["map", "--store", sample_store, "--basemap", "tianditu"])
    assert "GRIDMAP_TIANDITU_KEY" in str(result.exception)

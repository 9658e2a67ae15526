"""`gridmap history`, `revert`, `diff` and `lookup --date`, run as a user would (GeoPackage store)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
from click.testing import Result
from shapely.geometry import box
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.errors import RevertConflictError
from gridmap.localtime import beijing
from gridmap.lookup import OutsideError
from gridmap.stores import open_store
from gridmap.versions import InvalidDateError
from tests.api.conftest import district

GRIDMAP = [sys.executable, "-m", "gridmap"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRIDMAP, *args], capture_output=True, text=True, timeout=120)


def _cli(*args: str) -> Result:
    """The command in this process (faster than a new interpreter); errors as `main` prints them."""
    return CliRunner().invoke(app, list(args))


def test_history_revert_diff_and_dated_lookup(tmp_path: Path) -> None:
    store = str(tmp_path / "store.gpkg")
    with open_store(store) as opened:
        opened.replace_many(district())
    speakers = tmp_path / "speakers.csv"
    speakers.write_text("编码,名称,lon,lat\nK7,七号喇叭,114.305,30.505\n", encoding="utf-8")
    done = _run("import", "speakers", str(speakers), "--store", store, "--yes")  # it removes K1 and K2
    assert done.returncode == 0, done.stderr
    listed = json.loads(_run("history", "--layer", "speakers", "--json", "--store", store).stdout)
    latest = listed[0]
    assert latest["author"] == getpass.getuser() and latest["command"].startswith("gridmap import speakers")
    assert latest["counts"]["speakers"] == {"inserted": 1, "updated": 0, "deleted": 2}
    done = _cli("revert", str(latest["revision"]), "--store", store)
    assert done.exit_code == 0, done.output
    with open_store(store) as opened:
        assert sorted(opened.read("speakers")["code"]) == ["K1", "K2"]
    again = _cli("revert", str(latest["revision"]), "--store", store)
    assert isinstance(again.exception, RevertConflictError) and "K7" in str(again.exception)

    grids = district()["grids"]
    grids.loc[grids["code"] == "G1", "geometry"] = gpd.GeoSeries([box(114.30, 30.50, 114.303, 30.51)]).values
    grids["valid_from"] = "2030-01-01"
    with open_store(store) as opened:
        opened.replace("grids", grids)
    point = ("--lon", "114.3045", "--lat", "30.5045", "--json", "--store", store)
    then = _cli("lookup", *point, "--date", "2029-12-31")
    assert json.loads(then.output)["grid"]["code"] == "G1"
    now = _cli("lookup", *point, "--date", "2030-01-01")
    assert isinstance(now.exception, OutsideError)
    diff = json.loads(
        _cli("diff", "--from", "2029-01-01", "--to", "2031-01-01", "--json", "--store", store).stdout
    )
    assert [(b["code"], b["grid_from"], b["grid_to"]) for b in diff["buildings"]] == [("B1", "G1", None)]
    assert [(h["code"], h["grid_from"], h["grid_to"]) for h in diff["households"]] == [("H1", "G1", None)]
    history = _cli("history", "--layer", "grids", "--code", "G1", "--store", store)
    assert history.exit_code == 0 and "geometry:" in history.output
    # When, in Beijing time (the store keeps UTC): no "+00:00", the revision's instant at +8 hours.
    assert "Beijing time" in history.output and "+00:00" not in history.output
    newest = json.loads(_cli("history", "--limit", "1", "--json", "--store", store).stdout)[0]
    table = _cli("history", "--limit", "1", "--store", store).output
    assert beijing(dt.datetime.fromisoformat(newest["at"]), seconds=True) in table
    bad = _cli("diff", "--from", "2029-02-30", "--to", "2031-01-01", "--store", store)
    assert isinstance(bad.exception, InvalidDateError) and "date must look like 2025-01-31" in str(
        bad.exception
    )

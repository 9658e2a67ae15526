"""`gridmap features` pages the sample district through `Store.query`, on both stores.

Known answers come from the committed sample (`data/sample/households.csv`):
grid 420106001001001 holds 358 households. Neither this command nor an
export of a subset reads a whole layer: `Store.read` is made to fail.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner, Result

from gridmap.catalogue import LAYER_NAMES, get_layer
from gridmap.cli import app, main
from gridmap.cli.app import console
from gridmap.sample import load_sample
from gridmap.sample.files import SAMPLE_DIR
from gridmap.stores import open_store
from tests.conftest import fresh_postgis_database

GRID = "420106001001001"
COMMUNITY = "420106001001"
runner = CliRunner()


@pytest.fixture(scope="module", params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def sample_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample district, loaded once per store kind into a store of its own; tests only read it."""
    postgis = request.param == "postgis"
    with fresh_postgis_database("gridmap_features") if postgis else nullcontext() as pg:
        url = pg or str(tmp_path_factory.mktemp("features") / "sample.gpkg")
        with open_store(url) as store:
            load_sample(store)
        yield url


@pytest.fixture(scope="module")
def households() -> pd.DataFrame:
    """The sample's households as committed, to check the store's pages against."""
    return pd.read_csv(SAMPLE_DIR / "households.csv", dtype=str, keep_default_na=False)


def _run(url: str, *args: str) -> Result:
    result = runner.invoke(app, ["features", *args, "--store", url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _csv(url: str, *args: str) -> tuple[list[dict[str, str]], str]:
    """The rows printed with --format csv, and the summary line (on stderr)."""
    result = _run(url, *args, "--format", "csv")
    return list(csv.DictReader(io.StringIO(result.stdout))), result.stderr.strip()


def test_a_grids_households_in_code_order(sample_url: str, households: pd.DataFrame) -> None:
    rows, summary = _csv(sample_url, "households", "--where", f"grid_code={GRID}", "--limit", "3")
    assert [r["code"] for r in rows] == [
        "42010600100100100010001",
        "42010600100100100010002",
        "42010600100100100010003",
    ]
    assert summary == "3 of 358; next page: --offset 3"
    assert (households["grid_code"] == GRID).sum() == 358
    assert rows[0]["wkt"] == "POINT (114.300438 30.5645401)"


def test_descending_order_ties_by_code(sample_url: str) -> None:
    args = ("households", "--where", f"grid_code={GRID}", "--order", "-size", "--limit", "3")
    rows, _ = _csv(sample_url, *args)
    assert [(r["code"], r["size"]) for r in rows] == [
        ("42010600100100100010001", "5"),
        ("42010600100100100010004", "5"),
        ("42010600100100100010016", "5"),
    ]
    last, summary = _csv(sample_url, *args, "--offset", "356")
    assert [r["size"] for r in last] == ["1", "1"]
    assert summary == "2 of 358 from offset 356"


def test_pages_are_disjoint_and_cover_the_selection(sample_url: str, households: pd.DataFrame) -> None:
    """GeoJSON pages of 100, by --offset, in descending size: together exactly the filtered households."""
    wanted = households[(households["grid_code"] == GRID) & (households["party_member"] == "false")]
    pages: list[list[dict[str, object]]] = []
    offset = 0
    while True:
        result = _run(
            sample_url, "households", "--where", f"grid_code={GRID}", "--where", "party_member=false",
            "--order", "-size", "--limit", "100", "--offset", str(offset), "--format", "geojson",
        )  # fmt: skip
        pages.append(json.loads(result.stdout)["features"])
        if "next page" not in result.stderr:
            break
        assert f"next page: --offset {offset + 100}" in result.stderr
        offset += 100
    assert [len(p) for p in pages] == [100, 100, 100, 35]
    codes = [f["id"] for page in pages for f in page]
    assert len(codes) == len(set(codes)) == len(wanted) == 335
    assert set(codes) == set(wanted["code"])
    sizes = [f["properties"]["size"] for page in pages for f in page]
    assert sizes == sorted(sizes, reverse=True)
    assert all(f["properties"]["party_member"] is False for page in pages for f in page)


def test_personal_fields_are_masked_unless_asked_for(sample_url: str) -> None:
    args = ("households", "--where", f"grid_code={GRID}", "--limit", "1")
    masked, _ = _csv(sample_url, *args)
    assert (masked[0]["contact_name"], masked[0]["contact_phone"]) == ("孙**", "136****1754")
    whole, _ = _csv(sample_url, *args, "--with-personal")
    assert (whole[0]["contact_name"], whole[0]["contact_phone"]) == ("孙凯伟", "13635361754")
    table = _run(sample_url, *args).stdout
    assert "13635361754" not in table and "孙凯伟" not in table


def test_the_table_shows_the_catalogue_labels(sample_url: str) -> None:
    shown = _run(sample_url, "communities").stdout
    spec = get_layer("communities")
    assert spec.label_zh in shown
    assert all(field.label_zh in shown for field in spec.fields)
    assert "420106001201" in shown and "青林村" in shown
    assert shown.rstrip().endswith("7 of 7")


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_the_default_table_is_read_whole_in_80_columns(
    sample_url: str, layer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is cut behind an ellipsis and no line is wider than the terminal; the rest is named."""
    monkeypatch.setattr(console, "width", 80)
    shown = _run(sample_url, layer, "--limit", "5").stdout
    assert "…" not in shown
    assert max(cell_len(line) for line in shown.splitlines()) <= 80
    spec = get_layer(layer)
    assert all(spec.get(name).label_zh in shown for name in spec.table_columns)
    left_out = [name for name in spec.field_names if name not in spec.table_columns]
    note = f"Not shown: {', '.join(left_out)} (choose columns with --fields)"
    assert note in " ".join(shown.split()) if left_out else "Not shown" not in shown


def test_the_households_table_in_80_columns(sample_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Codes and phones on one line each, a long address folded onto two, contacts masked."""
    monkeypatch.setattr(console, "width", 80)
    shown = _run(sample_url, "households", "--where", f"grid_code={GRID}", "--limit", "1").stdout
    lines = shown.splitlines()
    first = next(i for i, line in enumerate(lines) if "42010600100100100010001" in line)
    cells = [cell.strip() for cell in lines[first].split("│")[1:-1]]
    below = [cell.strip() for cell in lines[first + 1].split("│")[1:-1]]
    assert cells == ["42010600100100100010001", "幸福路4号1栋", "5", "孙**", "136****1754"]
    assert below == ["", "1单元101室", "", "", ""]
    assert "Not shown: building_code, unit, room, party_member, center_household, grid_code" in " ".join(
        shown.split()
    )


def test_fields_choose_and_order_the_columns_of_every_format(
    sample_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = (
        "households",
        "--where",
        f"grid_code={GRID}",
        "--limit",
        "2",
        "--fields",
        "contact_phone,code,size",
    )
    rows, _ = _csv(sample_url, *args)
    assert list(rows[0]) == ["contact_phone", "code", "size", "wkt"]
    assert [list(row.values()) for row in rows] == [
        ["136****1754", "42010600100100100010001", "5", "POINT (114.300438 30.5645401)"],
        ["158****7171", "42010600100100100010002", "3", "POINT (114.3005005 30.5645401)"],
    ]
    one = ("households", "--where", f"grid_code={GRID}", "--limit", "1", "--format", "geojson")
    feature = json.loads(_run(sample_url, *one, "--fields", "size,contact_name").stdout)["features"][0]
    assert feature["id"] == "42010600100100100010001"
    assert list(feature["properties"].items()) == [("size", 5), ("contact_name", "孙**")]
    assert feature["geometry"] == {"type": "Point", "coordinates": [114.300438, 30.5645401]}
    whole = json.loads(_run(sample_url, *one, "--fields", "contact_name", "--with-personal").stdout)
    assert whole["features"][0]["properties"] == {"contact_name": "孙凯伟"}
    everything = json.loads(_run(sample_url, *one).stdout)["features"][0]["properties"]
    assert list(everything) == get_layer("households").field_names
    monkeypatch.setattr(console, "width", 80)
    table = _run(sample_url, *args[:-2], "--fields", "room,party_member").stdout
    lines = table.splitlines()
    assert [cell.strip() for cell in lines[2].split("┃")[1:-1]] == ["室", "党员户"]
    assert [cell.strip() for cell in lines[3].split("┃")[1:-1]] == ["room", "party_member"]
    assert [cell.strip() for cell in lines[5].split("│")[1:-1]] == ["101室", "False"]
    assert "Not shown" not in table and "42010600100100100010001" not in table


def test_the_last_page_tells_the_total_past_the_count(sample_url: str, households: pd.DataFrame) -> None:
    """24,451 households: more than the store counts, yet the last page ends the selection."""
    total = len(households)
    assert total == 24_451
    _, first = _csv(sample_url, "households", "--limit", "10", "--fields", "code")
    assert first == "10, more follow; next page: --offset 10"
    rows, last = _csv(
        sample_url, "households", "--offset", str(total - 6), "--limit", "10", "--fields", "code"
    )
    assert [r["code"] for r in rows] == sorted(households["code"])[-6:]
    assert last == f"6 of 24,451 from offset {total - 6:,}"
    _, past = _csv(sample_url, "households", "--offset", "30000", "--fields", "code")
    assert past == "none from offset 30,000: past the last match"


def test_a_bbox_and_a_community_filter(sample_url: str) -> None:
    box = "114.300,30.564,114.3006,30.5646"
    rows, summary = _csv(sample_url, "households", "--bbox", box, "--limit", "50")
    assert len(rows) == 39 and summary == "39 of 39"
    assert rows[0]["code"] == "42010600100100100010001"
    grids, summary = _csv(sample_url, "grids", "--where", f"community_code={COMMUNITY}", "--limit", "100")
    assert [g["code"] for g in grids][:2] == [f"{COMMUNITY}001", f"{COMMUNITY}002"]
    assert summary == f"{len(grids)} of {len(grids)}"
    assert all(g["community_code"] == COMMUNITY for g in grids)
    assert "worker_phone" in grids[0] and "****" in grids[0]["worker_phone"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--where", "party_member=maybe"), "party_member must be true or false"),
        (("--where", "size=five"), "size must be a number"),
        (("--where", "floors=3"), "households has no field 'floors'"),
        (("--where", "size"), "--where needs FIELD=VALUE"),
        (("--order", "-floors"), "households cannot be ordered by 'floors'"),
        (("--bbox", "114.3,30.5"), "bbox must be four or six numbers"),
        (
            ("--fields", "code,floors"),
            "households has no field 'floors'; its fields are: code, address, building_code, unit, room, "
            "size, party_member, center_household, contact_name, contact_phone, grid_code",
        ),
        (("--fields", "size,size"), "--fields names households.size twice"),
        (("--fields", "code,,size"), "--fields needs FIELD,FIELD,..., not 'code,,size'"),
    ],
)
def test_bad_input_is_one_error_naming_it(
    sample_url: str,
    args: tuple[str, ...],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run as the `gridmap` entry point runs it: one error message, exit status 1, no traceback."""
    monkeypatch.setattr(sys, "argv", ["gridmap", "features", "households", *args, "--store", sample_url])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and named in " ".join(err.split())
    assert "Traceback" not in out + err


def test_no_whole_layer_is_read(sample_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command and an export of a subset answer through Store.query alone."""
    with open_store(sample_url) as store:
        kind = type(store)

    def whole_layer(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("Store.read was called")

    monkeypatch.setattr(kind, "read", whole_layer)
    monkeypatch.setattr(kind, "read_columns", whole_layer)
    rows, _ = _csv(
        sample_url, "households", "--where", f"grid_code={GRID}", "--bbox", "114.29,30.55,114.34,30.58",
        "--order", "-size", "--limit", "5", "--offset", "10",
    )  # fmt: skip
    assert len(rows) == 5
    out = tmp_path / "hh.geojson"
    done = runner.invoke(
        app, ["export", "households", "--grid", GRID, "-o", str(out), "--store", sample_url],
        catch_exceptions=False,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert len(pyogrio.read_dataframe(out)) == 358
    done = runner.invoke(
        app, ["export", "grids", "--community", COMMUNITY, "-o", str(out), "--store", sample_url],
        catch_exceptions=False,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert set(pyogrio.read_dataframe(out)["community_code"]) == {COMMUNITY}


def test_a_store_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gpkg"
    result = runner.invoke(app, ["features", "grids", "--store", str(missing)])
    assert result.exit_code == 1 and "no gridmap store" in str(result.exception)
    assert not missing.exists()

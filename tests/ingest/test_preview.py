"""The change set shown before an import writes; --dry-run, --yes, --fix, --skip-invalid; both stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.errors import ImportCancelled, ValidationError
from gridmap.ingest import import_file
from gridmap.stores import Store, open_store
from tests.ingest.conftest import write_text
from tests.ingest.district import X0, Y0, district

runner = CliRunner()
# S001 (working, 300 m, at X0 + 0.004, Y0 + 0.004), S002 (broken, elsewhere), S003; no power figures.
SPEAKERS = district()["speakers"].assign(power_w=float("nan"), sensitivity_db=float("nan"))


def _speakers_csv(path: Path, rows: list[tuple[str, str, float, str]]) -> Path:
    lines = ["code,name,radius_m,status,lon,lat"]
    lines += [
        f"{code},{name},{radius},{status},{X0 + 0.004:.6f},{Y0 + 0.004:.6f}"
        for code, name, radius, status in rows
    ]
    return write_text(path, "\n".join(lines) + "\n")


@pytest.fixture
def speakers_store(store: Store) -> Store:
    """A store of each kind holding the district's three speakers."""
    store.replace("speakers", SPEAKERS)
    return store


def test_change_set_counts_and_samples(tmp_path: Path, speakers_store: Store) -> None:
    # S001 as it is (same place, same values), S002 renamed, S009 new; S003 is not in the file.
    path = _speakers_csv(
        tmp_path / "s.csv",
        [
            ("S001", "广播一号", 300.0, "working"),
            ("S002", "新名字", 250.5, "broken"),
            ("S009", "新广播", 300.0, "working"),
        ],
    )
    report = import_file(speakers_store, "speakers", path, dry_run=True)
    changes = report.changes
    assert changes is not None
    assert changes.counts == {"added": 1, "changed": 1, "removed": 1, "unchanged": 1}
    assert changes.samples["added"] == ["S009"] and changes.samples["removed"] == ["S003"]
    assert changes.samples["changed"] == ["S002"] and changes.changed_fields == {"name": 1, "geometry": 1}
    assert speakers_store.read("speakers")["code"].tolist() == ["S001", "S002", "S003"]  # dry run

    appended = import_file(speakers_store, "speakers", path, mode="append", dry_run=True).changes
    assert appended is not None and appended.removed == 0 and appended.added == 1


def test_a_replace_that_removes_asks_and_a_no_changes_nothing(tmp_path: Path, speakers_store: Store) -> None:
    path = _speakers_csv(tmp_path / "three_rows.csv", [("S001", "广播一号", 300.0, "working")])
    asked: list[int] = []

    def refuse(changes: object) -> bool:
        asked.append(changes.removed)
        return False

    with pytest.raises(ImportCancelled, match="nothing was changed"):
        import_file(speakers_store, "speakers", path, confirm=refuse)
    assert asked == [2]
    assert len(speakers_store.read("speakers")) == 3
    report = import_file(speakers_store, "speakers", path, confirm=lambda _c: True)
    assert report.written == 1 and speakers_store.read("speakers")["code"].tolist() == ["S001"]


def test_cli_preview_dry_run_and_yes(tmp_path: Path, speakers_store: Store) -> None:
    url = speakers_store.url
    path = _speakers_csv(tmp_path / "three_rows.csv", [("S001", "广播一号", 300.0, "working")])
    args = ["import", "speakers", str(path), "--store", url]

    dry = runner.invoke(app, [*args, "--dry-run"], env={"COLUMNS": "200"})
    assert dry.exit_code == 0, dry.output
    assert "removed" in dry.output and "S002, S003" in dry.output
    assert "dry run: nothing was changed" in dry.output

    refused = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert refused.exit_code != 0
    assert "would remove 2 speakers" in str(refused.exception) and "--yes" in str(refused.exception)
    with open_store(url) as opened:
        assert len(opened.read("speakers")) == 3

    done = runner.invoke(app, [*args, "--yes"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "imported 1 speakers" in done.output
    with open_store(url) as opened:
        assert opened.read("speakers")["code"].tolist() == ["S001"]


@pytest.mark.parametrize(("answer", "kept"), [("n\n", 3), ("y\n", 1)])
def test_cli_asks_on_a_terminal(
    tmp_path: Path, speakers_store: Store, monkeypatch: pytest.MonkeyPatch, answer: str, kept: int
) -> None:
    monkeypatch.setattr("gridmap.cli.data._interactive", lambda: True)
    path = _speakers_csv(tmp_path / "one.csv", [("S001", "广播一号", 300.0, "working")])
    done = runner.invoke(app, ["import", "speakers", str(path), "--store", speakers_store.url], input=answer)
    assert "remove 2 speakers?" in done.output
    assert (done.exit_code == 0) == (kept == 1)
    with open_store(speakers_store.url) as opened:
        assert len(opened.read("speakers")) == kept


def _buildings_csv(path: Path) -> Path:
    box = f"POLYGON (({X0} {Y0}, {X0 + 0.0005} {Y0}, {X0 + 0.0005} {Y0 + 0.0005}, {X0} {Y0}))"
    return write_text(
        path,
        "code,floors,wkt\n"
        f'B1,2.5,"{box}"\n'
        f'B2,3层,"{box}"\n'
        f'B3,６,"{box}"\n'
        f'B4,高层,"{box}"\n'
        f'B5,7,"POINT ({X0} {Y0})"\n',
    )


def test_fix_repairs_half_floors_and_units_and_lists_them(tmp_path: Path, store: Store) -> None:
    path = _buildings_csv(tmp_path / "osm.csv")
    with pytest.raises(ValidationError) as caught:
        import_file(store, "buildings", path)
    text = str(caught.value)
    assert "'2.5' is not an integer (--fix rounds it half up)" in text
    assert "'3层' is not an integer (--fix drops the unit)" in text
    with pytest.raises(ValidationError) as still:
        import_file(store, "buildings", path, fix=True)  # 高层 and a point have no safe repair
    assert "'高层' is not an integer" in str(still.value) and "got a Point" in str(still.value)
    assert store.read("buildings").empty


def test_skip_invalid_loads_the_good_rows_and_returns_the_rest(tmp_path: Path, store: Store) -> None:
    path = _buildings_csv(tmp_path / "osm.csv")
    report = import_file(store, "buildings", path, fix=True, skip_invalid=True)
    got = store.read("buildings")
    assert got["code"].tolist() == ["B1", "B2", "B3"]
    assert got["floors"].tolist() == [3, 3, 6]
    assert [(p.row, p.reason) for p in report.repaired] == [
        (2, "repaired: '3层' → 3"),
        (3, "repaired: '６' → 6"),
        (1, "repaired: '2.5' → 3 (rounded half up)"),
    ]
    assert report.rejected is not None
    assert report.rejected["row"].tolist() == [4, 5]
    assert report.rejected["code"].tolist() == ["B4", "B5"]
    assert "floors: '高层' is not an integer" in report.rejected["reasons"].iloc[0]
    assert "geometry: expected a Polygon or MultiPolygon, got a Point" in report.rejected["reasons"].iloc[1]


def test_cli_skip_invalid_writes_the_rejects_file(tmp_path: Path, store: Store) -> None:
    path = _buildings_csv(tmp_path / "osm.csv")
    rejects = tmp_path / "out" / "rejects.csv"
    base = ["import", "buildings", str(path), "--store", store.url, "--fix", "--skip-invalid"]
    assert runner.invoke(app, base).exit_code != 0  # --skip-invalid without --rejects
    done = runner.invoke(app, [*base, "--rejects", str(rejects)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    said = "".join(done.output.split())  # the console folds long lines (the paths) where it likes
    assert "2row(s)refused" in said and str(rejects).replace(" ", "") in said
    assert "repairedrow1floors:'2.5'→3(roundedhalfup)" in said
    back = pd.read_csv(rejects, dtype=str, encoding="utf-8-sig")
    assert back["code"].tolist() == ["B4", "B5"] and back.columns[:2].tolist() == ["row", "reasons"]
    with open_store(store.url) as opened:
        assert len(opened.read("buildings")) == 3


def test_fix_repairs_annotated_yes_no(tmp_path: Path, store: Store) -> None:
    path = write_text(
        tmp_path / "hh.csv",
        f"code,党员户,中心户,lon,lat\nH1,是（老党员）,1.0,{X0},{Y0}\nH2,否,0.0,{X0},{Y0}\n",
    )
    with pytest.raises(ValidationError, match="is not yes/no"):
        import_file(store, "households", path)
    report = import_file(store, "households", path, fix=True)
    got = store.read("households")
    assert got["party_member"].tolist() == [True, False]
    assert got["center_household"].tolist() == [True, False]
    assert len(report.repaired) == 3


def test_init_creates_an_empty_store_once(tmp_path: Path) -> None:
    path = tmp_path / "new.gpkg"
    done = runner.invoke(app, ["init", "--store", str(path)])
    assert done.exit_code == 0 and "created an empty store" in done.output
    with open_store(str(path)) as opened:
        assert sum(opened.counts().values()) == 0
    again = runner.invoke(app, ["init", "--store", str(path)])
    assert again.exit_code != 0 and "already exists" in str(again.exception)


def test_a_refused_import_or_a_dry_run_leaves_no_new_store(tmp_path: Path) -> None:
    path = tmp_path / "new.gpkg"
    bad = write_text(tmp_path / "bad.csv", "code,name\nS1,x\n")
    assert runner.invoke(app, ["import", "streets", str(bad), "--store", str(path)]).exit_code != 0
    assert not path.exists()
    good = _speakers_csv(tmp_path / "s.csv", [("S001", "广播一号", 300.0, "working")])
    dry = runner.invoke(app, ["import", "speakers", str(good), "--store", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert not path.exists()


def test_a_file_without_a_column_does_not_wipe_the_field_unasked(tmp_path: Path, store: Store) -> None:
    """An export without personal fields, imported back, would clear the contacts: it must be confirmed."""
    layers = district()
    store.replace("buildings", layers["buildings"])
    store.replace("households", layers["households"])
    out = tmp_path / "households.geojson"
    runner.invoke(app, ["export", "households", "--store", store.url, "--out", str(out)])
    done = runner.invoke(
        app, ["import", "households", str(out), "--store", store.url], env={"COLUMNS": "200"}
    )
    assert done.exit_code != 0
    message = str(done.exception)
    assert "clear contact_name of 2 households (the file has no contact_name column)" in message
    assert "clear contact_phone of 2 households" in message
    assert "2 households would lose their contact_name" in done.output
    with open_store(store.url) as opened:
        assert opened.read("households")["contact_name"].notna().sum() == 2
    with_personal = tmp_path / "all.geojson"
    runner.invoke(
        app, ["export", "households", "--store", store.url, "--out", str(with_personal), "--with-personal"]
    )
    again = runner.invoke(app, ["import", "households", str(with_personal), "--store", store.url])
    assert again.exit_code == 0, again.output

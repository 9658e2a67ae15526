"""Values that cannot be stored as given: oversized integers, unprintable codes, control characters."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from gridmap.catalogue import MAX_CODE_LENGTH, get_layer
from gridmap.errors import ValidationError
from gridmap.ingest import import_file
from gridmap.ingest.values import text_problems
from gridmap.stores import Store
from tests.ingest.conftest import BUILDING, write_text

HEADER = "code,building_code,size,room,lon,lat\n"
LON, LAT = BUILDING.centroid.x, BUILDING.centroid.y


def found(store: Store, path: Path) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(ValidationError) as caught:
        import_file(store, "households", path)
    return [(p.row, p.field, p.reason) for p in caught.value.problems]


def test_integers_beyond_exact_range_are_row_errors(tmp_path: Path, gpkg_store: Store) -> None:
    rows = [f"H{i},,{size},101,{LON},{LAT}" for i, size in enumerate(("1e30", "99999999999999999999", "3"))]
    path = write_text(tmp_path / "households.csv", HEADER + "\n".join(rows) + "\n")
    assert found(gpkg_store, path) == [
        (1, "size", "'1e30' is out of range (at most 9,007,199,254,740,992)"),
        (2, "size", "'99999999999999999999' is out of range (at most 9,007,199,254,740,992)"),
    ]
    assert gpkg_store.counts()["households"] == 0


def test_codes_must_be_printable_and_short(tmp_path: Path, gpkg_store: Store) -> None:
    long = "H" * (MAX_CODE_LENGTH + 1)
    rows = [f'"H1\t",,1,101,{LON},{LAT}', f"{long},,1,101,{LON},{LAT}", f'H3,"B\x01",1,"1\x0001",{LON},{LAT}']
    path = write_text(tmp_path / "households.csv", HEADER + "\n".join(rows) + "\n")
    assert found(gpkg_store, path) == [
        (1, "code", "'H1\\t' holds control or non-printing characters"),
        (2, "code", f"longer than {MAX_CODE_LENGTH} characters"),
        (3, "building_code", "'B\\x01' holds control or non-printing characters"),
        (
            3,
            "building_code",
            "unknown building_code 'B\\x01': no such code in buildings (buildings is empty: import it first)",
        ),
        (3, "room", "holds control characters or bidirectional overrides"),
    ]


def test_text_rules_on_a_column() -> None:
    spec = get_layer("households")
    code, address = spec.get("code"), spec.get("address")
    raw = pd.Series(["H1", "H 2", "H3\n", "\u00a0H4", None, "中文编码"])
    assert [(p.row, p.reason) for p in text_problems(code, raw)] == [
        (3, "'H3\\n' holds control or non-printing characters"),
        (4, "'\\xa0H4' holds control or non-printing characters"),
    ]
    lines = pd.Series(["幸福路\n88号", "a\x00b", "tab\there"])
    assert [p.row for p in text_problems(address, lines)] == [2]


def test_cli_import_reports_the_row_not_a_traceback(tmp_path: Path) -> None:
    path = write_text(tmp_path / "households.csv", HEADER + f"H1,,1e30,101,{LON},{LAT}\n")
    gridmap = str(Path(sys.executable).parent / "gridmap")
    store = str(tmp_path / "s.gpkg")
    done = subprocess.run(
        [gridmap, "import", "households", str(path), "--store", store],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "row 1 (code H1), field size: '1e30' is out of range" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_text_is_bounded_by_the_catalogue(tmp_path: Path, gpkg_store: Store) -> None:
    """A 100,000-character address, a 5,000-digit phone, phone 12345, a bidi override and a code with
    a slash were all stored."""
    rows = [
        f"H1,,1,101,{LON},{LAT},{'幸' * 301},13812341234",
        f"H2,,1,101,{LON},{LAT},幸福路1号,12345",
        f"H3,,1,101,{LON},{LAT},幸福路\u202e号1,027-8765 4321",
        f"H/4,,1,101,{LON},{LAT},幸福路4号,138 1234 1234",
        f"H5,,1,101,{LON},{LAT},幸福路5号,{'1' * 5000}",
    ]
    header = HEADER.rstrip("\n") + ",address,contact_phone\n"
    path = write_text(tmp_path / "households.csv", header + "\n".join(rows) + "\n")
    assert [(row, field) for row, field, _reason in found(gpkg_store, path)] == [
        (1, "address"),
        (2, "contact_phone"),
        (3, "address"),
        (4, "code"),
        (5, "contact_phone"),
    ]

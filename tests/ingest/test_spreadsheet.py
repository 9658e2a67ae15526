"""Codes and phones a spreadsheet rewrote as numbers are one error per column, saying what happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridmap.errors import ValidationError
from gridmap.ingest import import_file
from gridmap.stores import Store
from tests.ingest.conftest import write_text

HEADER = "code,address,size,contact_phone,lon,lat\n"


def _import(store: Store, tmp_path: Path, rows: list[str], layer: str = "households") -> list[tuple]:
    path = write_text(tmp_path / f"{layer}.csv", HEADER + "".join(f"{row}\n" for row in rows))
    with pytest.raises(ValidationError) as caught:
        import_file(store, layer, path)
    return [(p.row, p.field, p.reason) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("rows", "field", "shown"),
    [
        (  # Excel shows a 22-digit code in scientific notation, and saves it so
            [f"4.20106001001001E+{n},和平路{n}号,3,13812341234,116.33,39.93" for n in (21, 22)],
            "code",
            "scientific notation such as '4.20106001001001E+21' (row 1)",
        ),
        (
            ["H1,和平路1号,3,13812341234.0,116.33,39.93", "H2,和平路2号,2,13912341234.0,116.33,39.93"],
            "contact_phone",
            "numbers with a decimal tail such as '13812341234.0' (row 1)",
        ),
        (  # a Wuhan landline 027-88889999 typed without separators, its 0 dropped
            ["H1,和平路1号,3,13812341234,116.33,39.93", "H2,和平路2号,2,2788889999,116.33,39.93"],
            "contact_phone",
            "numbers that lost their leading 0 such as '2788889999' (row 2)",
        ),
        (
            [
                "0101,和平路1号,3,,116.33,39.93",
                "102,和平路2号,2,,116.33,39.93",
                "0103,和平路3号,2,,116.33,39.93",
            ],
            "code",
            "codes that lost their leading zeros such as '102' (row 2)",
        ),
    ],
)
def test_a_mangled_column_is_one_error_naming_it(
    tmp_path: Path, gpkg_store: Store, rows: list[str], field: str, shown: str
) -> None:
    (found,) = _import(gpkg_store, tmp_path, rows)
    row, named, reason = found
    assert (row, named) == (None, field)
    assert shown in reason
    assert "XLSX" in reason and "Text" in reason  # what to do instead
    assert gpkg_store.counts()["households"] == 0


def test_codes_and_phones_as_typed_pass_the_check(tmp_path: Path, gpkg_store: Store) -> None:
    rows = [
        "0101,和平路1号,3,02788889999,116.33,39.93",
        "0102,和平路2号,2,01062345678,116.33,39.93",
        "0103,和平路3号,2,13812341234,116.33,39.93",
    ]
    path = write_text(tmp_path / "households.csv", HEADER + "".join(f"{row}\n" for row in rows))
    import_file(gpkg_store, "households", path)
    assert sorted(gpkg_store.read("households")["code"]) == ["0101", "0102", "0103"]

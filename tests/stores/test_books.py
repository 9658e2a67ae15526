"""What every book shares: UTC times, query-only GeoPackage readers, rows as the driver binds them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from gridmap.errors import StoreError
from gridmap.stores import open_store
from gridmap.stores.books import Book, UTCDateTime, rows_of

TIMES = sa.Table("times", sa.MetaData(), sa.Column("at", UTCDateTime))


def test_times_are_kept_in_utc_and_a_naive_time_is_refused(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}")
    TIMES.create(engine)
    beijing = dt.datetime(2026, 12, 7, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with engine.begin() as conn:
        conn.execute(TIMES.insert(), [{"at": beijing}])
        assert conn.execute(sa.text("SELECT at FROM times")).scalar() == "2026-12-07 12:30:00.000000"
        assert conn.execute(sa.select(TIMES.c.at)).scalar() == dt.datetime(2026, 12, 7, 12, 30, tzinfo=dt.UTC)
    with pytest.raises(sa.exc.StatementError, match="must carry a timezone"), engine.begin() as conn:
        conn.execute(TIMES.insert(), [{"at": dt.datetime(2026, 12, 7, 20, 30)}])


def test_a_geopackage_book_reads_query_only_and_writes_in_the_store(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.gpkg"))
    book = store.case_book()  # any book: the GeoPackage machinery is Book's
    assert isinstance(book, Book)
    with book._read() as conn, pytest.raises(sa.exc.OperationalError, match="readonly"):
        conn.execute(sa.text("CREATE TABLE nope (x)"))
    with book._write() as conn:
        conn.execute(sa.text("CREATE TABLE kept (x)"))
    with book._read() as conn:
        assert sa.inspect(conn).has_table("kept")


def test_a_failed_book_write_is_one_store_error_naming_the_file(tmp_path: Path) -> None:
    book = open_store(str(tmp_path / "s.gpkg")).case_book()
    with pytest.raises(StoreError, match=r"s\.gpkg"), book._write() as conn:
        conn.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))


def test_rows_carry_none_for_every_missing_value_and_python_datetimes() -> None:
    frame = pd.DataFrame(
        {
            "n": [1.5, float("nan")],
            "t": [pd.Timestamp("2026-12-07T12:00Z"), pd.NaT],
            "s": ["甲", None],
            "i": pd.array([3, pd.NA], dtype="Int64"),
        }
    )
    rows = rows_of(frame, ["n", "t", "s", "i"])
    assert rows[1] == {"n": None, "t": None, "s": None, "i": None}
    assert rows[0]["t"] == dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    assert type(rows[0]["t"]) is dt.datetime and rows[0]["s"] == "甲" and rows[0]["i"] == 3

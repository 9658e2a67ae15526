"""/coverage and /coverage/gaps joined from per-street parts answer exactly what the whole documents did."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from api.coverage import coverage_body, documents, gap_table, gaps_geojson, records_json
from gridmap.analysis import Analysis, analyze
from gridmap.privacy import Role, protect
from gridmap.sample import generate
from gridmap.serving import Builder, Edition, Shelf, part_file
from gridmap.stores import Store

READERS = [role for role in Role if role.allows(Role.VIEWER)]
LEVELS: list[tuple[str, ...]] = [
    ("grids", "communities", "streets"),
    ("grids",),
    ("communities",),
    ("streets",),
]


def _whole_body(analysis: Analysis, levels: tuple[str, ...], role: Role) -> bytes:
    """/coverage as it was served from whole documents: each level's rows rendered in one piece."""
    totals = {k: (None if pd.isna(v) else v) for k, v in analysis.totals().items()}
    rows = {
        "grids": protect("grids", analysis.grids, role),
        "communities": analysis.communities,
        "streets": analysis.streets,
    }
    out = [b'{"totals":', json.dumps(totals, ensure_ascii=False).encode()]
    for name in levels:
        out += [f',"{name}":'.encode(), records_json(rows[name]).encode()]
    return b"".join([*out, b"}"])


def _whole_gaps(gaps: gpd.GeoDataFrame, wanted: list[tuple[str, str, str]]) -> bytes:
    """/coverage/gaps as it was served: every gap in one Parquet document, filtered on reading."""
    columns = {
        c: pa.array(gaps[c].astype("string").to_numpy(dtype=object, na_value=None), pa.string())
        for c in ("kind", "grid_code", "description_zh", "description_en")
    }
    wkb = pa.array(shapely.to_wkb(gaps.geometry.to_numpy()), pa.binary())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({**columns, "wkb": wkb}), sink)
    return gaps_geojson(pq.read_table(pa.BufferReader(sink.getvalue()), filters=wanted or None))


def _same_answers(edition: Edition, analysis: Analysis, grid: str, *, exact: bool = True) -> None:
    """Each reader role's /coverage and every filter's gaps: byte for byte the whole documents' (`exact`),
    or, when a grid sits among another street's grids in the store's order, the same rows by street."""
    same = _same_bytes if exact else _same_rows
    for role in READERS:
        for levels in LEVELS:
            same(coverage_body(edition, levels, role), _whole_body(analysis, levels, role), (role, levels))
    kinds = sorted(set(analysis.gaps["kind"].astype(str)))
    assert {"speaker_gap", "linkage_gap"} <= set(kinds)
    for wanted in [[], [("grid_code", "=", grid)], *([("kind", "=", kind)] for kind in kinds)]:
        same(gaps_geojson(gap_table(edition, wanted)), _whole_gaps(analysis.gaps, wanted), wanted)


def _same_bytes(got: bytes, want: bytes, what: object) -> None:
    assert got == want, what


def _same_rows(got: bytes, want: bytes, what: object) -> None:
    """The same JSON but for the order of rows in each array, and those of one street side by side."""
    mine, theirs = json.loads(got), json.loads(want)
    for name, rows in mine.items():
        if isinstance(rows, list):
            key = json.dumps
            assert sorted(map(key, rows)) == sorted(map(key, theirs[name])), (what, name)
            streets = [
                row.get("street_code") for row in rows if isinstance(row, dict) and "street_code" in row
            ]
            assert streets == sorted(streets, key=streets.index), (what, name)  # each street's rows together
        else:
            assert rows == theirs[name], (what, name)
    assert mine.keys() == theirs.keys(), what


def _in(store: Store, layer: str, street: str, nth: int = 0) -> gpd.GeoDataFrame:
    """The `nth` feature of `layer` in the grids of `street` (codes of grids begin with their street's)."""
    frame = store.read(layer)
    column = "code" if layer == "grids" else "grid_code"
    return frame[frame[column].astype(str).str.startswith(street)].iloc[[nth]]


def _moved(frame: gpd.GeoDataFrame, east: float) -> gpd.GeoDataFrame:
    point = frame.geometry.iloc[0]
    return frame.set_geometry([shapely.Point(point.x + east, point.y)], crs=frame.crs)


def test_parts_join_to_the_whole_documents_edit_after_edit(store: Store, tmp_path: Path) -> None:
    """A district of two streets, edited in one street, then the other, then both: each edition renders
    only the streets redone, shares the other street's files with the previous edition, and every
    reply (each reader role, each level, gaps filtered every way) is byte for byte the whole document's."""
    store.replace_many(generate(scale=2))
    first_street, second_street = sorted(store.read("streets")["code"].astype(str))
    builder = Builder(store, Shelf(tmp_path), documents)
    edition = builder.step()
    assert edition is not None and edition.streets is None
    assert builder.live.analysis is not None
    _same_answers(edition, builder.live.analysis, str(_in(store, "grids", first_street)["code"].iloc[0]))

    grid_b = _in(store, "grids", second_street, 3)
    household_b = _in(store, "households", second_street, 5)
    edits = [
        (
            "speaker moved",
            [first_street],
            lambda: store.upsert("speakers", _moved(_in(store, "speakers", first_street), 0.002)),
        ),
        (
            "party branch removed",
            [second_street],
            lambda: store.upsert("grids", grid_b.assign(party_branch=None)),
        ),
        (
            "household registered in one street, center household in the other",
            [first_street, second_street],
            lambda: (
                store.upsert("households", household_b.assign(code="PARTS-NEW", room="新1室")),
                store.upsert(
                    "households", _in(store, "households", first_street, 7).assign(center_household=True)
                ),
            ),
        ),
        (
            "community renamed",
            [first_street],
            lambda: store.upsert("communities", store.read("communities").iloc[[0]].assign(name="新名社区")),
        ),
        (
            "grid moved into a community of the other street",
            [first_street, second_street],
            lambda: store.upsert(
                "grids",
                grid_b.assign(community_code=_in(store, "grids", first_street)["community_code"].iloc[0]),
            ),
        ),
    ]
    for label, streets, edit in edits:
        previous = edition
        edit()
        edition = builder.step()
        assert edition is not None and edition.streets == streets, label
        assert builder.live.analysis is not None
        exact = label != edits[-1][0]  # the last puts a grid of one street among the other's grids
        _same_answers(edition, builder.live.analysis, str(grid_b["code"].iloc[0]), exact=exact)
        for doc in ("grids-all", "grids-masked", "communities", "gaps"):
            for key in set(edition.order[doc]) & set(previous.order[doc]) - {*streets, ""}:
                shared = [(e.path / doc / part_file(key)).stat().st_ino for e in (edition, previous)]
                assert shared[0] == shared[1], (label, doc, key)  # the same file, not a copy


def test_rows_in_no_street_are_a_part_of_their_own(tmp_path: Path) -> None:
    """A grid whose community is unknown has no street: its rows and gaps make the part no refresh names."""
    frames = generate(scale=1)
    frames["grids"].loc[len(frames["grids"]) - 1, "community_code"] = "NOWHERE"  # the last, so in order
    analysis = analyze(frames)
    edition = Shelf(tmp_path).publish("1", documents(analysis), {})
    assert edition.order["grids-all"][-1:] == ("",) and "" in documents(analysis, []).parts["grids-all"]
    _same_answers(edition, analysis, str(frames["grids"]["code"].iloc[-1]))

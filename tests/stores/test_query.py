"""`Store.query`: pages filtered, ordered and cut by the database, on both stores alike."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmap.catalogue import LAYER_NAMES
from gridmap.errors import StoreError
from gridmap.export import geojson_features, record_features
from gridmap.frames import WGS84, conform
from gridmap.stores import Store, query
from gridmap.stores.query import PageRequest
from tests.stored import prefilled
from tests.stores.conftest import sample_layers

# 30 households on a line of longitude 116.300 … 116.329 (one per 0.001°), every third a party
# member, sizes 1, 2, 3 and rooms "0", "1", "2" repeating, codes H00 … H29; H05 has no room.
# Two buildings, one a diamond whose bounding box meets a corner box its shape does not.
N = 30


def _households() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "code": [f"H{i:02d}" for i in range(N)][::-1],  # stored out of order on purpose
            "size": [i % 3 + 1 for i in range(N)][::-1],
            "room": [None if i == 5 else str(i % 3) for i in range(N)][::-1],
            "party_member": [i % 3 == 0 for i in range(N)][::-1],
            "grid_code": ["G1" if i < 10 else "G2" for i in range(N)][::-1],
        },
        geometry=shapely.points(116.300 + np.arange(N)[::-1] * 0.001, np.full(N, 39.95)),
        crs=WGS84,
    )
    return conform("households", frame)


def _buildings() -> gpd.GeoDataFrame:
    diamond = shapely.Polygon([(116.31, 39.90), (116.32, 39.91), (116.31, 39.92), (116.30, 39.91)])
    square = shapely.box(116.33, 39.90, 116.34, 39.91)
    return conform(
        "buildings", gpd.GeoDataFrame({"code": ["B1", "B2"]}, geometry=[diamond, square], crs=WGS84)
    )


@pytest.fixture
def loaded(store: Store) -> Store:
    prefilled(
        store.url,
        "query_pages",
        lambda empty: empty.replace_many({"households": _households(), "buildings": _buildings()}),
    )
    return store


def _codes(page: query.Page) -> list[str]:
    return page.frame["code"].tolist()


def test_pages_follow_each_other_by_code(loaded: Store) -> None:
    first = loaded.query("households", limit=12)
    second = loaded.query("households", limit=12, offset=12)
    last = loaded.query("households", limit=12, offset=24)
    assert _codes(first) == [f"H{i:02d}" for i in range(12)]
    assert _codes(second) == [f"H{i:02d}" for i in range(12, 24)]
    assert _codes(last) == [f"H{i:02d}" for i in range(24, 30)]
    assert (first.more, second.more, last.more) == (True, True, False)
    assert first.matched == second.matched == last.matched == N
    assert list(first.frame.columns) == list(loaded.read("households").columns)
    assert loaded.query("households", limit=5, offset=40).frame.empty


def test_filters_by_field_values_with_their_types(loaded: Store) -> None:
    party = loaded.query("households", equals={"party_member": True})
    assert _codes(party) == [f"H{i:02d}" for i in range(0, N, 3)]
    two = loaded.query("households", equals={"size": 2, "grid_code": "G2"})
    assert _codes(two) == [f"H{i:02d}" for i in range(10, N) if i % 3 == 1]
    assert loaded.query("households", equals={"size": 2.5}).matched == 0
    assert _codes(loaded.query("households", codes=["H07", "H03", "nope"])) == ["H03", "H07"]


def test_bbox_pages_are_exact_for_points_and_shapes(loaded: Store) -> None:
    box = (116.3045, 39.9, 116.3105, 40.0)  # holds H05 … H10
    page = loaded.query("households", bbox=box, limit=4)
    assert _codes(page) == ["H05", "H06", "H07", "H08"]
    assert (page.matched, page.more) == (6, True)
    assert _codes(loaded.query("households", bbox=box, limit=4, offset=4)) == ["H09", "H10"]
    # The corner box meets the diamond's envelope but not the diamond.
    assert _codes(loaded.query("buildings", bbox=(116.300, 39.900, 116.304, 39.904))) == []
    assert _codes(loaded.query("buildings", bbox=(116.300, 39.900, 116.335, 39.905))) == ["B1", "B2"]


def test_order_by_any_field_ties_by_code_nulls_last(loaded: Store) -> None:
    ascending = loaded.query("households", order="room", limit=11)
    assert _codes(ascending)[:10] == [f"H{i:02d}" for i in range(0, N, 3)]  # room "0", by code
    descending = _codes(loaded.query("households", order="-room"))
    assert descending[:3] == ["H02", "H08", "H11"]  # room "2" (H05 has none), by code
    assert descending[-1] == "H05" == _codes(loaded.query("households", order="room"))[-1]
    assert _codes(loaded.query("households", order="-code", limit=2)) == ["H29", "H28"]


def test_count_is_capped(loaded: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("gridmap.stores.postgis", "gridmap.stores.geopackage"):
        monkeypatch.setattr(f"{module}.COUNT_LIMIT", 20)
    page = loaded.query("households", limit=5)
    assert (page.matched, page.more) == (None, True)
    assert loaded.query("households", bbox=(116.2, 39.0, 116.4, 40.0), limit=5).matched is None
    assert loaded.query("households", equals={"grid_code": "G1"}, limit=5).matched == 10
    assert loaded.query("households", bbox=(116.2, 39.0, 116.3095, 40.0), limit=5).matched == 10


@pytest.mark.parametrize("bbox", [None, (116.2, 39.0, 116.4, 40.0)])
def test_a_last_page_tells_the_total_past_the_count(
    loaded: Store, monkeypatch: pytest.MonkeyPatch, bbox: tuple[float, float, float, float] | None
) -> None:
    """Past COUNT_LIMIT, a page with nothing after it still ends the selection at offset + returned."""
    for module in ("gridmap.stores.postgis", "gridmap.stores.geopackage"):
        monkeypatch.setattr(f"{module}.COUNT_LIMIT", 20)
    last = loaded.query("households", bbox=bbox, limit=12, offset=24)
    assert (len(last.frame), last.matched, last.more) == (6, N, False)
    full = loaded.query("households", bbox=bbox, limit=5, offset=25)  # a full page, nothing after it
    assert (len(full.frame), full.matched, full.more) == (5, N, False)
    assert loaded.query("households", bbox=bbox, offset=3).matched == N  # no limit: the rest
    assert loaded.query("households", bbox=bbox, limit=5, offset=20).matched is None  # more follow
    past = loaded.query("households", bbox=bbox, limit=5, offset=40)  # the offset may lie anywhere past
    assert (len(past.frame), past.matched, past.more) == (0, None, False)
    ordered = loaded.query("households", bbox=bbox, order="-size", limit=10, offset=28)
    assert (ordered.matched, _codes(ordered)) == (N, ["H24", "H27"])  # the last of size 1, by code


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order": "nope"}, "cannot be ordered by 'nope'"),
        ({"equals": {"nope": 1}}, "has no field 'nope'"),
        ({"equals": {"size": "big"}}, "size is integer"),
        ({"equals": {"party_member": 1}}, "party_member is boolean"),
        ({"limit": -1}, "limit ≥ 0"),
    ],
)
def test_bad_queries_are_refused(loaded: Store, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        loaded.query("households", **kwargs)  # type: ignore[arg-type]


def test_offset_is_bounded_where_every_store_can_take_it(loaded: Store) -> None:
    assert len(loaded.query("households", offset=query.MAX_OFFSET, limit=3).frame) == 0
    with pytest.raises(StoreError, match="offset"):
        loaded.query("households", offset=query.MAX_OFFSET + 1, limit=3)


def _walk(store: Store, limit: int, **filters: object) -> tuple[list[str], list[query.Page]]:
    """Every page of a selection, each cut after the previous page's last code."""
    pages = [store.query("households", limit=limit, **filters)]  # type: ignore[arg-type]
    while pages[-1].more:
        last = str(pages[-1].frame["code"].iloc[-1])
        pages.append(store.query("households", limit=limit, after=last, **filters))  # type: ignore[arg-type]
    return [code for page in pages for code in _codes(page)], pages


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [f"H{i:02d}" for i in range(N)]),
        ({"bbox": (116.3045, 39.9, 116.3185, 40.0)}, [f"H{i:02d}" for i in range(5, 19)]),
        ({"equals": {"party_member": True}}, [f"H{i:02d}" for i in range(0, N, 3)]),
        (
            {"bbox": (116.3045, 39.9, 116.3185, 40.0), "equals": {"grid_code": "G2"}},
            [f"H{i:02d}" for i in range(10, 19)],
        ),
    ],
)
def test_keyset_pages_walk_the_whole_selection_once(
    loaded: Store, filters: dict[str, object], expected: list[str]
) -> None:
    codes, pages = _walk(loaded, 4, **filters)
    assert codes == expected  # the same codes as one full read, in order: none twice, none missing
    assert codes == _codes(loaded.query("households", **filters))  # type: ignore[arg-type]
    assert [len(p.frame) for p in pages] == [4] * (len(expected) // 4) + (
        [len(expected) % 4] if len(expected) % 4 else []
    )
    assert {p.matched for p in pages} == {len(expected)}  # the whole selection, on every page
    assert [p.more for p in pages] == [True] * (len(pages) - 1) + [False]


def test_keyset_pages_before_a_code_read_backwards(loaded: Store) -> None:
    page = loaded.query("households", limit=4, before="H10")
    assert (_codes(page), page.more, page.matched) == (["H06", "H07", "H08", "H09"], True, N)
    first = loaded.query("households", limit=4, before="H02")
    assert (_codes(first), first.more) == (["H00", "H01"], False)
    box = (116.3045, 39.9, 116.3185, 40.0)  # H05 … H18
    boxed = loaded.query("households", bbox=box, limit=3, before="H09")
    assert (_codes(boxed), boxed.more, boxed.matched) == (["H06", "H07", "H08"], True, 14)
    assert _codes(loaded.query("households", bbox=box, limit=3, after="H16")) == ["H17", "H18"]


def test_keyset_pages_stay_whole_when_codes_come_and_go_between_pages(loaded: Store) -> None:
    """A code inserted after the cursor is met once, one inserted before it is not, a deleted one is gone."""
    first = loaded.query("households", limit=10)
    assert _codes(first)[-1] == "H09"
    added = conform(
        "households",
        gpd.GeoDataFrame(
            {"code": ["H045", "H155"]}, geometry=shapely.points([116.3, 116.3], [39.95, 39.95]), crs=WGS84
        ),
    )
    loaded.insert("households", added)
    loaded.delete("households", ["H20"])
    seen = _codes(first)
    page = first
    while page.more:
        page = loaded.query("households", limit=10, after=seen[-1])
        seen += _codes(page)
    expected = [f"H{i:02d}" for i in range(N) if i != 20]
    expected.insert(expected.index("H16"), "H155")
    assert seen == expected  # H155 once; H045, before the cursor, not; nothing repeated
    assert len(seen) == len(set(seen))


def test_bad_cursors_are_refused(store: Store) -> None:
    """Checked before any SQL: one cursor, on code, not with an offset, and a code (no NUL)."""
    refused = [
        ({"after": "H03", "offset": 2}, "offset or by a cursor"),
        ({"after": "H03", "before": "H09"}, "not both"),
        ({"after": "H03", "order": "size"}, "code order only"),
        ({"after": "H0\x003"}, "NUL"),
    ]
    for kwargs, message in refused:
        with pytest.raises(StoreError, match=message):
            store.query("households", limit=3, **kwargs)  # type: ignore[arg-type]


# -- records: the same pages without a frame --------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": 12},
        {"limit": 12, "offset": 24},
        {"limit": 5, "after": "H07"},
        {"limit": 5, "before": "H07"},
        {"limit": 4, "order": "-size"},
        {"limit": 4, "order": "room"},
        {"equals": {"party_member": True}, "limit": 3},
        {"bbox": (116.3045, 39.9, 116.3105, 40.0), "limit": 3},
        {"bbox": (116.3045, 39.9, 116.3105, 40.0), "limit": 3, "after": "H06"},
        {"codes": ["H05", "H01", "nowhere"]},
        {"limit": 0},
    ],
)
def test_record_pages_are_the_frame_pages(loaded: Store, kwargs: dict[str, object]) -> None:
    page = loaded.query("households", **kwargs)  # type: ignore[arg-type]
    records = loaded.query_records("households", PageRequest(**kwargs))  # type: ignore[arg-type]
    assert (records.matched, records.more) == (page.matched, page.more)
    assert records.records.column("code") == _codes(page)
    assert geojson_features(page.frame) == record_features(records.records)


def test_records_keep_every_awkward_value_as_a_frame_does(store: Store) -> None:
    """Chinese text, nulls, empty strings, booleans, integers, reals and every geometry kind, as the
    frame path gives them (so an item's ETag is the same either way)."""
    store.replace_many(sample_layers())
    for layer in LAYER_NAMES:
        frame = store.read(layer)
        page = store.query_records(layer, PageRequest())
        assert record_features(page.records) == geojson_features(frame), layer
        for code in frame["code"]:
            one = store.read_records(layer, [code])
            assert record_features(one) == geojson_features(store.read(layer, codes=[code])), code
            types = {type(v) for row in one.rows for v in row} - {type(None)}
            assert types <= {str, int, float, bool}, types
    assert len(store.read_records("grids", ["nowhere"])) == 0

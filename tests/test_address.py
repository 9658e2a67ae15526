"""Address normalisation (a known answer per rule, properties) and matching against a register."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from gridmap.address import AddressIndex, house_numbers, normalize, normalize_many, place_names
from gridmap.sample import read_sample


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # full width → half width, case folded
        ("幸福路８８号３栋", "幸福路88号3栋"),
        ("ＡＢＣ大厦１号", "abc大厦1号"),
        # Chinese numerals
        ("幸福路88号三栋", "幸福路88号3栋"),
        ("幸福路十二号", "幸福路12号"),
        ("二十一", "21"),
        ("一百零五号", "105号"),
        ("幸福路二〇二号", "幸福路202号"),
        ("第三期5栋", "3期5栋"),
        ("幸福路十号", "幸福路10号"),
        # numerals inside names stay
        ("五一路10号", "五一路10号"),
        ("三里屯路1号", "三里屯路1号"),
        ("一心村5号", "一心村5号"),
        # synonyms
        ("幸福路88号3号楼", "幸福路88号3栋"),
        ("幸福路88号3幢", "幸福路88号3栋"),
        ("幸福路88号A座", "幸福路88号a栋"),
        ("幸福路88号3#楼", "幸福路88号3栋"),
        ("幸福路88号3#", "幸福路88号3栋"),
        ("幸福里5弄", "幸福里5巷"),
        ("幸福巷5号", "幸福巷5号"),
        # unit and room
        ("幸福路88号3栋2单元301室", "幸福路88号3栋"),
        ("幸福路88号3栋2-301", "幸福路88号3栋"),
        ("幸福路88号3栋301", "幸福路88号3栋"),
        ("幸福路88号3栋5楼501", "幸福路88号3栋"),
        ("幸福路88号2单元301室", "幸福路88号"),
        ("幸福路88号2-301", "幸福路88号"),
        ("幸福路88号301房", "幸福路88号"),
        ("幸福小区2单元301", "幸福小区"),
        ("幸福路88-2号", "幸福路88-2号"),
        # administrative prefix
        ("湖北省武汉市武昌区中南路街道幸福路88号3栋2单元301室", "幸福路88号3栋"),
        ("武汉市武昌区幸福路88号3栋", "幸福路88号3栋"),
        ("广西壮族自治区南宁市青秀区民族大道100号", "民族大道100号"),
        ("北京市朝阳区建国路1号", "建国路1号"),
        ("湖北省十堰市张湾区车城路10号", "车城路10号"),
        ("某某县某某镇幸福村3组5号", "幸福村3组5号"),
        ("洪山区狮子山街道办事处南湖路1号", "南湖路1号"),
        # names that end like a unit are not prefixes
        ("新区大道10号", "新区大道10号"),
        ("农贸市场5号", "农贸市场5号"),
        ("幸福小区3栋", "幸福小区3栋"),
        ("古镇路1号", "古镇路1号"),
        ("幸福东区3栋", "幸福东区3栋"),
        # spaces and punctuation
        ("幸福路 88 号, 3 栋", "幸福路88号3栋"),
        ("幸福路88号（3栋）", "幸福路88号3栋"),
        ("幸福路88号—3栋", "幸福路88号-3栋"),
        # non-Chinese addresses
        ("  12   Main St., Springfield ", "12 main st springfield"),
        ("Straße 5", "strasse 5"),
    ],
)
def test_normalize_known_answers(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


_ADDRESS_CHARS = st.sampled_from(
    list("幸福路和平街号栋幢座楼单元室房户层门期组第巷弄一二两三十百千零〇区市省县镇乡街道小 -#,.（）ab")
    + [str(d) for d in range(10)]
)
_ADDRESSES = st.lists(_ADDRESS_CHARS, max_size=30).map("".join)


@given(_ADDRESSES)
def test_normalize_is_idempotent(address: str) -> None:
    once = normalize(address)
    assert normalize(once) == once


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


@given(_ADDRESSES)
def test_full_and_half_width_normalise_alike(address: str) -> None:
    assert normalize(_full_width(address)) == normalize(address)


@given(st.lists(_ADDRESSES, max_size=8))
def test_normalize_many_equals_normalize_on_each(addresses: list[str]) -> None:
    batch = addresses + addresses[:2]  # repeated addresses take the de-duplicated path
    assert normalize_many(batch) == [normalize(a) for a in batch]


def test_normalize_many_keeps_order_and_missing_values() -> None:
    assert normalize_many(["幸福路88号三栋", None, "幸福路88号三栋"]) == [
        "幸福路88号3栋",
        None,
        "幸福路88号3栋",
    ]


def test_house_numbers() -> None:
    assert house_numbers("幸福路088号3栋") == ("88", "3")
    assert house_numbers("幸福小区") == ()


def _register() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["B1", "B2", "B3", "B4", "B5", "B6"],
            "address": [
                "幸福路88号3栋",
                "幸福路88号8栋",
                "和平街12号1栋",
                "湖北省武汉市武昌区解放大道105号",
                "光明路7号2栋",
                None,
            ],
        }
    )


@pytest.mark.parametrize(
    ("query", "code", "method"),
    [
        ("幸福路88号3栋", "B1", "exact"),
        (" 幸福路88号3栋 ", "B1", "exact"),
        ("幸福路八十八号三栋", "B1", "normalized"),
        ("武汉市幸福路88号3号楼2单元301室", "B1", "normalized"),
        ("解放大道一百零五号", "B4", "normalized"),
        ("幸福路88号3栋东门", "B1", "fuzzy"),  # extra words after the building, on the same road
        ("丁字桥社区幸福路88号3栋", "B1", "normalized"),  # a community (any) before a known road
        ("和平街12号1-2-301", "B3", "normalized"),  # building-unit-room with dashes
    ],
)
def test_match_methods(query: str, code: str, method: str) -> None:
    found = AddressIndex(_register()).match(query)
    assert found is not None
    assert (found.building_code, found.method) == (code, method)
    assert 0.85 <= found.score <= 1.0
    assert found.score == 1.0 or method == "fuzzy"


@pytest.mark.parametrize(
    "query",
    [
        "幸福路88号5栋",  # the numbers differ from every building: never a near miss
        "辛福路88号6栋",
        "辛福路88号3栋",  # a road the register lacks is never matched to another road
        "和平大街12号1栋",
        "新幸福路88号3栋",
        "幸福里88号3栋",
        "和平街13号1栋",
        "完全不同的地址",
        "",
    ],
)
def test_no_match_with_other_numbers_or_unrelated_text(query: str) -> None:
    assert AddressIndex(_register()).match(query) is None


def test_fuzzy_never_crosses_house_numbers() -> None:
    index = AddressIndex(pd.DataFrame({"code": ["B8"], "address": ["幸福路88号8栋"]}))
    assert index.match("幸福路88号3栋") is None
    assert index.match("幸福路88号8栋").building_code == "B8"


def test_a_tie_between_buildings_is_no_match() -> None:
    register = pd.DataFrame({"code": ["A", "B"], "address": ["幸福东路5号3栋", "幸福西路5号3栋"]})
    assert AddressIndex(register).match("幸福路5号3栋") is None


def _named_register() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["N1", "N2", "N3", "N4", "V1"],
            "name": ["玉兰新村4栋", "玉兰新村5栋", "紫荆里4栋", "科技大厦", "青林村2组21号"],
            "address": ["和平路151号4栋", "和平路151号5栋", "幸福路4号4栋", "光明路9号", "青林村2组21号"],
        }
    )


_PLACES = ["紫阳街道", "瑞欣社区", "青林村"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("瑞欣社区和平路151号4栋", "N1"),  # the store's community name before the road
        ("紫阳街瑞欣社区居委会和平路151号4栋", "N1"),  # short and long forms of the store's names
        ("湖北省武汉市武昌区紫阳街道瑞欣社区和平路151号4栋2单元502室", "N1"),
        ("玉兰新村4栋", "N1"),  # the registered name
        ("玉兰新村4号楼2单元502室", "N1"),
        ("玉兰新村四栋", "N1"),
        ("和平路玉兰新村4栋", "N1"),  # road and estate, no house number
        ("和平路151号玉兰新村4栋", "N1"),  # road, house number, estate and building
        ("瑞欣社区玉兰新村5栋", "N2"),
        ("紫荆里4栋", "N3"),
        ("科技大厦", "N4"),
        ("紫阳街道青林村2组21号", "V1"),
        ("青林村二组二十一号", "V1"),
    ],
)
def test_places_estates_and_registered_names(query: str, code: str) -> None:
    found = AddressIndex(_named_register(), places=_PLACES).match(query)
    assert found is not None, query
    assert (found.building_code, found.method, found.score) == (code, "normalized", 1.0)


@pytest.mark.parametrize(
    "query",
    [
        "和平里151号4栋",  # a road the register lacks, however close
        "瑞欣社区和平里151号4栋",
        "幸福路玉兰新村4栋",  # the estate is on another road
        "和平路151号紫荆里4栋",  # the estate is at another gate
        "玉兰新村6栋",  # no such building in the estate
        "青林村3组21号",  # no such group
        "科技",
    ],
)
def test_what_names_no_building_matches_nothing(query: str) -> None:
    assert AddressIndex(_named_register(), places=_PLACES).match(query) is None


def test_a_place_name_is_only_dropped_before_a_known_road() -> None:
    register = pd.DataFrame({"code": ["R1"], "address": ["和平路1号1栋"]})
    index = AddressIndex(register, places=["和平社区"])  # 和平 is also how the road begins
    assert index.match("和平路1号1栋").building_code == "R1"
    assert index.match("和平社区和平路1号1栋").building_code == "R1"


def test_suggestions_for_an_unknown_road_put_the_intended_building_first() -> None:
    index = AddressIndex(_named_register(), places=_PLACES)
    assert index.suggest("和平里151号4栋")[0].building_code == "N1"
    assert [s.building_code for s in index.suggest("玉兰新村", n=2)] == ["N1", "N2"]


def test_from_frames_knows_the_store_places() -> None:
    frames = {
        "buildings": _named_register(),
        "streets": pd.DataFrame({"code": ["S"], "name": ["紫阳街道"]}),
        "communities": pd.DataFrame({"code": ["C"], "name": ["瑞欣社区"]}),
    }
    assert AddressIndex.from_frames(frames).match("紫阳瑞欣和平路151号4栋").building_code == "N1"
    assert AddressIndex(_named_register()).match("紫阳瑞欣和平路151号4栋") is None


def test_duplicate_normalised_addresses_resolve_to_the_lowest_code() -> None:
    register = pd.DataFrame({"code": ["Z9", "A1"], "address": ["幸福路88号3栋", "幸福路88号三栋"]})
    assert AddressIndex(register).match("幸福路88号3号楼").building_code == "A1"


def test_suggest() -> None:
    index = AddressIndex(_register())
    suggestions = index.suggest("幸福路88号5栋", n=2)
    assert [s.building_code for s in suggestions] == ["B1", "B2"] or [
        s.building_code for s in suggestions
    ] == ["B2", "B1"]
    assert suggestions[0].address.startswith("幸福路88号")
    assert all(s.method == "fuzzy" and 0 < s.score <= 1 for s in suggestions)
    assert index.suggest("") == []
    assert AddressIndex(_register().iloc[:0]).suggest("幸福路") == []


_SAMPLE = read_sample()["buildings"]
_SAMPLE_CODES = _SAMPLE["code"].astype(str).tolist()
_SAMPLE_NORMALISED = [v or "" for v in normalize_many(_SAMPLE["address"].astype(str).tolist())]


# Suggestions for addresses that match nothing in the committed sample, as the
# full-register scan gave them (building codes without their common prefix 4201060).
_SAMPLE_SUGGESTIONS = {
    "无此路5号3栋": [
        ("010050060003", 0.7143),
        ("010010030003", 0.6667),
        ("010030030003", 0.6667),
        ("010030070003", 0.6667),
        ("010050070003", 0.6667),
    ],
    "粮道路999号3栋": [
        ("010060100003", 0.6667),
        ("010060100013", 0.6316),
        ("010010050003", 0.5882),
        ("010010090003", 0.5882),
        ("010040010003", 0.5882),
    ],
    "完全不同的地址": [],
    "湖北省武汉市武昌区樱花大道12号8栋2单元301室": [
        ("010030010008", 0.5882),
        ("010020020008", 0.5556),
        ("010060020008", 0.5556),
        ("010060050008", 0.5556),
        ("010020020018", 0.5263),
    ],
    "12 Main Street": [
        ("012010010002", 0.4),
        ("010010010012", 0.36),
        ("010010060012", 0.36),
        ("010030010001", 0.36),
        ("010030010002", 0.36),
    ],
    "青年村9组": [
        ("012010010010", 0.54),
        ("012010010011", 0.54),
        ("012010010012", 0.54),
        ("012010010013", 0.54),
        ("012010010014", 0.54),
    ],
}


@pytest.fixture(scope="module")
def sample_index() -> AddressIndex:
    return AddressIndex(_SAMPLE)


@pytest.mark.parametrize("query", list(_SAMPLE_SUGGESTIONS))
def test_suggestions_on_the_sample_are_the_full_scan_ones(sample_index: AddressIndex, query: str) -> None:
    assert sample_index.match(query) is None
    found = [(s.building_code.removeprefix("4201060"), s.score) for s in sample_index.suggest(query)]
    assert found == _SAMPLE_SUGGESTIONS[query]


_SAMPLE_CHARS = st.sampled_from(sorted(set("".join(_SAMPLE["address"].astype(str))) | set("号栋路村组 abx#")))


def _full_scan(query: str, n: int = 15) -> list[tuple[str, float]]:
    """The `n` best addresses of the sample by WRatio, scoring every one (the reference)."""
    found = process.extract(normalize(query), _SAMPLE_NORMALISED, scorer=fuzz.WRatio, limit=n)
    return [(_SAMPLE_CODES[i], round(score, 6)) for _, score, i in found if score > 0]


@settings(max_examples=200, deadline=None)
@given(st.lists(_SAMPLE_CHARS, min_size=1, max_size=24).map("".join))
def test_the_bounded_ranking_equals_a_full_scan(sample_index: AddressIndex, query: str) -> None:
    """`suggest` ranks the register by scoring only what could reach the top: the same list as scoring all."""
    normalised = normalize(query)
    ranked = sample_index._ranked(normalised, 15) if normalised else []
    assert [(_SAMPLE_CODES[i], round(score, 6)) for i, score in ranked if score > 0] == (
        _full_scan(query) if normalised else []
    )


def _city_register(n: int = 20_000) -> pd.DataFrame:
    names = ["幸福", "和平", "解放", "建设", "人民", "友谊", "光明", "胜利", "团结", "民主"]
    roads = [f"{a}{b}路" for a in names for b in "东西南北中新"]
    per_road = n // len(roads) // 2 + 1
    addresses = [
        f"{roads[i % len(roads)]}{(i // len(roads)) % per_road + 1}号{i // (len(roads) * per_road) + 1}栋"
        for i in range(n)
    ]
    return pd.DataFrame({"code": [f"B{i:05d}" for i in range(n)], "address": addresses})


@pytest.mark.timing
def test_a_batch_of_10000_matches_within_two_seconds() -> None:
    register = _city_register()
    addresses = register["address"].tolist()
    queries = []
    for i in range(10_000):
        address = addresses[(i * 7919) % len(addresses)]
        queries.append(
            [
                address,
                f"湖北省武汉市武昌区{address}2单元301室",
                address.replace("栋", "号楼"),
                address.replace("号", "号东门", 1),  # extra words: fuzzy on the same road
            ][i % 4]
        )
    start = time.perf_counter()
    index = AddressIndex(register)
    results = index.match_many(queries)
    elapsed = time.perf_counter() - start
    assert elapsed <= 2.0
    found = [r for r in results if r is not None]
    assert len(found) >= 9_500
    assert {r.method for r in found} == {"exact", "normalized", "fuzzy"}
    assert results == [index.match(q) for q in queries[:200]] + results[200:]


# --- Real names: communities and streets named after their roads (issue 22) ------------------------

_ROADS = pd.DataFrame(
    {
        "code": ["W3", "W15", "D25", "Z8", "Z10", "S8", "B8", "H6"],
        "name": [
            "武铁佳苑3栋",
            "武铁佳苑5栋",
            "东门小区5栋",
            "中山花园1栋",
            "中华小区1栋",
            "山东大厦",
            "北京花园1栋",
            "华中里6栋",
        ],
        "address": [
            "武铁路3号1栋",
            "武铁路15号5栋",
            "大东门路25号5栋",
            "中山路8号",
            "中华路10号",
            "山东路8号1栋",
            "北京路8号1栋",
            "华中路6号6栋",
        ],
    }
)
_ROAD_PLACES = ["中华路街道", "大东门街道", "武铁社区", "大东门社区", "中山路社区", "华中社区"]
# Street, community per building (the areas a lookup derives from the grids).
_ROAD_AREAS = [
    ("中华路街道", "武铁社区"),
    ("中华路街道", "武铁社区"),
    ("大东门街道", "大东门社区"),
    ("中华路街道", "中山路社区"),
    ("中华路街道", "中山路社区"),
    ("大东门街道", "大东门社区"),
    ("大东门街道", "大东门社区"),
    ("中华路街道", "华中社区"),
]


@pytest.fixture(scope="module")
def road_index() -> AddressIndex:
    return AddressIndex(_ROADS, places=_ROAD_PLACES, areas=_ROAD_AREAS)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("武铁社区武铁路15号5栋", "W15"),  # the community is named after the road
        ("武铁武铁路15号5栋", "W15"),
        ("武铁社区居委会武铁路十五号五栋", "W15"),
        ("大东门社区大东门路25号5栋", "D25"),
        ("大东门街道大东门社区大东门路25号5栋2单元301室", "D25"),
        ("湖北省武汉市武昌区大东门街道大东门路25号5幢", "D25"),
        ("中山路社区中山路8号", "Z8"),
        ("中华路街道中华路10号", "Z10"),  # a street named after its road
        ("中华路街道中山路社区中山路8号", "Z8"),
        ("中华路中山路社区中山路8号", "Z8"),
        ("华中社区华中路6号6栋", "H6"),
        ("武铁社区武铁佳苑5栋", "W15"),
        ("大东门街道山东路8号1号楼", "S8"),  # 山东 is a province, here the road's first characters
        ("北京路8号1号楼", "B8"),  # was 路8号1栋, which 山东路8号1栋 also became
        ("河南省北京路8号1栋", "B8"),
        ("北京花园1栋", "B8"),
        ("端州区大东门路25号5栋", "D25"),  # a county the register does not know, with its suffix
        ("武贴社区武铁路15号5栋", "W15"),  # a mistyped community: the road decides
        ("三门社区武铁路15号5栋", "W15"),  # one spelt with a digit (3门社区): a name, not a house number
    ],
)
def test_places_sharing_their_road_s_name(road_index: AddressIndex, query: str, code: str) -> None:
    found = road_index.match(query)
    assert found is not None, query
    assert (found.building_code, found.disagrees) == (code, ())


def test_a_community_the_building_does_not_lie_in_is_reported(road_index: AddressIndex) -> None:
    found = road_index.match("大东门社区武铁路15号5栋")
    assert found is not None
    assert (found.building_code, found.disagrees) == ("W15", ("大东门社区",))
    found = road_index.match("大东门街道武铁社区武铁路15号5栋")
    assert found is not None and found.disagrees == ("大东门街道",)
    # Without areas nothing can disagree.
    assert AddressIndex(_ROADS, places=_ROAD_PLACES).match("大东门社区武铁路15号5栋").disagrees == ()


def test_a_street_form_is_not_a_community_form() -> None:
    names = place_names(["沈巷镇", "沈巷社区", "紫阳街道"])
    assert names["沈巷社区"] == frozenset({"沈巷社区"})
    assert names["沈巷镇"] == frozenset({"沈巷镇"})
    assert names["沈巷"] == frozenset({"沈巷镇", "沈巷社区"})
    assert "紫阳社区" not in names and "紫阳街" in names


@pytest.mark.parametrize(
    "query",
    [
        "武铁社区武铁里15号5栋",  # a road the register lacks, behind a known community
        "中山路社区中山里8号",
        "路8号1栋",
        "武铁社区",
    ],
)
def test_a_place_never_makes_an_unknown_road_known(road_index: AddressIndex, query: str) -> None:
    assert road_index.match(query) is None


# --- Placing a house number the register lacks -------------------------------------------------------

_SIDES = pd.DataFrame(
    {
        "code": ["O1", "O3", "O7", "E2", "E6", "O11", "O11b", "V5"],
        "address": [
            "解放路1号1栋",
            "解放路3号1栋",
            "解放路7号1栋",
            "解放路2号",
            "解放路6号2栋",
            "解放路11号1栋",
            "解放路11号2栋",
            "单边街5号",
        ],
    }
)


@pytest.mark.parametrize(
    ("query", "numbers", "codes", "between"),
    [
        ("解放路5号", (3, 7), ("O3", "O7"), True),  # odd side: 3 and 7, not 4 and 6
        ("解放路4号2栋", (2, 6), ("E2", "E6"), True),
        ("解放路9号", (7, 11), ("O7", "O11", "O11b"), True),
        ("解放路11号3栋", (11,), ("O11", "O11b"), True),  # the house is registered, its building not
        ("解放路13号", (11,), ("O11", "O11b"), False),  # past the last odd number
        ("湖北省武汉市解放路五号", (3, 7), ("O3", "O7"), True),
        ("单边街8号", (5,), ("V5",), False),  # the register holds only the other side of this road
    ],
)
def test_a_number_is_placed_between_its_side_s_neighbours(
    query: str, numbers: tuple[int, ...], codes: tuple[str, ...], between: bool
) -> None:
    placed = AddressIndex(_SIDES).place(query)
    assert placed is not None
    assert (placed.numbers, placed.codes, placed.between) == (numbers, codes, between)


@pytest.mark.parametrize("query", ["解放里5号", "新解放路5号", "解放路", "光明小区3栋", "完全不同"])
def test_a_road_the_register_lacks_places_nothing(query: str) -> None:
    assert AddressIndex(_SIDES).place(query) is None

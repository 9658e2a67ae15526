"""A corpus of addresses as people write them, generated from a district's own layers.

Each building of the district is written in the forms a hotline operator, a
政务 app or a spreadsheet uses (prefixes of province, city, district, street
and community; the estate's name; 号楼/幢/#; Chinese and full-width numerals;
unit and room in words or with dashes), so the match rate of every form can
be measured on any generated district (`gridmap.sample.generate(seed=…)`),
not only on the committed one. Roads the register lacks (和平里 for 和平路, a
mistyped character, an extra prefix) are written with a real house and
building number: they must match nothing.

`tests/test_address_corpus.py` asserts the acceptance rates;
`python -m bench.bench_address` writes the per-form table to bench/RESULTS.md.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from gridmap.address import AddressIndex
from gridmap.assignment import building_grids

__all__ = ["Case", "FormResult", "building_forms", "corpus", "evaluate", "unknown_roads"]

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_CN_DIGITS = "零一二三四五六七八九"
_URBAN = re.compile(r"^(?P<road>\D+?)(?P<house>\d+)号(?P<building>\d+)栋$")
_VILLAGE = re.compile(r"^(?P<village>\D+?)(?P<group>\d+)组(?P<house>\d+)号$")
_ESTATE = re.compile(r"^(?P<estate>\D+?)(?P<building>\d+)栋$")
_CITY = "湖北省武汉市武昌区"
# Road suffixes another road of the same name may carry (和平路 → 和平里, 和平街 …).
_OTHER_SUFFIXES = ("里", "街", "路", "巷", "大道", "东路", "西路", "一路")


@dataclass(frozen=True)
class Case:
    """One address of the corpus: its form, its text, and the building it names (None: none)."""

    form: str
    text: str
    code: str | None


@dataclass(frozen=True)
class FormResult:
    """How one form fared: cases, right answers, wrong buildings, wrong grids from exact matches."""

    form: str
    cases: int
    correct: int
    wrong: int
    wrong_grid_exact: int

    @property
    def rate(self) -> float:
        """Share of cases answered right (the building named, or nothing for an unknown road)."""
        return self.correct / self.cases if self.cases else 1.0


def _chinese(number: int) -> str:
    """12 → 十二, 151 → 一百五十一, 40 → 四十 (as people write house numbers out)."""
    if number < 10:
        return _CN_DIGITS[number]
    if number < 20:
        return "十" + (_CN_DIGITS[number % 10] if number % 10 else "")
    if number < 100:
        return _CN_DIGITS[number // 10] + "十" + (_CN_DIGITS[number % 10] if number % 10 else "")
    rest = number % 100
    tail = "" if rest == 0 else ("零" + _CN_DIGITS[rest]) if rest < 10 else _chinese(rest)
    if 10 <= rest < 20:
        tail = "一" + tail
    return _CN_DIGITS[number // 100] + "百" + tail


Former = Callable[[dict[str, str], random.Random], str | None]


def _room(rng: random.Random) -> tuple[int, int]:
    return rng.randint(1, 3), rng.randint(1, 18) * 100 + rng.randint(1, 4)


def _urban_forms() -> dict[str, Former]:
    """Forms of an urban building: road, house number, building number, estate, street, community."""

    def unit_room(p: dict[str, str], rng: random.Random) -> str:
        unit, room = _room(rng)
        return f"{p['address']}{unit}单元{room}室"

    def full(p: dict[str, str], rng: random.Random) -> str:
        unit, room = _room(rng)
        return f"{_CITY}{p['street']}{p['address']}{unit}单元{room}室"

    def dashes(p: dict[str, str], rng: random.Random) -> str:
        unit, room = _room(rng)
        return f"{p['road']}{p['house']}号{p['building']}-{unit}-{room}"

    def estate_room(p: dict[str, str], rng: random.Random) -> str:
        unit, room = _room(rng)
        return f"{p['estate']}{p['building']}号楼{unit}单元{room}室"

    def spaced(p: dict[str, str], rng: random.Random) -> str:
        return f"武汉市 武昌区 {p['road']}{p['house']}号，{p['building']}栋"

    return {
        "as registered": lambda p, rng: p["address"],
        "with unit and room": unit_room,
        "province, city, district, street prefix": full,
        "street before the road": lambda p, rng: p["street"] + p["address"],
        "community before the road": lambda p, rng: p["community"] + p["address"],
        "street and community before the road": lambda p, rng: p["street"] + p["community"] + p["address"],
        "community committee (居委会) before the road": lambda p, rng: (
            p["community"] + "居委会" + p["address"]
        ),
        "building's registered name (estate + number)": lambda p, rng: p["name"],
        "estate, 号楼, unit and room": estate_room,
        "road and estate, no house number": lambda p, rng: f"{p['road']}{p['estate']}{p['building']}栋",
        "road, house number, estate, building": lambda p, rng: (
            f"{p['road']}{p['house']}号{p['estate']}{p['building']}栋"
        ),
        "community and estate": lambda p, rng: p["community"] + p["name"],
        "号楼 for 栋": lambda p, rng: f"{p['road']}{p['house']}号{p['building']}号楼",
        "幢 for 栋": lambda p, rng: f"{p['road']}{p['house']}号{p['building']}幢",
        "# for 栋": lambda p, rng: f"{p['road']}{p['house']}号{p['building']}#楼",
        "Chinese numerals": lambda p, rng: (
            f"{p['road']}{_chinese(int(p['house']))}号{_chinese(int(p['building']))}栋"
        ),
        "full-width digits": lambda p, rng: p["address"].translate(_FULL_WIDTH),
        "building-unit-room with dashes": dashes,
        "spaces and punctuation": spaced,
    }


def _village_forms() -> dict[str, Former]:
    """Forms of a village house: village, group (组), house number, street and committee prefixes."""

    def chinese(p: dict[str, str], rng: random.Random) -> str:
        return f"{p['village']}{_chinese(int(p['group']))}组{_chinese(int(p['house']))}号"

    return {
        "village: as registered": lambda p, rng: p["address"],
        "village: street and district prefix": lambda p, rng: _CITY + p["street"] + p["address"],
        "village: Chinese numerals": chinese,
        "village: full-width digits": lambda p, rng: p["address"].translate(_FULL_WIDTH),
    }


def _parts(frames: Mapping[str, gpd.GeoDataFrame]) -> list[dict[str, str]]:
    """Per building: code, address, name, and its parts (road, house, building, estate, street, community)."""
    grids = frames["grids"].set_index("code")
    communities = frames["communities"].set_index("code")
    streets = frames["streets"].set_index("code")
    buildings = frames["buildings"]
    positions = building_grids(frames["grids"], buildings)
    out = []
    for code, name, address, pos in zip(
        buildings["code"], buildings["name"], buildings["address"], positions.tolist(), strict=True
    ):
        if pos < 0 or not isinstance(address, str):
            continue
        community = communities.loc[grids["community_code"].iloc[pos]]
        part = {
            "code": str(code),
            "address": address,
            "name": str(name),
            "community": str(community["name"]),
            "street": str(streets.loc[community["street_code"], "name"]),
        }
        urban, village, estate = _URBAN.match(address), _VILLAGE.match(address), _ESTATE.match(str(name))
        if urban is not None and estate is not None:
            out.append({**part, **urban.groupdict(), "estate": estate["estate"], "kind": "urban"})
        elif village is not None:
            out.append({**part, **village.groupdict(), "kind": "village"})
    return out


def building_forms(frames: Mapping[str, gpd.GeoDataFrame], seed: int = 13) -> list[Case]:
    """Every building written in every form that applies to it."""
    rng = random.Random(seed)
    urban, village = _urban_forms(), _village_forms()
    cases = []
    for part in _parts(frames):
        for form, write in (urban if part["kind"] == "urban" else village).items():
            text = write(part, rng)
            if text:
                cases.append(Case(form, text, part["code"]))
    return cases


def unknown_roads(frames: Mapping[str, gpd.GeoDataFrame], seed: int = 17) -> list[Case]:
    """Every urban building's house and building number on a road the register lacks (expect no match)."""
    rng = random.Random(seed)
    parts = [p for p in _parts(frames) if p["kind"] == "urban"]
    roads = {p["road"] for p in parts}
    characters = sorted({c for r in roads for c in r} | set("东西南北新中"))
    cases = []
    for p in parts:
        stem = re.sub(r"(大道|路|街|巷)$", "", p["road"])
        candidates = [stem + s for s in _OTHER_SUFFIXES]
        i = rng.randrange(len(stem))
        candidates += [stem[:i] + c + stem[i + 1 :] + p["road"][len(stem) :] for c in characters]
        candidates += ["新" + p["road"], p["road"][:-1] + "东" + p["road"][-1]]
        unknown = [r for r in candidates if r not in roads]
        road = rng.choice(unknown)
        form = rng.choice(["{road}{house}号{building}栋", "{community}{road}{house}号{building}栋"])
        cases.append(Case("road not in the register", form.format(**{**p, "road": road}), None))
    return cases


def corpus(frames: Mapping[str, gpd.GeoDataFrame]) -> list[Case]:
    """The whole corpus of a district: its buildings in every form, and roads it lacks."""
    return building_forms(frames) + unknown_roads(frames)


def evaluate(
    index: AddressIndex, building_grid: Mapping[str, int], cases: Sequence[Case]
) -> list[FormResult]:
    """Per form, in the corpus's order: how many cases `index` answered right.

    `building_grid` gives each building code's grid position (what a lookup answers),
    so a match to another building in the same grid is wrong but not a wrong grid.
    """
    matches = index.match_many([c.text for c in cases])
    tally: dict[str, list[int]] = {}
    for case, match in zip(cases, matches, strict=True):
        counts = tally.setdefault(case.form, [0, 0, 0, 0])
        counts[0] += 1
        found = match.building_code if match is not None else None
        counts[1] += found == case.code
        counts[2] += found is not None and found != case.code
        if match is not None and case.code is not None and match.method in ("exact", "normalized"):
            counts[3] += building_grid[match.building_code] != building_grid[case.code]
    return [FormResult(form, *counts) for form, counts in tally.items()]


def representative_points(buildings: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of a point inside every building (its representative point)."""
    points = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object))
    return shapely.get_x(points), shapely.get_y(points)

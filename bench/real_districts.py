"""Test districts on real place names: streets, 社区 and 村 of one real county, from jionlp's dictionary.

The sample district's invented names never share characters between a
community and its roads; real ones do all the time (武铁社区 on 武铁路,
中山路社区 on 中山路, a 街道 named after its main road). A district here takes
a seeded sample of one real county's 街道/镇/乡 and their 社区 and 村 (jionlp's
location dictionary, read from the installed package, never copied into this
repository) and names roads the way real roads are named: after the community
(武铁 → 武铁路), after a neighbouring community or the street (a road shared
with the neighbour, numbered on along it), or generically (人民路, 解放大道 …).

House numbers run along each road, odd on one side and even on the other;
some roads are grid borders (odd side in one grid, even side in another),
others cross grids at a number. The register skips some numbers, and
`DistrictPlan.held_out` lists registered houses left out of the register on
purpose, with the grid they lie in: an interpolated lookup must find it.
"""

from __future__ import annotations

import importlib.util
import random
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import shapely

from gridmap.frames import WGS84, conform

__all__ = ["County", "DistrictPlan", "House", "counties", "real_district"]

_SUFFIX = re.compile(r"(?:社区居委会|社区居民委员会|居委会|社区|村民委员会|村委会|村)$")
_STREET_KINDS = ("街道", "镇", "乡")
_ROAD_SUFFIXES = ("路", "路", "路", "街", "大道", "巷")
_SIDE_SUFFIXES = ("东路", "西路", "南路", "北路", "一路", "二路", "街", "巷")
_GENERIC_STEMS = (
    "人民", "解放", "建设", "中山", "和平", "新华", "胜利", "友谊", "文化", "东风", "光明", "青年",
    "学院", "工业", "环城", "滨江", "沿江", "体育", "公园", "车站", "民主", "团结", "复兴", "长江",
    "北京", "上海", "天津", "重庆", "山东", "山西", "河南", "湖南", "江西", "广东", "四川", "云南",
)  # fmt: skip
_ESTATE_SUFFIXES = ("小区", "花园", "新村", "佳苑", "家园", "公寓", "华庭", "里")
_COMMON = "东西南北中新大小山水湖江河桥门城园林花金银长安华平"
_ORIGIN = (114.30, 30.55)
_CELL = 0.012  # degrees per community cell
_GRIDS_PER_COMMUNITY = 3


@dataclass(frozen=True)
class County:
    """A real county of the dictionary: province, city, name, code, and its towns with their communities."""

    province: str
    city: str
    name: str
    code: str
    towns: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class House:
    """A house number on a road and the grid it lies in (for houses held out of the register)."""

    road: str
    number: int
    grid_code: str
    community: str
    street: str


@dataclass
class DistrictPlan:
    """A generated district: its four lookup layers, and what the corpus needs to write its addresses."""

    county: County
    frames: dict[str, gpd.GeoDataFrame]
    parts: list[dict[str, str]]
    """Per registered building: code, address, name, road, house, building, estate, community, street…"""
    held_out: list[House] = field(default_factory=list)
    beyond: list[House] = field(default_factory=list)
    """Numbers past the last registered one of a road (between no two neighbours)."""


def _dictionary() -> Path:
    """jionlp's location dictionary inside the installed package (not imported: importing it is slow)."""
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jionlp is not installed: pip install 'gridmap[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary" / "china_location.zip"


@lru_cache(maxsize=1)
def counties() -> tuple[County, ...]:
    """Every county of the dictionary with its 街道/镇/乡 and their 社区/村 (five tab-indented levels)."""
    with zipfile.ZipFile(_dictionary()) as archive:
        lines = archive.read("china_location.txt").decode("utf-8").splitlines()
    out: list[County] = []
    province = city = ""
    county: tuple[str, str] | None = None
    towns: list[tuple[str, list[str]]] = []

    def close() -> None:
        if county is not None:
            kept = tuple((t, tuple(v)) for t, v in towns if v)
            out.append(County(province, city, county[0], county[1], kept))

    for line in lines:
        depth = len(line) - len(line.lstrip("\t"))
        cells = line.strip().split("\t")
        if not cells[0]:
            continue
        if depth <= 2:
            if depth == 2:
                close()
                county, towns = (cells[0], cells[1] if len(cells) > 1 else ""), []
            elif depth == 1:
                city = cells[0]
            else:
                province = cells[0]
        elif depth == 3:
            towns.append((cells[0], []))
        elif depth == 4 and towns:
            towns[-1][1].append(cells[0])
    close()
    return tuple(out)


def base_name(name: str) -> str:
    """武铁社区 → 武铁, 青林村 → 青林, 中山路社区 → 中山路."""
    return _SUFFIX.sub("", name)


def _urban_counties(streets: int, per_street: int) -> list[County]:
    """Counties with at least `streets` 街道 holding `per_street` 社区 each (the urban districts)."""
    found = []
    for c in counties():
        usable = [
            t
            for t, names in c.towns
            if t.endswith(_STREET_KINDS) and sum(n.endswith("社区") for n in names) >= per_street
        ]
        if len(usable) >= streets:
            found.append(c)
    return found


def real_district(
    seed: int,
    *,
    streets: int = 4,
    per_street: int = 6,
    held_out: int = 60,
    county_name: str | None = None,
) -> DistrictPlan:
    """A district on `streets` real 街道 of one real county, `per_street` communities each (a village too).

    The county is drawn by `seed` among the urban ones, or is the one whose
    province, city and name end with `county_name` (湖北省武汉市武昌区, 武汉市武昌区).
    """
    rng = random.Random(seed)
    urban = _urban_counties(streets, per_street)
    if county_name is not None:
        named = [c for c in urban if (c.province + c.city + c.name).endswith(county_name)]
        if len(named) != 1:
            raise ValueError(f"{county_name!r} names {len(named)} counties with {streets} urban streets")
        county = named[0]
    else:
        county = rng.choice(urban)
    towns = [t for t in county.towns if t[0].endswith(_STREET_KINDS)]
    chosen = [t for t in towns if sum(n.endswith("社区") for n in t[1]) >= per_street]
    chosen = sorted(rng.sample(chosen, streets), key=towns.index)
    builder = _Builder(rng, county)
    # A street without a 村 of its own takes one of the county's (urban districts have few).
    county_villages = sorted({n for _, names in county.towns for n in names if n.endswith("村")})
    for s, (town, names) in enumerate(chosen):
        urban = [n for n in names if n.endswith("社区") and len(base_name(n)) >= 2]
        villages = [n for n in names if n.endswith("村") and len(base_name(n)) >= 2] or [
            n for n in county_villages if len(base_name(n)) >= 2 and n not in builder.community_names
        ]
        picked = rng.sample(urban, per_street) + (rng.sample(villages, 1) if villages else [])
        builder.street(s, town, [n for n in picked if n not in builder.community_names])
    return builder.finish(held_out)


class _Builder:
    """Lays communities out in cells (a row per street), grids as strips, buildings along roads."""

    def __init__(self, rng: random.Random, county: County) -> None:
        self.rng = rng
        self.county = county
        self.rows: dict[str, list[dict[str, object]]] = {k: [] for k in ("streets", "communities", "grids")}
        self.buildings: list[dict[str, object]] = []
        self.parts: list[dict[str, str]] = []
        self.community_names: set[str] = set()
        self.road_names: set[str] = set()
        self.estates: set[str] = set()
        self.next_number: dict[str, int] = {}
        self.houses: list[tuple[House, int]] = []  # (house, buildings written) of every registered house
        self.skipped: list[House] = []

    def street(self, s: int, town: str, names: list[str]) -> None:
        code = f"{self.county.code[:6]}{s + 1:03d}"
        cells = []
        previous_road: str | None = None
        street_base = re.sub(r"(街道|镇|乡)$", "", town)
        for c, name in enumerate(names):
            self.community_names.add(name)
            community_code = f"{code}{c + 1:03d}"
            x0, y0 = _ORIGIN[0] + c * _CELL, _ORIGIN[1] - s * _CELL
            cell = shapely.box(x0, y0 - _CELL, x0 + _CELL, y0)
            cells.append(cell)
            kind = "village" if name.endswith("村") else "community"
            self.rows["communities"].append(
                {"code": community_code, "name": name, "street_code": code, "kind": kind, "geometry": cell}
            )
            grids = self._grids(community_code, name, x0, y0)
            where = {"community": name, "street": town}
            if kind == "village":
                self._village(name, grids, where)
            else:
                roads = self._roads(name, street_base, previous_road, names[c + 1 : c + 2])
                for road in roads:
                    self._road(road, grids, where)
                previous_road = roads[0]
        self.rows["streets"].append({"code": code, "name": town, "geometry": shapely.union_all(cells)})

    def _grids(
        self, community_code: str, name: str, x0: float, y0: float
    ) -> list[tuple[str, shapely.Polygon]]:
        out = []
        width = _CELL / _GRIDS_PER_COMMUNITY
        for g in range(_GRIDS_PER_COMMUNITY):
            grid_code = f"{community_code}{g + 1:03d}"
            box = shapely.box(x0 + g * width, y0 - _CELL, x0 + (g + 1) * width, y0)
            self.rows["grids"].append(
                {
                    "code": grid_code,
                    "name": f"{name}第{g + 1}网格",
                    "community_code": community_code,
                    "party_branch": f"{name}第{g + 1}网格党支部",
                    "geometry": box,
                }
            )
            out.append((grid_code, box))
        return out

    def _unique_road(self, candidates: list[str]) -> str | None:
        for road in candidates:
            if road not in self.road_names:
                self.road_names.add(road)
                return road
        return None

    def _roads(self, name: str, street_base: str, previous: str | None, following: list[str]) -> list[str]:
        """The community's own road, then a neighbour's or the street's, then a generic one."""
        base = base_name(name)
        roads: list[str] = []
        own = base if base.endswith(("路", "街", "巷", "大道")) else None
        suffixes = list(_ROAD_SUFFIXES)
        self.rng.shuffle(suffixes)
        road = own if own is not None and own not in self.road_names else None
        if road is not None:
            self.road_names.add(road)
        road = road or self._unique_road([base + s for s in suffixes + list(_SIDE_SUFFIXES)])
        if road is not None:
            roads.append(road)
        if previous is not None and self.rng.random() < 0.5:
            roads.append(previous)  # the neighbour's road goes on through this community
        else:
            neighbour = base_name(following[0]) if following else street_base
            sides = list(_SIDE_SUFFIXES)
            self.rng.shuffle(sides)
            extra = self._unique_road([neighbour + s for s in ["路", *sides]])
            if extra is not None:
                roads.append(extra)
        stems = list(_GENERIC_STEMS)
        self.rng.shuffle(stems)
        generic = self._unique_road([s + self.rng.choice(("路", "街", "大道", "巷")) for s in stems])
        if generic is not None:
            roads.append(generic)
        return roads

    def _estate(self, stems: list[str]) -> str:
        for _ in range(50):
            estate = self.rng.choice(stems) + self.rng.choice(_ESTATE_SUFFIXES)
            if estate not in self.estates and estate not in self.road_names:
                self.estates.add(estate)
                return estate
        estate = f"{stems[0]}{len(self.estates)}号院"
        self.estates.add(estate)
        return estate

    def _road(self, road: str, grids: list[tuple[str, shapely.Polygon]], where: dict[str, str]) -> None:
        """Houses numbered on along `road`: both sides in one grid, or the road a border between two."""
        first = self.next_number.get(road, 0)
        count = self.rng.randint(8, 14)  # pairs of numbers (odd, even) in this community
        self.next_number[road] = first + 2 * count + 2 * self.rng.randint(0, 3)
        a, b = self.rng.sample(range(len(grids)), 2)
        sided = self.rng.random() < 0.5
        split = self.rng.randint(count // 3, 2 * count // 3)
        stems = [base_name(where["community"]), re.sub(r"(大道|路|街|巷)$", "", road) or road]
        for k in range(count):
            for parity in (1, 2):
                number = first + 2 * k + parity
                g = (a if parity == 1 else b) if sided else (a if k < split else b)
                house = House(road, number, grids[g][0], where["community"], where["street"])
                if self.rng.random() < 0.2:
                    self.skipped.append(house)  # a number the register never held
                    continue
                estate = self._estate(stems)
                n = self.rng.randint(1, 4)
                for building in range(1, n + 1):
                    self._building(grids[g][1], f"{road}{number}号{building}栋", f"{estate}{building}栋", {
                        **where, "road": road, "house": str(number), "building": str(building),
                        "estate": estate, "kind": "urban",
                    })  # fmt: skip
                self.houses.append((house, n))

    def _village(self, name: str, grids: list[tuple[str, shapely.Polygon]], where: dict[str, str]) -> None:
        for group in range(1, 2 * _GRIDS_PER_COMMUNITY + 1):
            road = f"{name}{group}组"
            grid_code, box = grids[(group - 1) // 2]
            for number in range(1, self.rng.randint(8, 16)):
                address = f"{road}{number}号"
                self._building(box, address, address, {
                    **where, "road": road, "house": str(number), "group": str(group), "village": name,
                    "kind": "village",
                })  # fmt: skip
                self.houses.append((House(road, number, grid_code, where["community"], where["street"]), 1))

    def _building(self, box: shapely.Polygon, address: str, name: str, part: dict[str, str]) -> None:
        x0, y0, x1, y1 = box.bounds
        x = self.rng.uniform(x0 + 0.0004, x1 - 0.0008)
        y = self.rng.uniform(y0 + 0.0004, y1 - 0.0008)
        code = f"{self.county.code[:6]}B{len(self.buildings) + 1:06d}"
        footprint = shapely.box(x, y, x + 0.0002, y + 0.0002)
        self.buildings.append(
            {"code": code, "name": name, "address": address, "floors": 6, "geometry": footprint}
        )
        self.parts.append({**part, "code": code, "address": address, "name": name})

    def finish(self, held_out: int) -> DistrictPlan:
        """The frames, with `held_out` registered houses taken out, each kept between two on its side."""
        by_road: dict[str, list[int]] = {}
        for house, _ in self.houses:
            by_road.setdefault(house.road, []).append(house.number)
        candidates = [h for h, _ in self.houses if not h.road.endswith("组")]
        self.rng.shuffle(candidates)
        chosen: list[House] = []
        removed: set[tuple[str, int]] = set()
        kept_for: set[tuple[str, int]] = set()  # the neighbours a held-out house is placed between
        for h in candidates:
            if len(chosen) == held_out or (h.road, h.number) in kept_for:
                continue
            side = [
                n
                for n in by_road[h.road]
                if n % 2 == h.number % 2 and n != h.number and (h.road, n) not in removed
            ]
            below, above = [n for n in side if n < h.number], [n for n in side if n > h.number]
            if below and above:
                chosen.append(h)
                removed.add((h.road, h.number))
                kept_for.update({(h.road, max(below)), (h.road, min(above))})
        addresses = {f"{r}{n}号" for r, n in removed}
        kept = [i for i, p in enumerate(self.parts) if f"{p['road']}{p['house']}号" not in addresses]
        beyond = [
            House(road, max(numbers) + self.rng.choice((2, 4, 6)), "", "", "")
            for road, numbers in sorted(by_road.items())
            if not road.endswith("组")
        ]
        frames = {
            name: conform(name, gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84))
            for name, rows in self.rows.items()
        }
        frames["buildings"] = conform(
            "buildings", gpd.GeoDataFrame([self.buildings[i] for i in kept], geometry="geometry", crs=WGS84)
        )
        return DistrictPlan(self.county, frames, [self.parts[i] for i in kept], chosen, beyond)

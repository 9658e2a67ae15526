"""The two-level case category catalogue and the departments cases are dispatched to.

The default follows the event classes of the national digital city-management
standards (市容环境, 宣传广告, 施工管理, 街面秩序, 突发事件, 其他) plus 设施维修 (the
repair tickets of broken speakers), each subcategory with a handling deadline —
working hours, or calendar hours for emergencies — the department that usually
handles it and the level that should solve it. A city replaces it with its own
JSON file (`GRIDMAP_CASE_CATEGORIES`): `{"departments": [{code, name_zh,
name_en}], "categories": [{code, name_zh, name_en, children: [{code, name_zh,
name_en, hours, department, clock, response_hours, level, substantive}]}]}`. A
subcategory's code starts with its main category's code, so statistics group
by main category with a prefix in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, PositiveFloat

from gridmap.cases._config import read_model
from gridmap.cases.vocabulary import DISSATISFACTION_REASONS
from gridmap.errors import ConfigError
from gridmap.texts import Message, joined

MAIN_CODE_LENGTH = 2
"""Main category codes are two characters; a subcategory code extends its main code."""


class Department(BaseModel):
    """A functional department (职能部门) that handles dispatched cases."""

    code: str = Field(min_length=1)
    name_zh: str
    name_en: str


Level = Literal["grid", "community", "street"]
Clock = Literal["working", "calendar"]
"""How a category's hours run: working hours (office time) or calendar hours (emergencies, day and night)."""


class Subcategory(BaseModel):
    """A kind of case: its deadline from dispatch, its response time, department and level.

    `hours` and `response_hours` (report to 立案) run on `clock`: working
    hours for ordinary cases, calendar hours for emergencies that cannot wait
    for Monday. `level` is where the case should be solved (网格, 社区, 街道);
    `substantive` names the dissatisfaction reasons that reopen a closed case.
    """

    code: str = Field(min_length=MAIN_CODE_LENGTH + 1)
    name_zh: str
    name_en: str
    hours: PositiveFloat
    department: str
    clock: Clock = "working"
    response_hours: PositiveFloat = 2.0
    level: Level = "grid"
    substantive: list[str] = Field(default_factory=lambda: ["unsolved", "recurred", "partly"])


class Category(BaseModel):
    """A main category (大类) and its subcategories (小类)."""

    code: str = Field(min_length=MAIN_CODE_LENGTH, max_length=MAIN_CODE_LENGTH)
    name_zh: str
    name_en: str
    children: list[Subcategory] = Field(min_length=1)


class _CatalogueFile(BaseModel):
    departments: list[Department] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)


@dataclass(frozen=True)
class CategoryCatalogue:
    """Categories and departments, checked for consistency once when loaded."""

    categories: tuple[Category, ...]
    departments: tuple[Department, ...]

    def __post_init__(self) -> None:
        depts = [d.code for d in self.departments]
        problems = [Message("categories.department_twice", code=repr(c)) for c in _repeated(depts)]
        mains = [c.code for c in self.categories]
        problems += [Message("categories.category_twice", code=repr(c)) for c in _repeated(mains)]
        subs = [s for c in self.categories for s in c.children]
        problems += [
            Message("categories.subcategory_twice", code=repr(c)) for c in _repeated([s.code for s in subs])
        ]
        for main in self.categories:
            for sub in main.children:
                if not sub.code.startswith(main.code):
                    problems.append(Message("categories.prefix", code=sub.code, main=main.code))
                if sub.department not in depts:
                    problems.append(
                        Message(
                            "categories.unknown_department", code=sub.code, department=repr(sub.department)
                        )
                    )
                problems += [
                    Message("categories.unknown_reason", code=sub.code, reason=repr(reason))
                    for reason in sub.substantive
                    if reason not in DISSATISFACTION_REASONS
                ]
        if problems:
            raise ConfigError(Message("categories.bad", problems=joined(problems)))

    def subcategory(self, code: str) -> Subcategory:
        """The subcategory `code` (KeyError when the catalogue has none)."""
        for main in self.categories:
            for sub in main.children:
                if sub.code == code:
                    return sub
        raise KeyError(code)

    def main_of(self, code: str) -> Category:
        """The main category a subcategory code belongs to."""
        for main in self.categories:
            if code.startswith(main.code):
                return main
        raise KeyError(code)

    def department(self, code: str) -> Department:
        for dept in self.departments:
            if dept.code == code:
                return dept
        raise KeyError(code)

    @property
    def subcategory_codes(self) -> list[str]:
        return [s.code for c in self.categories for s in c.children]

    @property
    def department_codes(self) -> list[str]:
        return [d.code for d in self.departments]

    def as_dict(self) -> dict[str, object]:
        """The catalogue as the JSON file holds it (the API serves it to forms)."""
        return {
            "departments": [d.model_dump() for d in self.departments],
            "categories": [c.model_dump() for c in self.categories],
        }


def load_catalogue(path: str | Path | None = None) -> CategoryCatalogue:
    """The catalogue in `path`, or the default one; a bad file is a ConfigError naming it and the field."""
    if path is None:
        return DEFAULT_CATALOGUE
    parsed = read_model(path, _CatalogueFile, "case categories")
    return CategoryCatalogue(tuple(parsed.categories), tuple(parsed.departments))


def _repeated(values: list[str]) -> list[str]:
    seen: set[str] = set()
    return [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]


def _sub(code: str, zh: str, en: str, hours: float, department: str, *, level: Level = "grid") -> Subcategory:
    return Subcategory(code=code, name_zh=zh, name_en=en, hours=hours, department=department, level=level)


def _emergency(code: str, zh: str, en: str, hours: float, department: str) -> Subcategory:
    """An emergency: calendar hours day and night, answered within half an hour, solved by the street."""
    return Subcategory(
        code=code,
        name_zh=zh,
        name_en=en,
        hours=hours,
        department=department,
        clock="calendar",
        response_hours=0.5,
        level="street",
    )


_DEPARTMENTS = (
    Department(code="cgj", name_zh="城市管理局", name_en="Urban management bureau"),
    Department(code="zjj", name_zh="住房和城乡建设局", name_en="Housing and construction bureau"),
    Department(code="swj", name_zh="水务局", name_en="Water bureau"),
    Department(code="sthj", name_zh="生态环境局", name_en="Ecology and environment bureau"),
    Department(code="jj", name_zh="交警大队", name_en="Traffic police"),
    Department(code="scjg", name_zh="市场监督管理局", name_en="Market regulation bureau"),
    Department(code="rq", name_zh="燃气公司", name_en="Gas company"),
    Department(code="jdb", name_zh="街道办事处", name_en="Street office"),
)

_CATEGORIES = (
    Category(
        code="01",
        name_zh="市容环境",
        name_en="City appearance",
        children=[
            _sub("0101", "私搭乱建", "Illegal structure", 40, "cgj", level="community"),
            _sub("0102", "暴露垃圾", "Exposed rubbish", 4, "cgj"),
            _sub("0103", "积存垃圾渣土", "Piled rubbish or muck", 8, "cgj"),
            _sub("0104", "道路不洁", "Dirty road", 4, "cgj"),
            _sub("0105", "水域不洁", "Dirty water body", 8, "swj"),
            _sub("0106", "绿地脏乱", "Untidy green space", 8, "cgj"),
        ],
    ),
    Category(
        code="02",
        name_zh="宣传广告",
        name_en="Advertising",
        children=[
            _sub("0201", "非法小广告", "Illegal flyers", 8, "cgj"),
            _sub("0202", "违章张贴悬挂广告牌匾", "Unapproved signboard", 24, "cgj"),
            _sub("0203", "占道广告牌", "Signboard on the road", 16, "cgj"),
            _sub("0204", "街头散发广告", "Handing out flyers", 4, "cgj"),
        ],
    ),
    Category(
        code="03",
        name_zh="施工管理",
        name_en="Construction",
        children=[
            _sub("0301", "施工扰民", "Construction noise", 8, "zjj"),
            _sub("0302", "工地扬尘", "Construction dust", 8, "sthj"),
            _sub("0303", "道路遗撒", "Spillage on the road", 4, "cgj"),
            _sub("0304", "无证掘路", "Unlicensed road digging", 16, "zjj", level="community"),
        ],
    ),
    Category(
        code="04",
        name_zh="街面秩序",
        name_en="Street order",
        children=[
            _sub("0401", "无照经营游商", "Unlicensed hawker", 4, "scjg"),
            _sub("0402", "店外经营", "Trading outside the shop", 4, "cgj"),
            _sub("0403", "占道废品收购", "Scrap buying on the road", 8, "cgj"),
            _sub("0404", "机动车乱停放", "Car parked illegally", 4, "jj"),
            _sub("0405", "非机动车乱停放", "Bicycles parked illegally", 4, "jdb"),
            _sub("0406", "露天烧烤", "Open-air barbecue", 4, "cgj"),
        ],
    ),
    Category(
        code="05",
        name_zh="突发事件",
        name_en="Emergencies",
        children=[
            _emergency("0501", "路面塌陷", "Road collapse", 2, "zjj"),
            _emergency("0502", "自来水管破裂", "Burst water main", 2, "swj"),
            _emergency("0503", "燃气管道破裂", "Gas pipe leak", 1, "rq"),
            _sub("0504", "下水道堵塞或破损", "Blocked or broken sewer", 4, "swj", level="community"),
            _emergency("0505", "道路积水", "Flooded road", 2, "swj"),
            _sub("0506", "道路积雪结冰", "Snow or ice on the road", 4, "cgj", level="community"),
        ],
    ),
    Category(
        code="06",
        name_zh="其他",
        name_en="Other",
        children=[_sub("0601", "其他事件", "Other event", 16, "jdb")],
    ),
    Category(
        code="07",
        name_zh="设施维修",
        name_en="Facility repair",
        children=[
            Subcategory(
                code="0701",
                name_zh="应急广播故障",
                name_en="Broken broadcast speaker",
                hours=24,
                department="jdb",
                clock="calendar",
                response_hours=2,
                level="street",
            ),
        ],
    ),
)

DEFAULT_CATALOGUE = CategoryCatalogue(_CATEGORIES, _DEPARTMENTS)

"""Addresses written on a real-name district (bench/real_districts.py), per form, and how a lookup fares.

Every form a hotline operator, a 政务 app or a household register uses:
bare, with the street and/or the community in front (the community often
shares its name with the road), with the county's province, city and county,
the estate's name, full-width digits, 号楼/幢/单元/室, a typo in one character
of the community, another community of the street written in front (the
answer must say they disagree), a typo in the road (a road the register lacks:
no building), and house numbers the register does not hold (between two
registered ones: the grid by interpolation, or no confident answer; past the
last one: no confident answer).

`evaluate(service, cases)` goes through `LookupService.batch`, so it measures
what an integrator gets, on any version of gridmap that has the batch.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.real_districts import DistrictPlan, base_name
from gridmap.lookup import LookupService, Query

__all__ = ["Case", "FormResult", "corpus", "evaluate"]

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_TYPO = "东西南北中新大小山水湖江河桥门城园林花金银长安华平和兴福康乐德"


@dataclass(frozen=True)
class Case:
    """One address: its form, its text, and what it names (a building code, a grid code, or nothing).

    `expect` is "building" (`code` the building), "disagree" (the building, with
    the written community flagged), "grid" (`code` the grid of a number the
    register lacks), or "none" (no confident answer).
    """

    form: str
    text: str
    expect: str
    code: str | None


@dataclass(frozen=True)
class FormResult:
    """How one form fared: cases, right answers, wrong answers (another building or grid), no answer.

    `answered` counts the cases answered with a grid (status ok): for a number the register lacks,
    "right" also counts a 404 naming the right grid among its candidates, `answered` does not.
    """

    form: str
    cases: int
    right: int
    wrong: int
    unanswered: int
    answered: int = 0

    @property
    def rate(self) -> float:
        return self.right / self.cases if self.cases else 1.0

    @property
    def wrong_rate(self) -> float:
        return self.wrong / self.cases if self.cases else 0.0


Former = Callable[[dict[str, str], random.Random], str]


def _typo(text: str, rng: random.Random) -> str:
    """`text` with one character replaced by another common one."""
    i = rng.randrange(len(text))
    return text[:i] + rng.choice([c for c in _TYPO if c != text[i]]) + text[i + 1 :]


def _room(rng: random.Random) -> str:
    return f"{rng.randint(1, 3)}单元{rng.randint(1, 18) * 100 + rng.randint(1, 4)}室"


def _urban_forms(plan: DistrictPlan) -> dict[str, Former]:
    c = plan.county
    return {
        "bare": lambda p, rng: p["address"],
        "street before": lambda p, rng: p["street"] + p["address"],
        "community before": lambda p, rng: p["community"] + p["address"],
        "street and community before": lambda p, rng: p["street"] + p["community"] + p["address"],
        "community committee (居委会) before": lambda p, rng: (
            base_name(p["community"]) + "社区居委会" + p["address"]
        ),
        "county and street before": lambda p, rng: c.name + p["street"] + p["address"],
        "province, city, county, street, community": lambda p, rng: (
            c.province + c.city + c.name + p["street"] + p["community"] + p["address"]
        ),
        "estate name (estate + building)": lambda p, rng: p["name"],
        "community and estate name": lambda p, rng: p["community"] + p["name"],
        "road, number, estate, building": lambda p, rng: (
            f"{p['road']}{p['house']}号{p['estate']}{p['building']}栋"
        ),
        "full-width digits": lambda p, rng: (p["community"] + p["address"]).translate(_FULL_WIDTH),
        "号楼 for 栋": lambda p, rng: f"{p['road']}{p['house']}号{p['building']}号楼",
        "幢 for 栋": lambda p, rng: f"{p['community']}{p['road']}{p['house']}号{p['building']}幢",
        "unit and room": lambda p, rng: p["community"] + p["address"] + _room(rng),
        "号楼, unit and room": lambda p, rng: f"{p['road']}{p['house']}号{p['building']}号楼{_room(rng)}",
        "typo in the community": lambda p, rng: _typo(base_name(p["community"]), rng) + "社区" + p["address"],
    }


def _village_forms(plan: DistrictPlan) -> dict[str, Former]:
    c = plan.county
    return {
        "village: bare": lambda p, rng: p["address"],
        "village: street before": lambda p, rng: p["street"] + p["address"],
        "village: county and street before": lambda p, rng: c.city + c.name + p["street"] + p["address"],
        "village: full-width digits": lambda p, rng: p["address"].translate(_FULL_WIDTH),
    }


def corpus(plan: DistrictPlan, *, per_form: int = 300, seed: int = 13) -> list[Case]:
    """At most `per_form` addresses of every form, from the district's buildings and held-out numbers."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for kind, forms in (("urban", _urban_forms(plan)), ("village", _village_forms(plan))):
        parts = [p for p in plan.parts if p["kind"] == kind]
        for form, write in forms.items():
            for p in rng.sample(parts, min(per_form, len(parts))):
                cases.append(Case(form, write(p, rng), "building", p["code"]))
    urban = [p for p in plan.parts if p["kind"] == "urban"]
    communities: dict[str, list[str]] = {}
    for p in urban:
        names = communities.setdefault(p["street"], [])
        if p["community"] not in names:
            names.append(p["community"])
    for p in rng.sample(urban, min(per_form, len(urban))):
        others = [n for n in communities[p["street"]] if n != p["community"]]
        if others:
            cases.append(
                Case("another community before", rng.choice(others) + p["address"], "disagree", p["code"])
            )
    roads = {p["road"] for p in plan.parts}
    for p in rng.sample(urban, min(per_form, len(urban))):
        road = _typo(p["road"][:-1], rng) + p["road"][-1]
        if road not in roads:
            cases.append(
                Case(
                    "typo in the road (not in the register)",
                    road + p["address"][len(p["road"]) :],
                    "none",
                    None,
                )
            )
    for h in plan.held_out:
        building = rng.randint(1, 3)
        cases.append(
            Case("number the register lacks", f"{h.road}{h.number}号{building}栋", "grid", h.grid_code)
        )
        cases.append(
            Case(
                "community and a number the register lacks",
                f"{h.community}{h.road}{h.number}号",
                "grid",
                h.grid_code,
            )
        )
    for h in plan.beyond:
        cases.append(Case("number past the road's last", f"{h.road}{h.number}号1栋", "none", None))
    return cases


def _judge(case: Case, result: dict[str, Any]) -> str:
    """ "right", "wrong" or "unanswered" for one batch result."""
    ok = result.get("status") == "ok"
    building = (result.get("building") or {}).get("code") if ok else None
    if case.expect == "none":
        return "wrong" if ok else "right"
    if case.expect == "grid":
        if ok:
            return "right" if result["grid"]["code"] == case.code else "wrong"
        return "right" if case.code in (result.get("candidates") or []) else "unanswered"
    if not ok:
        return "unanswered"
    if building != case.code:
        return "wrong"
    if case.expect == "disagree" and not (result.get("match") or {}).get("disagrees"):
        return "unanswered"
    return "right"


def evaluate(service: LookupService, cases: Sequence[Case]) -> list[FormResult]:
    """Per form, in the corpus's order: right, wrong and unanswered through `LookupService.batch`."""
    results = service.batch([Query(address=c.text) for c in cases])
    tally: dict[str, dict[str, int]] = {}
    for case, result in zip(cases, results, strict=True):
        counts = tally.setdefault(case.form, {"right": 0, "wrong": 0, "unanswered": 0, "answered": 0})
        counts[_judge(case, result)] += 1
        counts["answered"] += result.get("status") == "ok"
    return [
        FormResult(
            form,
            c["right"] + c["wrong"] + c["unanswered"],
            c["right"],
            c["wrong"],
            c["unanswered"],
            c["answered"],
        )
        for form, c in tally.items()
    ]

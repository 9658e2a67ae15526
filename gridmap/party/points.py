"""党员积分: the points ledger's rules, annual totals with caps, ranking per branch, the public list.

A rule gives `points` per event (negative: a deduction) and may cap the
year's sum of the item (`annual_cap`, on its size: +12 for a reward, −20 for a
deduction). A member's year starts at the scheme's `base`; the total is the
base plus capped rewards minus capped deductions, never below the `floor`.
Members are ranked within their branch (a building group's members with its
grid branch), equal totals sharing a rank (1, 1, 3). The public posting list
carries no personal field: branch, rank and points only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridmap.errors import NotFoundError, Problem, ValidationError
from gridmap.party.vocabulary import BUILDING_GROUP
from gridmap.stores import Store
from gridmap.texts import Message


@dataclass(frozen=True)
class Scheme:
    """What every member starts a year with, and the lowest a year's total may fall to."""

    base: int = 60
    floor: int = 0


DEFAULT_RULES = pd.DataFrame(
    [
        ("study", "参加学习教育", "study session", 2, 12),
        ("meeting", "参加组织生活", "party meeting", 2, 24),
        ("volunteer", "志愿服务", "volunteer service", 3, 30),
        ("linkage", "联系服务群众（一户十联）", "serving linked households", 1, 20),
        ("dual_report", "双报到社区服务", "service at the home community", 2, 16),
        ("absent", "无故缺席组织生活", "absent without reason", -5, 20),
        ("violation", "违反纪律规定", "breach of discipline", -10, None),
    ],
    columns=["code", "name_zh", "name_en", "points", "annual_cap"],
).astype({"annual_cap": "Int64"})
"""The rules a new ledger starts with (`gridmap party points rules` replaces them)."""

TOTAL_COLUMNS = ["member_code", "branch_code", "base", "earned", "deducted", "capped", "total"]


def check_rules(rules: pd.DataFrame) -> None:
    """A rule table's problems, raised at once: codes unique and present, points non-zero, caps ≥ 0."""
    problems = []
    for i, row in enumerate(rules.to_dict("records")):
        if not str(row.get("code") or "").strip():
            problems.append(Problem(i + 1, "code", Message("party.code_required")))
        if not row.get("points"):
            problems.append(Problem(i + 1, "points", Message("party.rule_zero")))
        cap = row.get("annual_cap")
        if cap is not None and not pd.isna(cap) and int(cap) < 0:
            problems.append(Problem(i + 1, "annual_cap", Message("party.cap_negative")))
    duplicated = rules["code"][rules["code"].duplicated()]
    problems += [Problem(None, "code", Message("party.given_twice", code=code)) for code in duplicated]
    if problems:
        raise ValidationError(Message("party.source_rules"), problems)


def annual_totals(
    entries: pd.DataFrame, rules: pd.DataFrame, members: pd.DataFrame, orgs: pd.DataFrame, scheme: Scheme
) -> pd.DataFrame:
    """Each member's year (`TOTAL_COLUMNS`): caps per item, then the floor; no entries: the base."""
    rule = rules.set_index("code")
    e = entries.assign(
        raw=entries["events"].to_numpy(dtype=np.int64) * rule.loc[entries["rule_code"], "points"].to_numpy()
    )
    per_item = e.groupby(["member_code", "rule_code"], as_index=False)["raw"].sum()
    cap = (
        rule.loc[per_item["rule_code"], "annual_cap"]
        .astype("Float64")
        .to_numpy(dtype=np.float64, na_value=np.inf)
    )
    size = np.minimum(np.abs(per_item["raw"].to_numpy(dtype=np.float64)), cap)
    per_item["kept"] = np.sign(per_item["raw"].to_numpy()) * size
    per_item["capped"] = np.abs(per_item["raw"].to_numpy()) - size
    per_item["earned"] = np.where(per_item["kept"] > 0, per_item["kept"], 0)
    per_item["deducted"] = np.where(per_item["kept"] < 0, -per_item["kept"], 0)
    sums = per_item.groupby("member_code")[["earned", "deducted", "capped"]].sum()
    out = pd.DataFrame({"member_code": members["code"].astype(str).to_numpy()})
    out["branch_code"] = branch_of(members, orgs).to_numpy()
    out = out.join(sums, on="member_code").fillna({"earned": 0, "deducted": 0, "capped": 0})
    out["base"] = scheme.base
    out["total"] = np.maximum(scheme.base + out["earned"] - out["deducted"], scheme.floor)
    for name in ("earned", "deducted", "capped", "total"):
        out[name] = out[name].astype(np.int64)
    return out[TOTAL_COLUMNS]


def branch_of(members: pd.DataFrame, orgs: pd.DataFrame) -> pd.Series:
    """The branch each member is ranked in: its organisation, or a building group's parent branch."""
    orgs = orgs.drop_duplicates("code", keep="last")  # versions ordered by start: the newest
    kind = pd.Series(orgs["kind"].to_numpy(), index=orgs["code"].to_numpy())
    parent = pd.Series(orgs["parent_code"].to_numpy(), index=orgs["code"].to_numpy())
    org = members["org_code"].astype(str)
    grouped = org.map(kind).eq(BUILDING_GROUP).to_numpy(dtype=bool)
    return org.where(~grouped, org.map(parent))


def ranking(totals: pd.DataFrame) -> pd.DataFrame:
    """Totals with `rank` within each branch: highest first, equal totals share the rank (1, 1, 3)."""
    ranked = totals.assign(rank=totals.groupby("branch_code")["total"].rank(method="min", ascending=False))
    ranked["rank"] = ranked["rank"].astype(np.int64)
    return ranked.sort_values(["branch_code", "rank", "member_code"], kind="stable").reset_index(drop=True)


def public_list(ranked: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """The posting for a notice board: branch, rank, points and nothing that names a person."""
    orgs = orgs.drop_duplicates("code", keep="last")
    names = pd.Series(orgs["name"].to_numpy(), index=orgs["code"].to_numpy())
    return pd.DataFrame(
        {
            "branch_code": ranked["branch_code"].to_numpy(),
            "branch_name": ranked["branch_code"].map(names).to_numpy(),
            "rank": ranked["rank"].to_numpy(),
            "earned": ranked["earned"].to_numpy(),
            "deducted": ranked["deducted"].to_numpy(),
            "total": ranked["total"].to_numpy(),
        }
    )


@dataclass(frozen=True)
class PointEntry:
    """One approved entry: a member, a rule, when, how many events, the evidence and who approved it."""

    member_code: str
    rule_code: str
    occurred_on: dt.date
    approver: str
    evidence: str
    events: int = 1


def points_problems(
    store: Store, entry: PointEntry, now: dt.datetime | None = None, rules: set[str] | None = None
) -> list[Problem]:
    """What is wrong with `entry`: its count, approver, evidence, date, rule (`rules`: the codes, read
    when not given) and member."""
    problems = []
    if entry.events < 1:
        problems.append(Problem(None, "events", Message("party.no_events")))
    if not entry.approver.strip():
        problems.append(Problem(None, "approver", Message("party.no_approver")))
    if not entry.evidence.strip():
        problems.append(Problem(None, "evidence", Message("party.no_points_evidence")))
    moment = now or dt.datetime.now(dt.UTC)
    if entry.occurred_on > moment.date() + dt.timedelta(days=1):
        problems.append(Problem(None, "occurred_on", Message("party.in_future")))
    known = rules if rules is not None else set(store.party_book().point_rules()["code"])
    if entry.rule_code not in known:
        problems.append(Problem(None, "rule_code", Message("party.no_rule", code=entry.rule_code)))
    return problems


def record_points(store: Store, entry: PointEntry, now: dt.datetime | None = None) -> int:
    """Write one entry after checking member, rule, count, date, evidence and approver; its id."""
    book = store.party_book()
    problems = points_problems(store, entry, now)
    if problems:
        raise ValidationError(Message("party.source_points"), problems)
    if not len(book.members(codes=[entry.member_code])):
        raise NotFoundError(Message("party.no_member", code=entry.member_code))
    return book.add_point({**entry.__dict__, "recorded_at": now or dt.datetime.now(dt.UTC)})


def year_ranking(store: Store, year: int, scheme: Scheme, on: dt.date | None = None) -> pd.DataFrame:
    """Every member's ranked year from the store's ledger (organisations as in force at the year's end)."""
    book = store.party_book()
    day = on or min(dt.date(year, 12, 31), dt.date.today())
    totals = annual_totals(
        book.points(year=year), book.point_rules(), book.members(), book.orgs(on=day), scheme
    )
    return ranking(totals)


def set_rules(store: Store, rules: pd.DataFrame) -> int:
    """Make `rules` the ledger's rules (checked first; a rule the ledger's entries use cannot go)."""
    check_rules(rules)
    used = set(store.party_book().points()["rule_code"]) - set(rules["code"])
    if used:
        problems = [Problem(None, "code", Message("party.rule_in_use", code=code)) for code in sorted(used)]
        raise ValidationError(Message("party.source_rules"), problems)
    return store.party_book().replace({"party_point_rules": rules})["party_point_rules"]

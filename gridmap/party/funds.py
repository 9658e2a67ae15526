"""The funds ledger: what each organisation is owed in a year, what it received and spent, who is short.

Entitlements: ¥10,000 a year to every grid branch in force during the year,
and to a 大党委 the "321" support of each of its 共建 units with a tier
(¥30,000 / ¥20,000 / ¥1,000). A receipt names its source (`branch_funds` or the
unit's code), so each entitlement is matched by what came in for it; the
shortfall is what is owed and not received. Spending needs a category and
its evidence; an organisation that spent more than it received is overspent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridmap.errors import Problem, ValidationError
from gridmap.party.vocabulary import GRID_BRANCH, GRID_BRANCH_FUNDS_YUAN, SUPPORT_YUAN
from gridmap.stores import Store
from gridmap.texts import Message
from gridmap.vocabulary import Term

BRANCH_FUNDS = "branch_funds"
"""The source of a grid branch's yearly working funds (other sources are unit codes)."""
SOURCES: dict[str, Term] = {
    BRANCH_FUNDS: Term(BRANCH_FUNDS, "网格党支部工作经费", "grid branch working funds")
}
"""Sources of funds that are not a unit, labelled."""

FLOWS: dict[str, Term] = {
    t.code: t for t in (Term("receipt", "到位", "receipt"), Term("spending", "支出", "spending"))
}
SPENDING_CATEGORIES: dict[str, Term] = {
    t.code: t
    for t in (
        Term("activities", "组织活动", "party activities"),
        Term("service", "服务群众", "serving residents"),
        Term("venue", "阵地建设", "venue and equipment"),
        Term("study", "学习教育", "study and training"),
        Term("care", "关爱帮扶", "care for members and households in need"),
    )
}


def entitlements(orgs: pd.DataFrame, units: pd.DataFrame, year: int) -> pd.DataFrame:
    """(org_code, source, entitled) for `year` from the organisation versions and the units."""
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1)
    since, until = pd.to_datetime(orgs["valid_from"]), pd.to_datetime(orgs["valid_to"])
    during = (since < end) & (until.isna() | (until > start))
    branches = orgs.loc[
        during.to_numpy(dtype=bool) & (orgs["kind"] == GRID_BRANCH).to_numpy(), "code"
    ].unique()
    branch_rows = pd.DataFrame(
        {"org_code": branches, "source": BRANCH_FUNDS, "entitled": float(GRID_BRANCH_FUNDS_YUAN)}
    )
    supported = units[units["member_of"].notna() & units["tier"].notna()]
    unit_rows = pd.DataFrame(
        {
            "org_code": supported["member_of"].to_numpy(),
            "source": supported["code"].to_numpy(),
            "entitled": supported["tier"].astype(np.int64).map(SUPPORT_YUAN).astype(float).to_numpy(),
        }
    )
    return pd.concat([branch_rows, unit_rows], ignore_index=True)


def shortfalls(owed: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """Per entitlement: entitled, received (receipts from that source) and short (never negative)."""
    receipts = ledger[ledger["flow"] == "receipt"].groupby(["org_code", "source"])["amount"].sum()
    out = owed.join(receipts.rename("received"), on=["org_code", "source"]).fillna({"received": 0.0})
    out["short"] = np.maximum(out["entitled"] - out["received"], 0.0)
    return out.sort_values(["org_code", "source"]).reset_index(drop=True)


def balances(ledger: pd.DataFrame) -> pd.DataFrame:
    """Per organisation: received, spent, balance and whether it is overspent."""
    sums = ledger.pivot_table(
        index="org_code", columns="flow", values="amount", aggfunc="sum", fill_value=0.0
    )
    out = pd.DataFrame(
        {
            "received": sums.get("receipt", pd.Series(0.0, index=sums.index)),
            "spent": sums.get("spending", pd.Series(0.0, index=sums.index)),
        }
    )
    out["balance"] = out["received"] - out["spent"]
    out["overspent"] = out["balance"] < 0
    return out.reset_index().rename(columns={"index": "org_code"})


@dataclass(frozen=True)
class FundsEntry:
    """A receipt or a spending of one organisation in one year."""

    org_code: str
    year: int
    flow: str
    amount: float
    source: str = BRANCH_FUNDS
    category: str | None = None
    evidence: str | None = None
    recorded_on: dt.date | None = None


def record_funds(store: Store, entry: FundsEntry) -> int:
    """Write one entry after checking flow, amount, organisation, source, category and evidence; its id."""
    problems = funds_problems(store, entry)
    if problems:
        raise ValidationError(Message("party.source_funds"), problems)
    row = {**entry.__dict__, "recorded_on": entry.recorded_on or dt.date.today()}
    return store.party_book().add_funds(row)


def funds_problems(store: Store, entry: FundsEntry) -> list[Problem]:
    """What is wrong with `entry`: its flow, amount, organisation, source, category and evidence."""
    book = store.party_book()
    problems = []
    if entry.flow not in FLOWS:
        problems.append(Problem(None, "flow", Message("party.flow", flows=" or ".join(FLOWS))))
    if not entry.amount > 0:
        problems.append(Problem(None, "amount", Message("party.not_positive")))
    if not len(book.orgs(codes=[entry.org_code])):
        problems.append(Problem(None, "org_code", Message("party.no_org", code=entry.org_code)))
    if (
        entry.flow == "receipt"
        and entry.source != BRANCH_FUNDS
        and entry.source not in set(book.units()["code"])
    ):
        problems.append(
            Problem(
                None, "source", Message("party.funds_source", branch=BRANCH_FUNDS, source=repr(entry.source))
            )
        )
    if entry.flow == "spending":
        if entry.category not in SPENDING_CATEGORIES:
            problems.append(
                Problem(
                    None, "category", Message("party.category", categories=", ".join(SPENDING_CATEGORIES))
                )
            )
        if not (entry.evidence or "").strip():
            problems.append(Problem(None, "evidence", Message("party.no_funds_evidence")))
    return problems


def year_funds(store: Store, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(shortfalls per entitlement, balances per organisation) of `year` from the store's ledger."""
    book = store.party_book()
    ledger = book.funds(year=year)
    return shortfalls(entitlements(book.orgs(), book.units(), year), ledger), balances(ledger)

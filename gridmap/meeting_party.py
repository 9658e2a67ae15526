"""The meeting report's party section: what the per-grid table cannot show.

The grid table already carries the per-grid party figures (branches, groups,
center households). A meeting also asks which 大党委 have no 共建 unit, how
far party organisations reach the enterprises and social organisations of
each street (两个覆盖), and how many in-service members have reported to each
大党委's community and served (双报到). These come from the same findings the
CLI, the API and the workbook show (`gridmap.party.service.store_findings`),
kept to the report's area, with titles and column labels from their one
vocabulary (`PARTY_FINDINGS`, `gridmap.vocabulary.column_label`). No member is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from gridmap.meeting_cases import percent
from gridmap.party.findings import PARTY_FINDINGS
from gridmap.vocabulary import column_label

SHOWN: dict[str, tuple[str, ...]] = {
    "committees_without_units": ("name", "code", "community_code"),
    "two_coverages": ("name", "units", "organised", "organised_share", "worked", "worked_share"),
    "dual_reports": ("name", "community_code", "members", "in_service", "reported", "service_hours"),
}
"""The findings the section shows, in order, and their columns."""
_SHARES = {"organised_share", "worked_share"}
_TEXT = {"name", "code", "community_code"}


def party_section(
    found: Mapping[str, pd.DataFrame] | None, grids: pd.DataFrame, communities: pd.DataFrame
) -> dict[str, Any] | None:
    """The section's tables for the area of `grids` (its communities' 大党委, its streets); None when the
    store keeps no party register. `communities` (code, name) name the community columns."""
    if found is None:
        return None
    mine = set(grids["community_code"].astype(str))
    streets = set(grids["street_code"].astype(str))
    names = dict(zip(communities["code"].astype(str), communities["name"].astype(str), strict=True))
    tables = []
    for kind, columns in SHOWN.items():
        table = found.get(kind)
        if table is None:
            continue
        if "community_code" in table:
            table = table[table["community_code"].astype(str).isin(mine)]
        else:
            table = table[table["street_code"].astype(str).isin(streets)]
        finding = PARTY_FINDINGS[kind]
        tables.append(
            {
                "code": kind,
                "title": finding.zh,
                "action": finding.action_zh,
                "headers": [column_label(c, "zh") for c in columns],
                "numeric": [c not in _TEXT for c in columns],
                "rows": [[_cell(c, r[c], names) for c in columns] for r in table.to_dict("records")],
            }
        )
    return {"tables": tables}


def _cell(column: str, value: Any, names: Mapping[str, str]) -> str:
    if column == "community_code":
        return names.get(str(value), str(value))
    if column in _SHARES:
        return percent(value)
    if column == "service_hours":
        return f"{float(value):,.1f}"
    if column in _TEXT:
        return str(value)
    return f"{int(value):,}"

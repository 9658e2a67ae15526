"""The party chain against a store: its findings on a day, the workbook's sheets, the demo's seed."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from gridmap.errors import StoreError
from gridmap.party.findings import PARTY_FINDINGS, party_findings
from gridmap.stores import Store
from gridmap.vocabulary import column_label


def store_findings(store: Store, on: dt.date | None = None) -> dict[str, pd.DataFrame] | None:
    """Every party finding over the store's layers and the organisations in force on `on` (today);
    None when the store keeps no party register or it is empty."""
    try:
        book = store.party_book()
        orgs = book.orgs(on=on or dt.date.today())
    except StoreError:
        return None
    if not len(orgs):
        return None
    frames = {
        "streets": store.read_columns("streets", ["code", "name"]),
        "grids": store.read_columns("grids", ["code", "name", "community_code"]),
        "buildings": store.read_columns("buildings", ["code", "name", "grid_code"]),
        "households": store.read_columns("households", ["code", "building_code", "center_household"]),
    }
    return party_findings(frames, orgs, book.units(), book.members())


def party_sheets(store: Store, on: dt.date | None = None) -> list[tuple[str, pd.DataFrame]]:
    """The workbook's party sheets, one per finding kind labelled from the registry, their columns from
    the one column vocabulary (none: no register)."""
    found = store_findings(store, on)
    if found is None:
        return []
    return [
        (
            f"党建-{PARTY_FINDINGS[kind].zh}",
            pd.DataFrame(table.drop(columns="geometry", errors="ignore")).rename(columns=column_label),
        )
        for kind, table in found.items()
    ]

"""Which buildings and households changed grid between two dates, as the boundaries were redrawn.

Both dates are answered with the grids in force then (`Store.read_as_of`)
and today's buildings and households, assigned by the same rules as the
analysis (`gridmap.assignment.assign`), so a row here means the redrawing
moved it, not that it was itself edited.
"""

from __future__ import annotations

import pandas as pd

from gridmap.assignment import assign
from gridmap.stores import Store
from gridmap.versions import parse_date

COLUMNS = {"buildings": ["code", "address"], "households": ["code", "address", "building_code"]}


def grid_changes(store: Store, start: str, end: str) -> dict[str, pd.DataFrame]:
    """Per layer: `code, address, …, grid_from, grid_to` of each building or household whose grid differs."""
    start, end = parse_date(start), parse_date(end)
    frames = {layer: store.read(layer) for layer in COLUMNS}
    then = assign({**frames, "grids": store.read_as_of("grids", start)})
    now = assign({**frames, "grids": store.read_as_of("grids", end)})
    out: dict[str, pd.DataFrame] = {}
    for layer, columns in COLUMNS.items():
        old = then[layer]["grid_code"].to_numpy(dtype=object, na_value=None)
        new = now[layer]["grid_code"].to_numpy(dtype=object, na_value=None)
        moved = old != new
        table = pd.DataFrame(frames[layer].loc[moved, columns]).reset_index(drop=True)
        table["grid_from"] = pd.array(old[moved], dtype="string")
        table["grid_to"] = pd.array(new[moved], dtype="string")
        out[layer] = table
    return out

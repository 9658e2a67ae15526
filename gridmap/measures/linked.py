"""一户十联: a household counts when a center household of its grid links it.

Where the community has confirmed links (the `party_links` input, the register
of `gridmap.party.register.confirm_links`), the register is the truth for every
grid it touches: those grids' households are linked as confirmed, and each
center household to itself. Grids without a confirmed link keep the computed
linkage (`gridmap.linkage`), which is the proposal the community confirms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridmap.measures import Computation, Figures, Inputs


def confirmed_links(inputs: Inputs, computed: pd.Series) -> pd.Series:
    """`computed` with the grids the register touches replaced by the register's links."""
    register = inputs.layers.get("party_links")
    if register is None or not len(register):
        return computed
    households = inputs.layers["households"]
    codes = households["code"].astype(str)
    center = households["center_household"].fillna(False).to_numpy(dtype=bool)
    centers = pd.Series(
        register["center_code"].astype(str).to_numpy(), index=register["household_code"].astype(str)
    )
    named = codes.isin(centers.index) | codes.isin(centers)
    grid = inputs.household_grid
    touched = np.zeros(inputs.grids + 1, dtype=bool)
    touched[grid[named.to_numpy() & (grid >= 0)]] = True
    in_touched = touched[np.where(grid >= 0, grid, inputs.grids)]
    from_register = codes.map(centers).to_numpy(dtype=object)
    from_register[center] = codes.to_numpy(dtype=object)[center]
    out = pd.Series(computed.array.copy(), index=computed.index, name=computed.name)
    out[in_touched] = pd.array(from_register[in_touched], dtype=computed.dtype)
    return out


def _linkage(inputs: Inputs) -> Figures:
    linked_to = confirmed_links(inputs, inputs.links())
    linked = linked_to.notna().to_numpy(dtype=bool)
    return Figures(
        households={"linked_to": linked_to.array},
        counts={"linked": inputs.per_grid(inputs.household_grid, linked)},
    )


linkage = Computation(_linkage, columns=("linked_to",), counts=("linked",), waits=True)

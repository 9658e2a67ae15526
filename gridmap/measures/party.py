"""The party chain on the ground: buildings with a 楼栋党小组, groups with a 党员中心户, grid branches.

Reads the `party_orgs` input (the organisations in force on the analysis day,
`gridmap.party.register.orgs_in_force`). A building is grouped when a building
group in force serves it; a group lacks its 党员中心户 when no center household
lives in its building; a grid has a branch when a grid branch in force serves
it (a branch of a 专属网格 serves no base grid). Without the input (a store
keeping no party register) the measure is not taken: no columns, no note, and
`has_party_branch` falls back to the grids' `party_branch` text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridmap.measures import Computation, Figures, Inputs
from gridmap.party.vocabulary import BUILDING_GROUP, GRID_BRANCH


def _party(inputs: Inputs) -> Figures:
    orgs = inputs.layers.get("party_orgs")
    if orgs is None or not len(orgs):
        return Figures()
    buildings = inputs.layers["buildings"]["code"].astype(str)
    households = inputs.layers["households"]
    kind = orgs["kind"].astype(str)
    served = orgs["area_code"].astype(str)
    grouped = buildings.isin(served[kind == BUILDING_GROUP]).to_numpy(dtype=bool)
    centers = households["center_household"].fillna(False).to_numpy(dtype=bool)
    center_buildings = households["building_code"].astype("string")[centers].dropna()
    has_center = buildings.isin(center_buildings).to_numpy(dtype=bool)
    home = households["building_code"].astype("string")
    in_grouped = home.isin(buildings[grouped]).to_numpy(dtype=bool)
    branch_grids = served[(kind == GRID_BRANCH) & (orgs["area_kind"] == "grid")]
    grids = inputs.layers.get("grids")  # absent when only households in no grid are measured
    branches = (
        np.zeros(inputs.grids, dtype=np.intp)
        if grids is None
        else grids["code"].astype(str).map(branch_grids.value_counts()).fillna(0).to_numpy(dtype=np.intp)
    )
    b_grid = inputs.building_grid
    return Figures(
        households={"party_group": pd.array(in_grouped, dtype="boolean")},
        counts={
            "party_buildings": inputs.per_grid(b_grid),
            "grouped_buildings": inputs.per_grid(b_grid, grouped),
            "ungrouped_buildings": inputs.per_grid(b_grid, ~grouped),
            "groups_without_center": inputs.per_grid(b_grid, grouped & ~has_center),
            "party_branches": branches,
        },
    )


party = Computation(
    _party,
    reads=("party_orgs", "buildings"),
    columns=("party_group",),
    counts=(
        "party_buildings",
        "grouped_buildings",
        "ungrouped_buildings",
        "groups_without_center",
        "party_branches",
    ),
)

"""The 一户十联 proposal: today's computed linkage (`gridmap.linkage`) for the households not yet linked.

The households of the center's grid that the register links to no center,
paired by the same greedy by distance the analysis uses, among every center
household of the grid; a center's proposal is cut to the quota its confirmed
links leave, nearest first. The community confirms what it accepts
(`gridmap.party.register.confirm_links`).
"""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.crs import metric_crs
from gridmap.errors import NotFoundError
from gridmap.linkage import link_households
from gridmap.party.vocabulary import LINK_QUOTA
from gridmap.stores import Store
from gridmap.texts import Message


def propose_links(store: Store, center: str) -> list[str]:
    """Household codes proposed for center household `center`, nearest first."""
    found = store.read("households", codes=[center])
    if not len(found) or not bool(found["center_household"].fillna(False).iloc[0]):
        raise NotFoundError(Message("party.no_center", code=center))
    grid = found["grid_code"].iloc[0]
    if not isinstance(grid, str):
        return []
    households = store.query("households", equals={"grid_code": grid}).frame
    links = store.party_book().links()
    confirmed = links.loc[links["center_code"] == center, "household_code"]
    free = households[~households["code"].isin(links["household_code"])]
    free = free[free.geometry.notna()].reset_index(drop=True)
    metric = free.to_crs(metric_crs(free))
    xy = shapely.get_coordinates(metric.geometry.to_numpy())
    centers = free["center_household"].fillna(False).to_numpy(dtype=bool)
    result = link_households(free["code"], free["grid_code"], xy, centers, LINK_QUOTA)
    mine = (result.linked_to.to_numpy(dtype=object) == center) & (
        free["code"].to_numpy(dtype=object) != center
    )
    at = int(np.flatnonzero(free["code"].to_numpy(dtype=object) == center)[0])
    distance = np.hypot(*(xy[mine] - xy[at]).T)
    chosen = free["code"].to_numpy(dtype=object)[mine][np.argsort(distance, kind="stable")]
    return [str(c) for c in chosen[: max(LINK_QUOTA - len(confirmed), 0)]]

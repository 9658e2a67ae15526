"""Visit coverage (走访覆盖率): the share of households visited within their frequency, and how many are late.

Reads the `visit_status` input (`gridmap.visits.due.visit_status`: per
household code, whether its last visit is still within its frequency on the
analysis day, and whether it is overdue). A household the input does not name
was never visited: overdue. Without the input (a store that records no
visits) the measure is simply not taken: no columns, and no note, since most
analyses of boundaries and sites have nothing to do with visits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridmap.measures import Computation, Figures, Inputs


def _visits(inputs: Inputs) -> Figures:
    status = inputs.layers.get("visit_status")
    if status is None or not len(status):
        return Figures()
    codes = pd.Index(status["code"].astype(str))
    households = inputs.layers["households"]["code"].astype(str).to_numpy(dtype=object)
    at = codes.get_indexer(households)
    known = at >= 0
    in_time = np.zeros(len(households), dtype=bool)
    in_time[known] = status["in_time"].to_numpy(dtype=bool)[at[known]]
    overdue = ~in_time
    overdue[known] = status["overdue"].to_numpy(dtype=bool)[at[known]]
    return Figures(
        households={"visited_in_time": in_time},
        counts={
            "visited_in_time": inputs.per_grid(inputs.household_grid, in_time),
            "visits_overdue": inputs.per_grid(inputs.household_grid, overdue),
        },
    )


visits = Computation(
    _visits,
    reads=("visit_status",),
    columns=("visited_in_time",),
    counts=("visited_in_time", "visits_overdue"),
)

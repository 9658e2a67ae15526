"""一户十联: a household counts when a center household of its grid links it (`gridmap.linkage`)."""

from __future__ import annotations

from gridmap.measures import Computation, Figures, Inputs


def _linkage(inputs: Inputs) -> Figures:
    linked_to = inputs.links()
    linked = linked_to.notna().to_numpy(dtype=bool)
    return Figures(
        households={"linked_to": linked_to.array},
        counts={"linked": inputs.per_grid(inputs.household_grid, linked)},
    )


linkage = Computation(_linkage, columns=("linked_to",), counts=("linked",), waits=True)

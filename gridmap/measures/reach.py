"""Straight-line reach: households in range of a working speaker or within `radius_m` of a service point."""

from __future__ import annotations

from gridmap.coverage import service_coverage, speaker_coverage
from gridmap.measures import Computation, Figures, Inputs


def _speakers(inputs: Inputs) -> Figures:
    covered = speaker_coverage(
        inputs.households_xy, inputs.layers["speakers"], inputs.metric, inputs.coverage
    )
    counted = inputs.per_grid(inputs.household_grid, covered)
    total = inputs.per_grid(inputs.household_grid)
    return Figures(
        households={"speaker_covered": covered},
        counts={"speaker_covered": counted, "uncovered_households": total - counted},
    )


def _service_points(inputs: Inputs) -> Figures:
    covered = service_coverage(
        inputs.households_xy, inputs.layers["service_points"], inputs.metric, inputs.coverage
    )
    return Figures(
        households={"service_covered": covered},
        counts={"service_covered": inputs.per_grid(inputs.household_grid, covered)},
    )


speakers = Computation(
    _speakers,
    reads=("speakers",),
    columns=("speaker_covered",),
    counts=("speaker_covered", "uncovered_households"),
)
service_points = Computation(
    _service_points, reads=("service_points",), columns=("service_covered",), counts=("service_covered",)
)

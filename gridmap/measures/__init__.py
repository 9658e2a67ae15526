"""How each measure of `gridmap.vocabulary.MEASURES` is computed: one `Computation` per entry's `compute`.

A computation takes the analysis' `Inputs` (the assigned layers, household
coordinates in the analysis CRS, grid positions, options) and returns
`Figures`: the columns it adds to `Analysis.households` and the per-grid
counts its measures read (`Measure.count`, `Measure.base`), which add up from
grids to communities to streets. Analysis, incremental updates and every
table iterate `computations()`, so a measure is added as one module here plus
its registry entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj

from gridmap.arrays import FloatArray, IntArray
from gridmap.coverage import CoverageOptions
from gridmap.errors import ConfigError
from gridmap.vocabulary import MEASURES
from gridmap.walking import WalkingOptions


@dataclass(frozen=True)
class Inputs:
    """What a computation may read: the analysed layers and where their features lie.

    `layers` are the assigned layers (plus `roads` when loaded), `households_xy`
    the households in `metric` (n × 2), `household_grid` / `building_grid` the
    grid row of each (-1: none) among `grids` grids; `links()` waits for the
    一户十联 linkage and gives each household's center (null: unlinked).
    """

    layers: Mapping[str, gpd.GeoDataFrame]
    households_xy: FloatArray
    metric: pyproj.CRS
    grids: int
    household_grid: IntArray
    building_grid: IntArray
    links: Callable[[], pd.Series]
    coverage: CoverageOptions = field(default_factory=CoverageOptions)
    walking: WalkingOptions = field(default_factory=WalkingOptions)

    def per_grid(self, pos: IntArray, weights: npt.ArrayLike | None = None) -> IntArray:
        """Count (or weighted sum) per grid position, ignoring -1."""
        return per_grid(pos, self.grids, weights)


@dataclass
class Figures:
    """What a computation found: household columns (in order), per-grid counts, and a note for people.

    `note` says (in Chinese and English) why a measure was not taken as
    declared, e.g. no roads loaded; its columns are then absent.
    """

    households: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, IntArray] = field(default_factory=dict)
    note: tuple[str, str] | None = None


@dataclass(frozen=True)
class Computation:
    """A computation, the layers it reads besides households and grids (an edit to them redoes it),
    the household columns and per-grid counts (summed upwards) it gives, and whether it waits for
    the linkage."""

    run: Callable[[Inputs], Figures]
    reads: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    waits: bool = False


def per_grid(pos: IntArray, n: int, weights: npt.ArrayLike | None = None) -> IntArray:
    """Count (or weighted sum) per grid position (0..n-1), ignoring -1."""
    ok = pos >= 0
    w = None if weights is None else np.asarray(weights)[ok]
    return np.bincount(pos[ok], weights=w, minlength=n)[:n].astype(np.intp)


@cache
def resolve(path: str) -> Computation:
    """The `Computation` a registry entry names (`module:attribute`)."""
    module, _, name = path.partition(":")
    found = getattr(importlib.import_module(module), name, None)
    if not isinstance(found, Computation):
        raise ConfigError(f"measure computation {path!r} is not a gridmap.measures.Computation")
    return found


def computations() -> dict[str, Computation]:
    """Every computation the registry names, once each, in registry order."""
    return {m.compute: resolve(m.compute) for m in MEASURES.values() if m.compute}


def run_all(inputs: Inputs) -> dict[str, Figures]:
    """Each computation's figures, in registry order."""
    return {path: computation.run(inputs) for path, computation in computations().items()}


def site_layers() -> tuple[str, ...]:
    """The layers some measure reads (an edit to them redoes the measures reading them)."""
    return tuple(dict.fromkeys(layer for c in computations().values() for layer in c.reads))


__all__ = [
    "Computation",
    "Figures",
    "FloatArray",
    "Inputs",
    "computations",
    "per_grid",
    "resolve",
    "run_all",
    "site_layers",
]

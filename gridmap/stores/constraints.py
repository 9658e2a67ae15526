"""The catalogue's rules as constraints every writer meets, gridmap or not (QGIS, GDAL, psql).

One list, read by three enforcers so they refuse the same values with the
same names: `gridmap.stores._frames.prepare` (gridmap's own writes, before
anything is written), PostGIS CHECK constraints (migration 0006, a fixed
snapshot of this list, compared with it by the tests) and GeoPackage
triggers (`RAISE(ABORT, '<name>: <reason>')`, made from this list when a
file is opened, since SQLite cannot add a CHECK to an existing table).

A constraint's name says what is wrong, so the bare database error a QGIS
user sees is enough: `speakers_status_must_be_working_or_broken`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gridmap.catalogue import LAYER_NAMES, Field, Layer, get_layer

CONTROL_CHARACTERS = "".join(chr(c) for c in (*range(1, 32), 127))
"""Characters a code never holds (C0 controls and DEL; NUL is refused as text everywhere)."""


@dataclass(frozen=True)
class Constraint:
    """One rule on one field: `kind` is `choices`, `not_negative` or `no_control_characters`."""

    layer: str
    field: str
    kind: str
    choices: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        if self.kind == "choices":
            return f"{self.layer}_{self.field}_must_be_{'_or_'.join(self.choices)}"
        if self.kind == "not_negative":
            return f"{self.layer}_{self.field}_must_not_be_negative"
        return f"{self.layer}_{self.field}_must_have_no_control_characters"

    @property
    def reason(self) -> str:
        if self.kind == "choices":
            return f"{self.field} must be one of {', '.join(self.choices)}"
        if self.kind == "not_negative":
            return f"{self.field} must not be negative"
        return f"{self.field} must not contain control characters"

    def postgres(self) -> str:
        """The CHECK expression (NULL passes, as in every CHECK)."""
        if self.kind == "choices":
            return f"{self.field} IN ({', '.join(repr(c) for c in self.choices)})"
        if self.kind == "not_negative":
            return f"{self.field} >= 0"
        return f"{self.field} !~ '[\\x01-\\x1f\\x7f]'"

    def sqlite_violation(self, row: str = "NEW") -> str:
        """A SQLite condition true when `row` breaks the rule (plain SQL: no function of gridmap's)."""
        column = f'{row}."{self.field}"'
        if self.kind == "choices":
            return f"{column} NOT IN ({', '.join(repr(c) for c in self.choices)})"
        if self.kind == "not_negative":
            return f"{column} < 0"
        return f"{column} GLOB '*[' || char(1) || '-' || char(31) || char(127) || ']*'"

    def broken(self, values: pd.Series) -> np.ndarray:
        """Which values of a column break the rule (nulls never do)."""
        present = values.notna().to_numpy(dtype=bool)
        if self.kind == "choices":
            return present & ~values.isin(self.choices).to_numpy(dtype=bool)
        if self.kind == "not_negative":
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            return present & (numbers < 0)
        pattern = "[" + CONTROL_CHARACTERS + "]"
        found = values.astype("string").str.contains(pattern, regex=True).fillna(False)
        return present & found.to_numpy(dtype=bool)


def _field_constraints(layer: str, f: Field) -> list[Constraint]:
    out: list[Constraint] = []
    if f.choices:
        out.append(Constraint(layer, f.name, "choices", f.choices))
    if f.type in ("integer", "real"):
        # Imports refuse a negative number in any field (gridmap.ingest.values): counts, radii, power.
        out.append(Constraint(layer, f.name, "not_negative"))
    if f.name == "code" or f.name.endswith("_code"):
        out.append(Constraint(layer, f.name, "no_control_characters"))
    return out


def constraints(layer: str | Layer) -> list[Constraint]:
    """The rules of one layer, in the catalogue's field order."""
    spec = get_layer(layer) if isinstance(layer, str) else layer
    return [c for f in spec.fields for c in _field_constraints(spec.name, f)]


def all_constraints() -> list[Constraint]:
    """The rules of every catalogue layer."""
    return [c for name in LAYER_NAMES for c in constraints(name)]

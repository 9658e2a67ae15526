"""Households in their buildings, and the grid workers and party branches of each grid.

Households are expanded from buildings: one per room of every floor of
every unit (a village house holds one). Their random attributes are drawn
first, compactly (`HouseholdDraws`), and their strings made slice by slice,
so a city of ten million households is written without holding it whole. A household's point
lies inside its building's footprint, offset by unit, room and floor so no
two households share a point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gridmap.arrays import BoolArray, FloatArray
from gridmap.arrays import Int64Array as IntArray
from gridmap.sample import names
from gridmap.sample.buildings import Buildings

StrArray = npt.NDArray[np.str_]

PARTY_SHARE = 0.08
CENTER_PER_HOUSEHOLDS = 32  # about one 党员中心户 per 32 households: linkage covers about a third
SIZE_SHARES = (0.18, 0.30, 0.27, 0.15, 0.10)  # persons 1..5
MISSING_STAFF_SHARE = 0.04  # grids without a party branch, and (others) without a grid worker


@dataclass(frozen=True)
class Households:
    """Households as arrays; `unit`/`room` are empty strings in village houses."""

    building: IntArray
    number: IntArray  # 1-based within the building
    xy: FloatArray
    unit: StrArray
    room: StrArray
    address: StrArray
    size: IntArray
    party_member: BoolArray
    center_household: BoolArray
    contact_name: StrArray
    contact_phone: StrArray


@dataclass(frozen=True)
class HouseholdDraws:
    """Every household's random attributes, compact: the strings are made slice by slice (`households`).

    Ten million households fit in well under a gigabyte this way, where their
    strings would take several.
    """

    buildings: Buildings
    per_building: IntArray  # households of each building
    size: npt.NDArray[np.int8]
    party_member: BoolArray
    center_household: BoolArray
    people: names.PeopleDraws

    def __len__(self) -> int:
        return len(self.size)

    def building_starts(self) -> IntArray:
        """Position of each building's first household."""
        return np.cumsum(self.per_building) - self.per_building

    def households(self, rows: slice = slice(None)) -> Households:
        """The households of `rows` (a step-less slice), strings and points included."""
        lo, hi, _ = rows.indices(len(self))
        starts = self.building_starts()
        b = np.searchsorted(starts, np.arange(lo, hi), side="right") - 1
        local = np.arange(lo, hi) - starts[b]
        bs = self.buildings
        village = bs.units[b] == 0
        units = np.where(village, 1, bs.units[b])
        rooms = np.where(village, 1, bs.rooms[b])
        floors = bs.floors[b]
        # Numbering: unit by unit, floor by floor, room by room (1单元101室, 1单元102室, …).
        per_unit = floors * rooms
        unit = np.where(village, 0, local // per_unit)
        floor = np.where(village, 0, (local % per_unit) // rooms)
        room = np.where(village, 0, local % rooms)

        rect = bs.rect[b]
        w, h = rect[:, 2] - rect[:, 0], rect[:, 3] - rect[:, 1]
        x = rect[:, 0] + w * (unit + (room + 0.5) / rooms) / units
        y = rect[:, 1] + h * (0.2 + 0.6 * (floor + 0.5) / floors)

        unit_label = np.where(village, "", np.char.add((unit + 1).astype(str), "单元"))
        room_label = np.where(village, "", np.char.add(((floor + 1) * 100 + room + 1).astype(str), "室"))
        return Households(
            building=b,
            number=local + 1,
            xy=np.stack([x, y], axis=1),
            unit=unit_label,
            room=room_label,
            address=np.char.add(bs.address[b], np.char.add(unit_label, room_label)),
            size=self.size[lo:hi].astype(np.int64),
            party_member=self.party_member[lo:hi],
            center_household=self.center_household[lo:hi],
            contact_name=self.people.names(rows),
            contact_phone=self.people.phones(rows),
        )


def draw_households(buildings: Buildings, rng: np.random.Generator) -> HouseholdDraws:
    """Every household of every building: one per room of every floor of every unit, one per house."""
    per = buildings.households
    n = int(per.sum())
    party = rng.random(n) < PARTY_SHARE
    center = party & (rng.random(n) < 1 / (CENTER_PER_HOUSEHOLDS * PARTY_SHARE))
    size = rng.choice(np.arange(1, 6), n, p=SIZE_SHARES).astype(np.int8)
    return HouseholdDraws(buildings, per, size, party, center, names.name_draws(rng, n))


@dataclass(frozen=True)
class Staff:
    """Per grid: its party branch name and grid worker (None where the grid has none)."""

    party_branch: list[str | None]
    worker_name: list[str | None]
    worker_phone: list[str | None]


def build_staff(grid_names: list[str], rng: np.random.Generator) -> Staff:
    """Branches and workers for every grid; a few grids lack one or the other (never both)."""
    n = len(grid_names)
    missing = max(1, round(MISSING_STAFF_SHARE * n))
    picked = rng.permutation(n)[: 2 * missing] if n >= 2 else np.zeros(0, dtype=np.int64)
    no_branch, no_worker = set(picked[:missing].tolist()), set(picked[missing:].tolist())
    workers, phones = names.person_names(rng, n), names.phones(rng, n)
    return Staff(
        party_branch=[None if i in no_branch else f"{name}党支部" for i, name in enumerate(grid_names)],
        worker_name=[None if i in no_worker else str(workers[i]) for i in range(n)],
        worker_phone=[None if i in no_worker else str(phones[i]) for i in range(n)],
    )

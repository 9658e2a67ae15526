"""The service area: the region imported data may lie in, so a misplaced file is caught.

By default it is China's extent; an operator sets `GRIDMAP_SERVICE_AREA` to
`world`, to a lon/lat box `minlon,minlat,maxlon,maxlat` (a project or test
area abroad), or to `streets`: the loaded streets' extent plus a margin (the
district itself; streets themselves are then checked against their CRS's
valid area). GCJ-02 and BD-09 are only defined in China, so data declared
in them must lie in China whatever the setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridmap.crs import Bounds, CRSSpec, valid_area
from gridmap.errors import ConfigError
from gridmap.settings import SERVICE_AREA_VARIABLE, service_area_setting
from gridmap.stores.base import Store
from gridmap.texts import Message

CHINA: Bounds = (73.0, 3.0, 136.0, 54.0)
"""Roughly China's extent, South China Sea islands included."""
WORLD: Bounds = (-180.0, -90.0, 180.0, 90.0)
STREETS_MARGIN_DEG = 0.05
"""How far (about 5 km) beyond the loaded streets data may lie under `streets`."""


@dataclass(frozen=True)
class ServiceArea:
    """A lon/lat box and the words that name it in an error."""

    bounds: Bounds
    text: str


def _box_text(bounds: Bounds) -> Message:
    return Message(
        "area.box", x0=f"{bounds[0]:g}", x1=f"{bounds[2]:g}", y0=f"{bounds[1]:g}", y1=f"{bounds[3]:g}"
    )


CHINA_AREA = ServiceArea(CHINA, Message("area.china", box=_box_text(CHINA), variable=SERVICE_AREA_VARIABLE))


def _parse_box(text: str) -> Bounds:
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(
            f"{SERVICE_AREA_VARIABLE}={text!r}: expected china, world, streets or minlon,minlat,maxlon,maxlat"
        ) from None
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise ConfigError(
            f"{SERVICE_AREA_VARIABLE}={text!r} is not a lon/lat box (min < max, within ±180/±90)"
        )
    return (x0, y0, x1, y1)


def service_area(store: Store, layer: str, crs: CRSSpec, setting: str | None = None) -> ServiceArea:
    """The region `layer`'s features in `crs` may lie in, by `setting` (default: the environment's)."""
    chosen = (setting or service_area_setting()).strip().lower()
    if chosen == "china":
        area = CHINA_AREA
    elif chosen == "world":
        area = ServiceArea(WORLD, Message("area.world"))
    elif chosen == "streets":
        area = _streets_area(store, layer, crs)
    else:
        bounds = _parse_box(chosen)
        area = ServiceArea(
            bounds, Message("area.setting", box=_box_text(bounds), variable=SERVICE_AREA_VARIABLE)
        )
    if crs.is_offset:
        return _within_china(area, crs)
    return area


def _streets_area(store: Store, layer: str, crs: CRSSpec) -> ServiceArea:
    if layer != "streets":
        streets = store.read("streets")
        if not streets.empty:
            x0, y0, x1, y1 = (float(v) for v in streets.total_bounds)
            m = STREETS_MARGIN_DEG
            bounds = (max(x0 - m, -180.0), max(y0 - m, -90.0), min(x1 + m, 180.0), min(y1 + m, 90.0))
            return ServiceArea(bounds, Message("area.streets", box=_box_text(bounds)))
    bounds = valid_area(crs)
    return ServiceArea(bounds, Message("area.crs", crs=crs.name, box=_box_text(bounds)))


def _within_china(area: ServiceArea, crs: CRSSpec) -> ServiceArea:
    """GCJ-02 and BD-09 data lie in China: the service area cut to China's extent."""
    a, c = np.asarray(area.bounds), np.asarray(CHINA)
    x0, y0 = np.maximum(a[:2], c[:2])
    x1, y1 = np.minimum(a[2:], c[2:])
    bounds = (float(x0), float(y0), float(x1), float(y1))
    if area.bounds == CHINA:
        return area
    if x0 >= x1 or y0 >= y1 or bounds == CHINA:
        return ServiceArea(CHINA, Message("area.china_crs", crs=crs.name, box=_box_text(CHINA)))
    return ServiceArea(bounds, Message("area.within_china", area=area.text, crs=crs.name))

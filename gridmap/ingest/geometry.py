"""Geometries of an import: built from lon/lat or WKT columns, checked, repaired on request, moved to WGS84.

Every check is one shapely/numpy operation over the whole array; only the
rows that fail are visited one by one, to word their problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.catalogue import Layer
from gridmap.crs import CRSSpec, geoms_to_wgs84, to_wgs84
from gridmap.errors import Problem
from gridmap.ingest.area import CHINA_AREA, ServiceArea
from gridmap.ingest.columns import ColumnMapping
from gridmap.ingest.values import as_text, parse_numbers
from gridmap.texts import Message

Geoms = npt.NDArray[np.object_]
Floats = npt.NDArray[np.float64]
GEOMETRY = "geometry"


_POINT, _LINESTRING, _POLYGON, _MULTIPOINT, _MULTILINESTRING, _MULTIPOLYGON = 0, 1, 3, 4, 5, 6
_TYPE_NAMES = {
    -1: "nothing",
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


@dataclass
class GeometryResult:
    """Geometries in WGS84 (None where the row had none), the problems found, and the repairs made."""

    geoms: Geoms
    problems: list[Problem] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)


def _problems(mask: npt.NDArray[np.bool_], reason: Callable[[int], str]) -> list[Problem]:
    return [Problem(int(i) + 1, GEOMETRY, reason(int(i))) for i in np.flatnonzero(mask)]


def has_geometry_columns(mapping: ColumnMapping) -> bool:
    """Whether a table says where its rows are: a WKT column, or both a lon and a lat column."""
    return "wkt" in mapping.geometry or {"lon", "lat"} <= mapping.geometry.keys()


def from_columns(table: pd.DataFrame, mapping: ColumnMapping) -> tuple[Geoms, list[Problem]]:
    """Any geometry from a WKT column, else points from lon/lat columns; None where the cells are empty.

    WKT wins when a table has both (an XLSX export carries lon/lat for people and WKT for the shape).
    """
    n = len(table)
    if "wkt" in mapping.geometry:
        column = mapping.geometry["wkt"]
        text = as_text(table[column])
        given = text.notna().to_numpy()
        geoms: Geoms = np.full(n, None, dtype=object)
        geoms[given] = shapely.from_wkt(text[given].to_numpy(dtype=object), on_invalid="ignore")
        unreadable = given & shapely.is_missing(geoms)
        return geoms, _problems(
            unreadable, lambda i: Message("import.not_wkt", cell=repr(str(text.iat[i])[:60]), column=column)
        )
    if "lon" in mapping.geometry and "lat" in mapping.geometry:
        lon_col, lat_col = mapping.geometry["lon"], mapping.geometry["lat"]
        x, x_problems = _coordinate(table[lon_col], lon_col)
        y, y_problems = _coordinate(table[lat_col], lat_col)
        problems = x_problems + y_problems
        has_x, has_y = ~np.isnan(x), ~np.isnan(y)
        given_x = table[lon_col].notna().to_numpy()
        given_y = table[lat_col].notna().to_numpy()
        problems += _problems(
            given_x & ~given_y, lambda _i: Message("import.half_point", given=lon_col, empty=lat_col)
        )
        problems += _problems(
            given_y & ~given_x, lambda _i: Message("import.half_point", given=lat_col, empty=lon_col)
        )
        both = has_x & has_y
        geoms = np.full(n, None, dtype=object)
        geoms[both] = shapely.points(x[both], y[both])
        return geoms, problems
    return np.full(n, None, dtype=object), []


def _coordinate(series: pd.Series, column: str) -> tuple[npt.NDArray[np.float64], list[Problem]]:
    text = as_text(series)
    number = parse_numbers(text)
    bad = text.notna().to_numpy() & ~np.isfinite(number)
    number[bad] = np.nan
    return number, _problems(
        bad, lambda i: Message("import.not_coordinate", cell=repr(text.iat[i]), column=column)
    )


def check_and_transform(
    layer: Layer, geoms: Geoms, crs: CRSSpec, *, fix: bool, area: ServiceArea = CHINA_AREA
) -> GeometryResult:
    """Check type, emptiness, coordinates and validity; promote, repair (with `fix`) and move to WGS84.

    Rows without a geometry stay None: whether that is an error depends on the
    layer (a household may take its building's point), which the caller decides.
    """
    result = GeometryResult(geoms)
    present = ~shapely.is_missing(result.geoms)
    empty = present & shapely.is_empty(result.geoms)
    result.problems += _problems(empty, lambda _i: Message("import.empty_geometry"))
    usable = present & ~empty
    _conform_types(layer, result, usable)
    _check_coordinates(result, crs, usable, area)
    # Validity is judged on the file's own coordinates: the densified transform must start from valid rings.
    if layer.geometry in ("Polygon", "MultiPolygon"):
        _check_validity(layer, result, usable, fix=fix)
    if not crs.is_wgs84:
        result.geoms[usable] = geoms_to_wgs84(result.geoms[usable], crs)
    return result


def _conform_types(layer: Layer, result: GeometryResult, usable: npt.NDArray[np.bool_]) -> None:
    """Reject the wrong kind of geometry; make one-part multipoints points, and polygons what the layer holds.

    Like the other checks, it narrows `usable` in place to the rows still worth checking.
    """
    types = shapely.get_type_id(result.geoms)
    parts = shapely.get_num_geometries(result.geoms)
    if layer.geometry == "Point":
        single = usable & (types == _MULTIPOINT) & (parts == 1)
        result.geoms[single] = shapely.get_geometry(result.geoms[single], 0)
        accepted = (types == _POINT) | single
    elif layer.geometry == "MultiLineString":
        # Lines are kept as given: a road is one line or several, and a line of one point is no road.
        accepted = ((types == _LINESTRING) | (types == _MULTILINESTRING)) & (shapely.length(result.geoms) > 0)
    else:
        # A polygon layer keeps a one-part multipolygon as the polygon it is (GDAL promotes them on export).
        if layer.geometry == "Polygon":
            single = usable & (types == _MULTIPOLYGON) & (parts == 1)
            result.geoms[single] = shapely.get_geometry(result.geoms[single], 0)
        promote = usable & (types == _POLYGON) & (layer.geometry == "MultiPolygon")
        if promote.any():
            result.geoms[promote] = shapely.multipolygons(
                result.geoms[promote], indices=np.arange(int(promote.sum()))
            )
        accepted = (types == _POLYGON) | (types == _MULTIPOLYGON)
    wrong = usable & ~accepted
    wanted = Message(
        {"Point": "import.want_point", "MultiLineString": "import.want_line"}.get(
            layer.geometry, "import.want_polygon"
        )
    )
    result.problems += _problems(
        wrong, lambda i: Message("import.wrong_type", wanted=wanted, got=_TYPE_NAMES[int(types[i])])
    )
    usable &= accepted


def _inside(area: ServiceArea, x0: Floats, y0: Floats, x1: Floats, y1: Floats) -> npt.NDArray[np.bool_]:
    a = area.bounds
    return (x0 >= a[0]) & (x1 <= a[2]) & (y0 >= a[1]) & (y1 <= a[3])


def _check_coordinates(
    result: GeometryResult, crs: CRSSpec, usable: npt.NDArray[np.bool_], area: ServiceArea
) -> None:
    """Coordinates must lie in the declared CRS's valid area and, once in WGS84, in the service area."""
    x0, y0, x1, y1 = shapely.bounds(result.geoms).T
    if crs.is_offset or crs.pyproj_crs.is_geographic:
        inside = _inside(area, x0, y0, x1, y1)
        swapped = usable & ~inside & _inside(area, y0, x0, y1, x1)
        world = (x0 >= -180) & (x1 <= 180) & (y0 >= -90) & (y1 <= 90)
        result.problems += _problems(
            swapped, lambda i: Message("import.swapped", x=f"{x0[i]:g}", y=f"{y0[i]:g}", area=area.text)
        )
        result.problems += _problems(
            usable & ~swapped & ~world,
            lambda i: Message("import.not_lonlat", x=f"{x0[i]:g}", y=f"{y0[i]:g}"),
        )
        result.problems += _problems(
            usable & ~inside & ~swapped & world,
            lambda i: Message("import.outside", x=f"{x0[i]:g}", y=f"{y0[i]:g}", area=area.text),
        )
    else:
        lon0, lat0 = to_wgs84(x0, y0, crs)
        lon1, lat1 = to_wgs84(x1, y1, crs)
        lost = usable & ~(np.isfinite(lon0) & np.isfinite(lat0) & np.isfinite(lon1) & np.isfinite(lat1))
        inside = _inside(area, lon0, lat0, lon1, lat1)
        result.problems += _problems(
            lost,
            lambda i: Message("import.outside_crs", x=f"{x0[i]:.2f}", y=f"{y0[i]:.2f}", crs=crs.name),
        )
        result.problems += _problems(
            usable & ~lost & ~inside,
            lambda i: Message(
                "import.lands_outside",
                x=f"{x0[i]:.2f}",
                y=f"{y0[i]:.2f}",
                crs=crs.name,
                lon=f"{lon0[i]:.4f}",
                lat=f"{lat0[i]:.4f}",
                area=area.text,
            ),
        )
    usable &= inside


def _check_validity(
    layer: Layer, result: GeometryResult, usable: npt.NDArray[np.bool_], *, fix: bool
) -> None:
    """Invalid polygons are errors, or with `fix` are repaired by make_valid (keeping the polygonal parts)."""
    invalid = usable & ~shapely.is_valid(result.geoms)
    if not invalid.any():
        return
    positions = np.flatnonzero(invalid)
    reasons = shapely.is_valid_reason(result.geoms[positions])
    if not fix:
        result.problems += [
            Problem(int(i) + 1, GEOMETRY, Message("import.invalid_geometry_fix", reason=reason))
            for i, reason in zip(positions, reasons, strict=True)
        ]
        return
    repaired = _polygonal(shapely.make_valid(result.geoms[positions]), multi=layer.geometry == "MultiPolygon")
    lost = shapely.is_missing(repaired)
    for i, reason, gone in zip(positions, reasons, lost, strict=True):
        if gone:
            result.problems.append(
                Problem(int(i) + 1, GEOMETRY, Message("import.invalid_geometry_lost", reason=reason))
            )
        else:
            result.repaired.append(Problem(int(i) + 1, GEOMETRY, Message("import.repaired", what=reason)))
    result.geoms[positions] = repaired


def _polygonal(geoms: Geoms, *, multi: bool) -> Geoms:
    """The polygon parts of each geometry (make_valid may add lines or points), None when there are none."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == _POLYGON
    out: Geoms = np.full(len(geoms), None, dtype=object)
    if keep.any():
        shapely.multipolygons(parts[keep], indices=index[keep], out=out)
    if not multi:
        single = ~shapely.is_missing(out) & (shapely.get_num_geometries(out) == 1)
        out[single] = shapely.get_geometry(out[single], 0)
    return out

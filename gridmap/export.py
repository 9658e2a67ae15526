"""Export layers and analysis outputs to the formats GIS staff use, in the CRS their tool needs.

One function, `export_layer(frame, path, fmt, crs)`, serves the CLI and the
API for any GeoDataFrame (a catalogue layer, or an analysis output such as
grids with coverage figures or uncovered households). Personal fields follow
the caller's role (`gridmap.privacy.protect`). The output CRS is recorded in
the file where the format allows it (GeoPackage SRS, Shapefile .prj,
FlatGeobuf header, GeoJSON `crs` for projected output); GCJ-02 and BD-09
have no EPSG code, so their files are labelled EPSG:4326 and carry a note in
their metadata and in their file name (`households_gcj02.geojson`).

Shapefile field names are at most 10 characters. The rule (`short_field_names`):
a name of 10 characters or fewer is kept; otherwise every word keeps its
first letter and drops its later vowels (center_household → cntr_hshld);
if that is still too long the underscores go, then the end is cut; a name
that would repeat an earlier one ends in `_2`, `_3`, … instead. The zip
holds a README with the mapping and the Chinese labels, and a sidecar
`<layer>.gridmap.json` ({"fields": {short: full}, "crs", "encoding"}) that
`gridmap import` reads to restore the full names and the true CRS.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Literal, TextIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridmap.catalogue import LAYERS, get_layer
from gridmap.crs import CRSInput, CRSSpec, frame_from_wgs84, parse_crs
from gridmap.errors import GridmapError, NotFoundError
from gridmap.formats import FORMATS, GPKG_CREATION, FormatKey, written_as
from gridmap.formulas import neutralise
from gridmap.ingest.columns import short_field_names
from gridmap.ingest.readers import FIELDS_SIDECAR
from gridmap.privacy import Role, protect
from gridmap.stores.base import BBox, Store
from gridmap.stores.query import Records, Value
from gridmap.texts import Message

__all__ = [
    "FORMATS",
    "ExportError",
    "crs_note",
    "export_layer",
    "export_layers",
    "geojson_features",
    "personal_columns",
    "select_features",
    "short_field_names",
    "write_csv",
]

ExportFormat = FormatKey
CsvGeometry = Literal["wkt", "lonlat"]
Headers = Literal["zh", "canonical"]
HEADERS: tuple[str, ...] = ("zh", "canonical")
_XY_ZH = {"lon": "经度", "lat": "纬度", "x": "x坐标", "y": "y坐标"}
"""Chinese headers of the coordinate columns (each one the importer reads back as that coordinate)."""

XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
_LONLAT_DECIMALS = 9  # 1e-9 degree ≈ 0.1 mm
_METRE_DECIMALS = 3
_KML_CHUNK = 50_000  # placemarks built at once: bounds the writer's memory


class ExportError(GridmapError):
    """An export that cannot be written as asked (format, CRS or size)."""


# KML fill and line colours (aabbggrr) per coverage grade, per covered flag and per speaker status.
_GRADE_COLOURS = {"A": "8000a000", "B": "8000d0a0", "C": "8000a0ff", "D": "800000e0"}
_FLAG_COLOURS = {True: "ff00a000", False: "ff0000e0"}
_DEFAULT_COLOUR = "80e08000"


def parse_format(fmt: str | None, path: Path) -> str:
    """The format named by `fmt`, or guessed from the file suffix."""
    if fmt is None:
        guessed = written_as(path)
        if guessed is None:
            raise ExportError(f"cannot tell the format of {path.name}; use one of: {', '.join(FORMATS)}")
        return guessed.key
    key = fmt.strip().lower()
    if key not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    return key


def crs_note(spec: CRSSpec) -> str:
    """A line, in Chinese and English, saying which coordinate system a file is in."""
    if spec.kind == "gcj02":
        return (
            "坐标系：GCJ-02（国测局坐标，高德/腾讯地图），不是 WGS84；文件中标注的 EPSG:4326 仅为兼容。"
            " Coordinates are GCJ-02 (Amap/Tencent), not WGS84, although labelled EPSG:4326."
        )
    if spec.kind == "bd09":
        return (
            "坐标系：BD-09（百度地图坐标），不是 WGS84；文件中标注的 EPSG:4326 仅为兼容。"
            " Coordinates are BD-09 (Baidu), not WGS84, although labelled EPSG:4326."
        )
    crs = spec.pyproj_crs
    code = crs.to_epsg()
    return f"坐标系 Coordinate system: {crs.name}" + (f" (EPSG:{code})" if code else "")


def _with_crs_in_name(path: Path, spec: CRSSpec) -> Path:
    """`households.geojson` → `households_gcj02.geojson` for the offset systems (unless already named)."""
    if not spec.is_offset or spec.name in path.name.lower():
        return path
    return path.with_name(f"{path.stem}_{spec.name}{path.suffix}")


def personal_columns(frame: gpd.GeoDataFrame, layer: str | None) -> list[str]:
    """The personal fields `frame` holds: its catalogue layer's, or any layer's for other frames."""
    specs = [get_layer(layer)] if layer in LAYERS else list(LAYERS.values())
    personal = {name for spec in specs for name in spec.personal_fields}
    return [c for c in frame.columns if c in personal]


def _protect_any(
    frame: gpd.GeoDataFrame, layer: str | None, role: Role, *, with_personal: bool = True
) -> gpd.GeoDataFrame:
    """Apply the role to a catalogue layer, or to any frame by every layer's personal fields.

    Without `with_personal` the personal fields are left out whatever the role:
    a file travels further than the store.
    """
    if not with_personal:
        frame = frame.drop(columns=personal_columns(frame, layer))
    if layer in LAYERS:
        return protect(layer, frame, role)
    for spec in LAYERS.values():
        frame = protect(spec, frame, role)
    return frame


def _labels(columns: Sequence[str], layer: str | None) -> dict[str, str]:
    """Chinese label of each column (from the catalogue layer, else from any layer having it)."""
    specs = [get_layer(layer)] if layer in LAYERS else []
    specs += list(LAYERS.values())
    labels: dict[str, str] = {}
    for column in columns:
        for spec in specs:
            if column in spec.field_names:
                labels[column] = spec.get(column).label_zh
                break
    return labels


def export_layer(
    frame: gpd.GeoDataFrame,
    path: str | Path,
    fmt: str | None = None,
    crs: CRSInput = "wgs84",
    *,
    layer: str | None = None,
    name: str | None = None,
    role: Role | str = Role.ADMIN,
    encoding: str | None = None,
    csv_geometry: CsvGeometry = "wkt",
    with_personal: bool = True,
    headers: Headers = "zh",
) -> Path:
    """Write `frame` to `path` as `fmt` in `crs`; returns the path written.

    `layer` names the catalogue layer (for personal fields and Chinese labels;
    any other frame is protected by every layer's personal fields); `name` is
    the layer name inside the file (default: `layer` or the file stem).
    `encoding` applies to Shapefile and CSV (UTF-8 by default; e.g. GBK for
    old ArcGIS or Excel). `with_personal=False` leaves the personal fields out
    (the command line's default). `headers` applies to XLSX, written for 社区
    staff: Chinese column labels and 是/否 by default, `canonical` for the
    field names; the importer reads either back. The path may change: a Shapefile is a `.zip`, and
    GCJ-02 / BD-09 output carries the system in its file name, and a name without a
    suffix gets the format's.
    """
    target = Path(path)
    key = parse_format(fmt, target)
    spec = parse_crs(crs)
    if frame.crs is None:
        raise ExportError("the frame to export has no CRS")
    if key == "kml" and spec.pyproj_crs.is_projected:
        raise ExportError("KML is always longitude/latitude: export it as wgs84, cgcs2000, gcj02 or bd09")
    if key == "xlsx" and len(frame) > XLSX_MAX_ROWS:
        raise ExportError(f"{len(frame):,} rows do not fit an Excel sheet (at most {XLSX_MAX_ROWS:,})")
    if not target.suffix:
        target = target.with_name(target.name + FORMATS[key].suffix)
    if key == "shp" and target.suffix.lower() != ".zip":
        target = target.with_name(target.name + ".zip")
    target = _with_crs_in_name(target, spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    out = frame_from_wgs84(_protect_any(frame, layer, Role(role), with_personal=with_personal), spec)
    layer_name = name or layer or target.stem.split(".")[0]
    if headers not in HEADERS:
        raise ExportError(f"headers must be one of {', '.join(HEADERS)}, not {headers!r}")
    _WRITERS[key](_Job(out, target, layer_name, spec, layer, encoding, csv_geometry, headers))
    return target


def export_layers(
    frames: Mapping[str, gpd.GeoDataFrame],
    path: str | Path,
    crs: CRSInput = "wgs84",
    *,
    role: Role | str = Role.ADMIN,
    with_personal: bool = True,
) -> Path:
    """Several layers in one GeoPackage (each protected by its own catalogue entry)."""
    spec = parse_crs(crs)
    target = _with_crs_in_name(Path(path), spec)
    target.unlink(missing_ok=True)
    for layer, frame in frames.items():
        out = frame_from_wgs84(_protect_any(frame, layer, Role(role), with_personal=with_personal), spec)
        _write_gpkg(_Job(out, target, layer, spec, layer))
    return target


# --- Writers ----------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """One export, as every writer needs it: the frame already protected and in the output CRS."""

    frame: gpd.GeoDataFrame
    path: Path
    name: str
    spec: CRSSpec
    layer: str | None
    encoding: str | None = None
    csv_geometry: CsvGeometry = "wkt"
    headers: Headers = "canonical"


def _is_lonlat(spec: CRSSpec) -> bool:
    return spec.is_offset or bool(spec.pyproj_crs.is_geographic)


def _ogr_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Nullable booleans become 0/1 integers: every OGR driver reads those back."""
    out = frame.copy(deep=False)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.BooleanDtype):
            out[column] = out[column].astype("Int64")
    return out


def _has_mixed_polygons(frame: gpd.GeoDataFrame) -> bool:
    kinds = set(frame.geometry.geom_type.dropna().unique())
    return len(kinds) > 1 and kinds <= {"Polygon", "MultiPolygon"}


def _write_geojson(job: _Job) -> None:
    lonlat = _is_lonlat(job.spec)
    frame = job.frame
    if lonlat:
        frame = frame.set_crs(4326, allow_override=True)  # RFC 7946: lon/lat (cgcs2000 is WGS84 here)
    pyogrio.write_dataframe(
        _ogr_frame(frame),
        job.path,
        layer=job.name,
        driver="GeoJSON",
        use_arrow=True,
        layer_options={"RFC7946": "YES" if lonlat else "NO", "DESCRIPTION": crs_note(job.spec)},
    )


def _write_gpkg(job: _Job) -> None:
    label = get_layer(job.layer).label_zh if job.layer in LAYERS else job.name
    pyogrio.write_dataframe(
        _ogr_frame(job.frame),
        job.path,
        layer=job.name,
        driver="GPKG",
        use_arrow=True,
        dataset_options=None if job.path.exists() else GPKG_CREATION,
        promote_to_multi=_has_mixed_polygons(job.frame),
        layer_options={"IDENTIFIER": f"{label} ({job.name})", "DESCRIPTION": crs_note(job.spec)},
    )


def _write_fgb(job: _Job) -> None:
    pyogrio.write_dataframe(
        _ogr_frame(job.frame),
        job.path,
        layer=job.name,
        driver="FlatGeobuf",
        use_arrow=True,
        promote_to_multi=_has_mixed_polygons(job.frame),
        layer_options={"TITLE": job.name, "DESCRIPTION": crs_note(job.spec)},
    )


def _write_shp(job: _Job) -> None:
    columns = [c for c in job.frame.columns if c != job.frame.geometry.name]
    short = short_field_names(columns)
    labels = _labels(columns, job.layer)
    codec = (job.encoding or "UTF-8").upper()
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{job.name}.shp"
        pyogrio.write_dataframe(
            _ogr_frame(job.frame).rename(columns=short), shp, driver="ESRI Shapefile", encoding=codec
        )
        readme = [
            crs_note(job.spec),
            f"编码 Encoding: {codec}",
            "",
            "字段 Fields (shapefile ← gridmap, 中文):",
        ]
        readme += [f"{short[c]:<10} ← {c}  {labels.get(c, '')}".rstrip() for c in columns]
        sidecar = {
            "fields": {short[c]: c for c in columns if short[c] != c},
            "crs": job.spec.name,
            "encoding": codec,
        }
        with zipfile.ZipFile(job.path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
            archive.writestr("README.txt", "\n".join(readme) + "\n")
            archive.writestr(f"{job.name}{FIELDS_SIDECAR}", json.dumps(sidecar, ensure_ascii=False, indent=1))


def _kml_colours(frame: gpd.GeoDataFrame) -> pd.Series:
    """A KML colour per feature: by coverage grade, covered flag or speaker status, else blue."""
    if "grade" in frame.columns:
        return frame["grade"].astype(object).map(_GRADE_COLOURS).fillna(_DEFAULT_COLOUR)
    if "speaker_covered" in frame.columns:
        return frame["speaker_covered"].astype(object).map(_FLAG_COLOURS).fillna(_DEFAULT_COLOUR)
    if "status" in frame.columns:
        return (frame["status"].astype(object) == "working").map(_FLAG_COLOURS)
    return pd.Series(_DEFAULT_COLOUR, index=frame.index, dtype=object)


def _xml_text(values: pd.Series) -> pd.Series:
    """Values as escaped XML text, missing ones empty."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    return text.str.replace("&", "&amp;").str.replace("<", "&lt;").str.replace(">", "&gt;")


def _kml_coordinates(geom: shapely.Geometry) -> str:
    coords = " ".join(f"{x:.9f},{y:.9f}" for x, y in shapely.get_coordinates(geom))
    return f"<coordinates>{coords}</coordinates>"


def _kml_geometry(geom: shapely.Geometry | None) -> str:
    """One geometry as KML (points, lines, polygons and their multi-parts)."""
    if geom is None or geom.is_empty:
        return ""
    kind = geom.geom_type
    if kind in ("Point", "LineString"):
        return f"<{kind}>{_kml_coordinates(geom)}</{kind}>"
    if kind == "Polygon":
        outer = (
            f"<outerBoundaryIs><LinearRing>{_kml_coordinates(geom.exterior)}</LinearRing></outerBoundaryIs>"
        )
        inner = "".join(
            f"<innerBoundaryIs><LinearRing>{_kml_coordinates(ring)}</LinearRing></innerBoundaryIs>"
            for ring in geom.interiors
        )
        return f"<Polygon>{outer}{inner}</Polygon>"
    return "<MultiGeometry>" + "".join(_kml_geometry(p) for p in shapely.get_parts(geom)) + "</MultiGeometry>"


def _kml_placemarks(frame: gpd.GeoDataFrame, labels: dict[str, str], colours: pd.Series) -> list[str]:
    """One Placemark per feature: name, an HTML table labelled in Chinese, style, ExtendedData, geometry."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    # The title is the name itself (GDAL reads it back as the name), or the code where there is no name field.
    title = frame["name"] if "name" in frame.columns else frame.get("code", pd.Series("", index=frame.index))
    rows = pd.Series("", index=frame.index, dtype=object)
    data = pd.Series("", index=frame.index, dtype=object)
    for column in columns:
        text = _xml_text(frame[column])
        rows = rows + f"<tr><th>{labels.get(column, column)}</th><td>" + text + "</td></tr>"
        data = data + f'<Data name="{column}"><value>' + text + "</value></Data>"
    geometry = pd.Series([_kml_geometry(g) for g in frame.geometry.values], index=frame.index, dtype=object)
    placemarks = (
        "<Placemark><name>" + _xml_text(title) + "</name><description><![CDATA[<table>" + rows
        + "</table>]]></description><styleUrl>#c" + colours.astype(str) + "</styleUrl><ExtendedData>"
        + data + "</ExtendedData>" + geometry + "</Placemark>\n"
    )  # fmt: skip
    return list(placemarks)


def _write_kml(job: _Job) -> None:
    """KML written directly: Chinese names, an HTML description table, styles by coverage.

    Every attribute also goes into ExtendedData, so GDAL (LIBKML) reads the
    fields back. Placemarks are built and written a chunk at a time, so memory
    stays flat however many features there are.
    """
    frame = job.frame
    labels = _labels([c for c in frame.columns if c != frame.geometry.name], job.layer)
    colours = _kml_colours(frame).astype(str)
    styles = "".join(
        f'<Style id="c{c}"><IconStyle><color>{c}</color></IconStyle><LineStyle><color>ff333333</color>'
        f"<width>1</width></LineStyle><PolyStyle><color>{c}</color></PolyStyle></Style>"
        for c in sorted(set(colours))
    )
    label = get_layer(job.layer).label_zh if job.layer in LAYERS else job.name
    with job.path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        )
        out.write(f"<name>{escape(f'{label} ({job.name})')}</name>")
        out.write(f"<description>{escape(crs_note(job.spec))}</description>")
        out.write(styles + f"<Folder><name>{escape(job.name)}</name>\n")
        for start in range(0, len(frame), _KML_CHUNK):
            part = slice(start, start + _KML_CHUNK)
            out.writelines(_kml_placemarks(frame.iloc[part], labels, colours.iloc[part]))
        out.write("</Folder></Document></kml>\n")


def _table(frame: gpd.GeoDataFrame, spec: CRSSpec, geometry: CsvGeometry) -> pd.DataFrame:
    """Attributes plus the geometry as WKT, or as x/y (lon/lat) of each feature's representative point."""
    lonlat = _is_lonlat(spec)
    decimals = _LONLAT_DECIMALS if lonlat else _METRE_DECIMALS
    geoms = np.asarray(frame.geometry.values, dtype=object)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    if geometry == "wkt":
        table["wkt"] = shapely.to_wkt(geoms, rounding_precision=decimals, trim=True)
        return table
    points = shapely.point_on_surface(geoms)
    x_name, y_name = ("lon", "lat") if lonlat else ("x", "y")
    table[x_name] = np.round(shapely.get_x(points), decimals)
    table[y_name] = np.round(shapely.get_y(points), decimals)
    return table


def write_csv(frame: gpd.GeoDataFrame, out: TextIO) -> None:
    """A WGS84 frame as the CSV export's table (attributes, then the geometry as WKT) on a text stream."""
    neutralise(_table(frame, parse_crs("wgs84"), "wkt")).to_csv(out, index=False)


def geojson_features(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """GeoJSON features with `id` = code; missing values become null (as `to_geo_dict(na="null")`).

    Built column by column: each column becomes Python values in one call and
    each geometry its `__geo_interface__`, so a page of ten features costs
    microseconds instead of the milliseconds pandas spends per row and per call.
    """
    return record_features(Records.of_frame(frame))


def record_features(records: Records) -> list[dict[str, Any]]:
    """`geojson_features` of records (`Store.query_records`): the same features, with no frame to read."""
    if not len(records):
        return []
    geoms = records.geometries
    shapes = [
        None if empty else geom.__geo_interface__
        for geom, empty in zip(geoms, shapely.is_missing(geoms) | shapely.is_empty(geoms), strict=True)
    ]
    names = records.names
    features: list[dict[str, Any]] = []
    for row, shape in zip(records.rows, shapes, strict=True):
        properties = dict(zip(names, row, strict=True))
        feature = {"type": "Feature", "properties": properties, "geometry": shape, "id": properties["code"]}
        features.append(feature)
    return features


def _write_csv(job: _Job) -> None:
    # A byte-order mark lets Excel open UTF-8 Chinese text correctly; GDAL skips it.
    codec = (
        "utf-8-sig"
        if job.encoding is None or job.encoding.lower().replace("-", "") == "utf8"
        else job.encoding
    )
    # Text a spreadsheet would run as a formula is quoted (gridmap.formulas); importing unquotes it.
    table = neutralise(_table(job.frame, job.spec, job.csv_geometry))
    table.to_csv(job.path, index=False, encoding=codec)


def _write_xlsx(job: _Job) -> None:
    """The attribute table, with lon/lat (or x/y) of each feature for Excel users, and WKT when asked.

    The numeric coordinate columns also let GDAL recognise the header row.
    """
    table = _table(job.frame, job.spec, "lonlat")
    if job.csv_geometry == "wkt":
        table["wkt"] = _table(job.frame, job.spec, "wkt")["wkt"]
    labels = _labels(list(table.columns), job.layer)
    shown = table
    if job.headers == "zh":
        shown = table.rename(columns={c: labels.get(c) or _XY_ZH.get(c, c) for c in table.columns})
        for column in shown.columns[shown.dtypes.astype(str).isin(["bool", "boolean"])]:
            shown[column] = shown[column].map({True: "是", False: "否"})
    pyogrio.write_dataframe(shown, job.path, layer=job.name, driver="XLSX")
    fields = pd.DataFrame(
        {
            "序号": range(1, len(table.columns) + 2),
            "column": [*list(shown.columns), ""],
            "field": [*list(table.columns), "crs"],
            "label_zh": [labels.get(c, "") for c in table.columns] + [crs_note(job.spec)],
        }
    )
    pyogrio.write_dataframe(fields, job.path, layer="说明", driver="XLSX", append=True)


_WRITERS = {
    "geojson": _write_geojson,
    "gpkg": _write_gpkg,
    "shp": _write_shp,
    "kml": _write_kml,
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "fgb": _write_fgb,
}


# --- Subsets ----------------------------------------------------------------


def _area_of(store: Store, layer: str, code: str) -> shapely.Geometry:
    found = store.query(layer, codes=[code], limit=1).frame
    if found.empty:
        scope = Message(f"error.scope.{'community' if layer == 'communities' else 'grid'}")
        raise NotFoundError(Message("error.no_scope", scope=scope, code=repr(code)))
    return found.geometry.iloc[0]


def select_features(
    store: Store,
    layer: str,
    *,
    community: str | None = None,
    grid: str | None = None,
    bbox: BBox | None = None,
) -> gpd.GeoDataFrame:
    """The features of `layer` in one community, one grid and/or a lon/lat bbox.

    Grids and communities are selected by their codes; every other feature
    by its representative point lying in the community's or grid's area, so
    the answer does not depend on `grid_code` having been derived. A subset
    is asked of the store (`Store.query`: the window, the code, the grids'
    community), which reads only what may be in it; with no subset asked
    the whole layer is read as such.
    """
    get_layer(layer)
    areas = []
    if community is not None:
        areas.append(("communities", community))
    if grid is not None:
        areas.append(("grids", grid))
    if not areas and bbox is None:
        return store.read(layer)
    shapes = [_area_of(store, area_layer, code) for area_layer, code in areas]
    window: BBox | None = bbox
    for shape in shapes:
        x0, y0, x1, y1 = shape.bounds
        window = (x0, y0, x1, y1) if window is None else _intersect(window, (x0, y0, x1, y1))
    codes: list[str] | None = None
    equals: dict[str, Value] = {}
    spatial = []
    for (area_layer, code), shape in zip(areas, shapes, strict=True):
        if layer == area_layer:
            codes = [code]
        elif layer == "grids" and area_layer == "communities":
            equals["community_code"] = code
        else:
            spatial.append(shape)
    frame = store.query(layer, bbox=window, codes=codes, equals=equals).frame
    keep = np.ones(len(frame), dtype=bool)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    for shape in spatial:
        if layer in ("streets", "communities"):
            # A parent of the area: the one holding the area's interior point.
            keep &= shapely.covers(geoms, shapely.point_on_surface(shape))
        else:
            keep &= shapely.covers(shape, shapely.point_on_surface(geoms))
    return frame[keep].reset_index(drop=True)


def _intersect(a: BBox, b: BBox) -> BBox:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))

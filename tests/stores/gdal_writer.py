"""A second writer that is not gridmap: GDAL's Python bindings, run by the system Python.

Each line of stdin is one JSON edit, applied in a transaction of its own as QGIS applies a
commit: {"op": "move"|"add"|"set"|"delete", "layer", "code", "wkt"?, "fields"?}. One JSON
line answers each: {"ok": true} or {"ok": false, "error": "..."}.
"""

from __future__ import annotations

import json
import sys

from osgeo import gdal, ogr

gdal.UseExceptions()


def _feature(layer: ogr.Layer, code: str) -> ogr.Feature | None:
    layer.SetAttributeFilter(f"code = '{code}'")
    found = layer.GetNextFeature()
    layer.SetAttributeFilter(None)
    return found


def _check(error: int) -> None:
    """GDAL's layer calls answer an error code rather than raising."""
    if error != 0:
        raise RuntimeError(gdal.GetLastErrorMsg() or f"OGR error {error}")


def apply(ds: gdal.Dataset, edit: dict) -> None:
    """One edit as QGIS commits it: the feature read while editing, then one transaction of writes."""
    layer = ds.GetLayerByName(edit["layer"])
    if edit["op"] == "add":
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("code", edit["code"])
    else:
        feature = _feature(layer, edit["code"])
        if feature is None:
            raise KeyError(f"no {edit['layer']} {edit['code']}")
    layer.ResetReading()  # no statement left open: its read snapshot would go stale
    if "wkt" in edit:
        feature.SetGeometry(ogr.CreateGeometryFromWkt(edit["wkt"]))
    for name, value in edit.get("fields", {}).items():
        feature.SetField(name, value)
    layer.StartTransaction()
    try:
        if edit["op"] == "delete":
            _check(layer.DeleteFeature(feature.GetFID()))
        elif edit["op"] == "add":
            _check(layer.CreateFeature(feature))
        else:
            _check(layer.SetFeature(feature))
        _check(layer.CommitTransaction())
    except BaseException:
        layer.RollbackTransaction()
        raise


def _shown(ds: gdal.Dataset) -> None:
    """Read every layer through a window, as QGIS draws a layer before anyone edits it.

    GDAL looks up a layer's spatial index lazily; looked up inside a write transaction,
    that read would make SQLite refuse the transaction at once while another writer
    holds the lock, instead of waiting (a read transaction is never made to wait).
    """
    for i in range(ds.GetLayerCount()):
        layer = ds.GetLayer(i)
        if layer.GetGeomType() == ogr.wkbNone:
            continue
        layer.SetSpatialFilterRect(-180, -90, 180, 90)
        layer.GetNextFeature()
        layer.SetSpatialFilter(None)
        layer.ResetReading()


def main() -> None:
    path = sys.argv[1]
    ds = gdal.OpenEx(path, gdal.OF_VECTOR | gdal.OF_UPDATE)  # one connection, kept, as QGIS keeps it
    _shown(ds)
    for line in sys.stdin:
        try:
            apply(ds, json.loads(line))
            print(json.dumps({"ok": True}), flush=True)
        except Exception as exc:  # the caller checks which edits were refused, and why
            print(json.dumps({"ok": False, "error": str(exc)}), flush=True)
    ds = None


if __name__ == "__main__":
    main()

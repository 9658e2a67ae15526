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


def apply(path: str, edit: dict) -> None:
    """One edit as QGIS commits it: the feature read while editing, then one transaction of writes."""
    ds = gdal.OpenEx(path, gdal.OF_VECTOR | gdal.OF_UPDATE)
    try:
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
    finally:
        ds = None


def main() -> None:
    path = sys.argv[1]
    retry = "--retry-locked" in sys.argv[2:]
    for line in sys.stdin:
        locked = 0
        while True:
            try:
                apply(path, json.loads(line))
                print(json.dumps({"ok": True, "locked": locked}), flush=True)
                break
            except Exception as exc:  # the caller checks which edits were refused, and why
                if retry and "database is locked" in str(exc) and locked < 50:
                    locked += 1  # a user saving again; the refused commit changed nothing
                    continue
                print(json.dumps({"ok": False, "error": str(exc), "locked": locked}), flush=True)
                break


if __name__ == "__main__":
    main()

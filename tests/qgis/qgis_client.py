"""QGIS itself (PyQGIS headless, Debian's python3-qgis) doing what a GIS engineer does with gridmap.

Run by the system Python (`/usr/bin/python3`), one JSON command on stdin, one JSON answer on stdout:
- {"do": "oapif", "url", "layer", "user", "password"}: open an OGC API – Features layer with
  QGIS's OAPIF provider (HTTP Basic with the token as the password, as QGIS's Basic method sends
  it); answers the feature count and the codes;
- {"do": "move", "source", "provider", "code", "x", "y"}: open a layer with the `ogr` (GeoPackage)
  or `postgres` provider, move the feature `code` to (x, y) in an edit session and commit it, as a
  user dragging a point does; answers whether the commit succeeded and QGIS's messages.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsFeatureRequest,
    QgsGeometry,
    QgsPointXY,
    QgsVectorLayer,
)


def _oapif(command: dict) -> dict:
    uri = (
        f"url='{command['url']}' typename='{command['layer']}' "
        f"username='{command['user']}' password='{command['password']}' pagingEnabled='true'"
    )
    layer = QgsVectorLayer(uri, command["layer"], "OAPIF")
    if not layer.isValid():
        return {"ok": False, "error": "layer not valid"}
    codes = sorted(str(f["code"]) for f in layer.getFeatures())
    return {"ok": True, "count": len(codes), "codes": codes, "fields": layer.fields().names()}


def _move(command: dict) -> dict:
    layer = QgsVectorLayer(command["source"], "layer", command["provider"])
    if not layer.isValid():
        return {"ok": False, "error": "layer not valid"}
    request = QgsFeatureRequest().setFilterExpression(f"\"code\" = '{command['code']}'")
    found = next(layer.getFeatures(request), None)
    if found is None:
        return {"ok": False, "error": f"no feature {command['code']}"}
    layer.startEditing()
    layer.changeGeometry(found.id(), QgsGeometry.fromPointXY(QgsPointXY(command["x"], command["y"])))
    committed = layer.commitChanges()
    return {"ok": bool(committed), "messages": list(layer.commitErrors())}


def main() -> None:
    QgsApplication.setPrefixPath("/usr", True)  # Debian's QGIS: its providers (OAPIF, postgres) are there
    app = QgsApplication([], False)
    app.initQgis()
    try:
        command = json.loads(sys.stdin.read())
        answer = {"oapif": _oapif, "move": _move}[command["do"]](command)
    finally:
        app.exitQgis()
    print(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Install the system packages the test suite uses, only when missing:
# PostGIS and pgRouting for PostgreSQL 15, GDAL's command-line tools (ogrinfo) and Chromium.
set -euo pipefail
need=()
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
# GDAL's Python bindings: the second writer of the external-edit tests (tests/stores/gdal_writer.py).
/usr/bin/python3 -c "from osgeo import ogr" >/dev/null 2>&1 || need+=(python3-gdal)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# A CJK font, so map screenshots show Chinese labels instead of empty boxes.
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
# pdftotext / pdftoppm: the tests read the meeting report's text and render its pages.
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
# npm installs the console's browser libraries (web/package.json) at build time.
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# pgRouting, the second engine tests/test_walking_pgrouting.py checks walking distances against.
if [ ! -f /usr/share/postgresql/15/extension/pgrouting.control ]; then
  echo "installing system packages: postgresql-15-pgrouting"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    postgresql-15-pgrouting >/dev/null
fi
# QGIS itself, headless (tests/qgis: its OAPIF reader and its edits of both stores).
if ! /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
  echo "installing system packages: python3-qgis qgis-providers"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    python3-qgis qgis-providers >/dev/null
fi
# Make sure the local server is up (it is started before sessions, but may have stopped).
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi

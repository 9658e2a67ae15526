"""One format registry: export writes, the importer reads and the API serves exactly its formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.main import create_app
from api.settings import ApiSettings
from gridmap import export
from gridmap.catalogue import get_layer
from gridmap.formats import FORMATS, read_as, written_as
from gridmap.frames import conform
from gridmap.ingest.readers import read_source
from tests.test_export import _district


def test_export_writes_every_format_and_nothing_else() -> None:
    assert set(export._WRITERS) == set(FORMATS)


@pytest.mark.parametrize("key", list(FORMATS))
def test_what_export_writes_the_importer_reads_as_the_same_format(tmp_path: Path, key: str) -> None:
    frame = conform("grids", _district()["grids"])
    written = export.export_layer(frame, tmp_path / f"grids{FORMATS[key].suffix}", key, layer="grids")
    assert written_as(written) == read_as(written) == FORMATS[key]
    assert read_source(written, get_layer("grids")).format == key


def test_suffixes_name_one_format_each() -> None:
    suffixes = [s for f in FORMATS.values() for s in f.suffixes + f.also_read]
    assert len(suffixes) == len(set(suffixes))
    assert read_as(Path("x.kmz")) == FORMATS["kml"] and written_as(Path("x.kmz")) is None
    assert read_as(Path("x.shp")) == written_as(Path("x.zip")) == FORMATS["shp"]


def test_the_api_offers_the_registry_formats(tmp_path: Path) -> None:
    app = create_app(ApiSettings(store=str(tmp_path / "none.gpkg")))  # type: ignore[call-arg]
    params = app.openapi()["paths"]["/export/{layer}"]["get"]["parameters"]
    offered = next(p for p in params if p["name"] == "format")["schema"]["enum"]
    assert offered == list(FORMATS)

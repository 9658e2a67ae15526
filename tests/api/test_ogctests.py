"""The public OGC test suite `ogctests` (features/core) passes whole against a live server, on both stores.

The suite is a pytest package of its own: it runs in a child process against
uvicorn serving the test district from a thread of this one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import ogctests
import shapely

from api.main import create_app
from gridmap.frames import WGS84, conform
from gridmap.stores import Store
from tests.api.conftest import settings_for
from tests.api.serving import running_app

OGCTESTS_VERSION = "0.1.15"
"""The pinned release (Makefile installs it): a new release may add requirements."""


def test_the_pinned_release_is_installed() -> None:
    from importlib.metadata import version

    assert version("ogctests") == OGCTESTS_VERSION


def test_features_core_passes_whole(loaded: Store, store_url: str, tmp_path: Path) -> None:
    # Every public collection must list features for the suite; the test district has no roads.
    road = shapely.LineString([(114.301, 30.501), (114.319, 30.501)])
    roads = gpd.GeoDataFrame({"code": ["R1"], "name": ["幸福路"]}, geometry=[road], crs=WGS84)
    loaded.replace("roads", conform("roads", roads))
    suite = Path(ogctests.__file__).parent
    app = create_app(settings_for(store_url, serving_dir=tmp_path / "serving"))
    with running_app(app) as base:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(suite / "features" / "core"),
                "--rootdir",
                str(suite),
                "-p",
                "no:cacheprovider",
                "-q",
                "-rfE",
                "--tb=short",
                "-W",
                "ignore",
            ],
            env={**os.environ, "INSTANCE_URL": base},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert " failed" not in run.stdout and " skipped" not in run.stdout, run.stdout[-4000:]

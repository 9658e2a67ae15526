"""Request folders (bodies being imported, exports being sent) never outlive their request or process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import scratch
from tests.api.conftest import ADMIN, bearer


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    return int(done.stdout)


def test_sweep_removes_the_folders_of_gone_processes(tmp_path: Path) -> None:
    dead = tmp_path / f"gridmap-write-{_dead_pid()}-abc123"
    legacy = tmp_path / "gridmap-export-x1y2z3"
    live = tmp_path / f"gridmap-write-{os.getpid()}-abc123"
    other = tmp_path / "gridmap-serving-abc"
    for folder in (dead, legacy, live, other):
        folder.mkdir()
        (folder / "households.geojson").write_text("{}")
    assert sorted(scratch.sweep(tmp_path)) == sorted([dead, legacy])
    assert live.exists() and other.exists() and not dead.exists() and not legacy.exists()


def _mine() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"gridmap-*-{os.getpid()}-*"))


def test_a_worker_starting_sweeps_and_a_failed_write_leaves_nothing(
    make_client: Callable[..., TestClient],
) -> None:
    stale = Path(tempfile.gettempdir()) / f"gridmap-write-{_dead_pid()}-zz9"
    stale.mkdir()
    (stale / "households.geojson").write_text('{"contact_phone": "13812341234"}')
    client = make_client()
    assert not stale.exists()
    bad = {"type": "Feature", "properties": {"code": "KX", "status": "lost"}, "geometry": None}
    reply = client.post("/collections/speakers/items", json=bad, headers=bearer(ADMIN))
    assert reply.status_code == 422
    assert _mine() == []
    assert (
        client.get("/export/households", params={"format": "xlsx"}, headers=bearer(ADMIN)).status_code == 200
    )
    assert (
        client.get("/export/households", params={"community": "C9"}, headers=bearer(ADMIN)).status_code == 404
    )
    assert _mine() == []


@pytest.fixture(autouse=True)
def _no_leftovers() -> None:
    for folder in _mine():
        scratch.remove(folder)

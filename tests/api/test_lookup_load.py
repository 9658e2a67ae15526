"""A real `gridmap serve` stays responsive while a heavy lookup batch runs (issue 10, no stalls).

The batch asks for suggestions for random 60-character addresses, the most
expensive thing a caller can ask of /lookup/batch; meanwhile /health and single
lookups must keep answering within 100 ms. On both stores.
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridmap.sample.files import read_sample
from gridmap.stores import open_store
from tests.api.conftest import TOKENS, VIEWER, bearer

LAYERS = ("streets", "communities", "grids", "buildings")
ROWS = 400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def server(store_url: str, tmp_path: Path) -> Iterator[str]:
    """`gridmap serve` (one worker) over the sample district's lookup layers."""
    frames = read_sample()
    with open_store(store_url) as store:
        store.replace_many({name: frames[name] for name in LAYERS})
    port = _free_port()
    env = {**os.environ, "GRIDMAP_TOKENS": json.dumps(TOKENS)}
    env.pop("GRIDMAP_TOKENS_FILE", None)
    log = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    gridmap = Path(sys.executable).with_name("gridmap")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(gridmap), "serve", "--store", store_url, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
        try:
            deadline = time.monotonic() + 60
            while not _healthy(base):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gridmap serve did not start: {log.read_text()}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_health_and_single_lookups_answer_while_a_heavy_batch_runs(server: str) -> None:
    rng = random.Random(10)
    alphabet = "幸福和平友谊路街号栋单元室紫荆玉兰新村花园小区社区街道武汉市区0123456789abcdefgh "
    items = [{"address": "".join(rng.choice(alphabet) for _ in range(60))} for _ in range(ROWS)]
    with httpx.Client(base_url=server, timeout=120) as client:
        client.get("/lookup", params={"address": "和平路151号4栋"})  # build the indexes first
        done: dict[str, float] = {}

        def heavy() -> None:
            started = time.monotonic()
            reply = client.post("/lookup/batch?suggest=true", json=items, headers=bearer(VIEWER))
            done["seconds"] = time.monotonic() - started
            done["ok"] = float(reply.status_code == 200 and len(reply.json()["results"]) == ROWS)

        worker = threading.Thread(target=heavy)
        worker.start()
        time.sleep(0.3)
        probes = [
            ("/health", {}),
            ("/lookup", {"address": "瑞欣社区和平路151号4栋"}),
            ("/lookup", {"lon": "114.3004380", "lat": "30.5645401"}),
        ]
        latencies: list[float] = []
        while worker.is_alive() and len(latencies) < 60:
            for path, params in probes:
                start = time.monotonic()
                reply = client.get(path, params=params)
                latencies.append(time.monotonic() - start)
                assert reply.status_code == 200, reply.text
            time.sleep(0.05)
        still_running = worker.is_alive()
        worker.join()
    assert done["ok"] == 1.0
    assert still_running or len(latencies) >= 30, "the batch ended before the probes could measure it"
    assert len(latencies) >= 15
    assert statistics.median(latencies) < 0.1, latencies
    assert sorted(latencies)[int(0.9 * len(latencies))] < 0.1, latencies

"""A real `gridmap serve` stays responsive while a heavy lookup batch runs (issue 10, no stalls).

The batch asks for suggestions for random 60-character addresses, the most
expensive thing a caller can ask of /lookup/batch; meanwhile /health and single
lookups must keep answering within 100 ms. On both stores.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridmap.sample.files import read_sample
from gridmap.stores import open_store
from tests.api.conftest import TOKENS, VIEWER, bearer
from tests.api.serving import running_serve

LAYERS = ("streets", "communities", "grids", "buildings")
ROWS = 400


@pytest.fixture
def server(store_url: str, tmp_path: Path) -> Iterator[str]:
    """`gridmap serve` (one worker) over the sample district's lookup layers."""
    frames = read_sample()
    with open_store(store_url) as store:
        store.replace_many({name: frames[name] for name in LAYERS})
    env = {**os.environ, "GRIDMAP_TOKENS": json.dumps(TOKENS)}
    env.pop("GRIDMAP_TOKENS_FILE", None)
    with running_serve(store_url, env, tmp_path / "serve.log") as base:
        yield base


@pytest.mark.timing
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

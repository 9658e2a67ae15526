"""/health stays cheap under load: one store question at a time, shared by the callers waiting on it."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from gridmap.errors import StoreError


def test_concurrent_health_checks_share_one_store_question(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each /health was a store round trip in the request pool: p99 0.35-1.4 s under lookup load."""
    store = client.app.state.store  # type: ignore[attr-defined]
    real = store.revision
    asked: list[float] = []

    def slow_revision() -> str:
        asked.append(time.monotonic())
        time.sleep(0.3)  # a busy database
        return str(real())

    monkeypatch.setattr(store, "revision", slow_revision)
    statuses: list[int] = []
    barrier = threading.Barrier(16)

    def check() -> None:
        barrier.wait()
        statuses.append(client.get("/health").status_code)

    threads = [threading.Thread(target=check) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 16
    assert len(asked) <= 4, f"{len(asked)} store questions for 16 checks"

    def unreachable() -> str:
        raise StoreError("connection refused")

    monkeypatch.setattr(store, "revision", unreachable)
    assert client.get("/health").status_code == 503  # a check after the last answer asks again

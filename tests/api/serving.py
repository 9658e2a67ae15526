"""Running a real `gridmap serve` process for tests: a free loopback port, start, health, stop."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthy(base: str, timeout: float = 1.0) -> bool:
    """Whether the server at `base` answers /health with 200 and has published its first analysis.

    A server takes requests before its first analysis is published; the tests read coverage at once.
    """
    try:
        answer = httpx.get(f"{base}/health", timeout=timeout)
    except httpx.TransportError:
        return False
    return answer.status_code == 200 and answer.json().get("analysis") == "published"


@contextmanager
def running_serve(
    store: str, env: Mapping[str, str], log: Path, *, workers: int = 1, start_seconds: float = 180.0
) -> Iterator[str]:
    """`gridmap serve` over `store` on a free port, its output in `log`; yields its base URL.

    The test fails with the server's log when it does not answer /health within
    `start_seconds`; the process is stopped on the way out.
    """
    gridmap = str(Path(sys.executable).with_name("gridmap"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [gridmap, "serve", "--store", store, "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=dict(env), stdout=sink, stderr=sink)
        try:
            deadline = time.monotonic() + start_seconds
            while not healthy(base, timeout=10.0 if workers > 1 else 1.0):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gridmap serve did not start: {log.read_text()}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@contextmanager
def running_app(app: FastAPI, start_seconds: float = 120.0, *, analysed: bool = True) -> Iterator[str]:
    """`app` served by uvicorn in a thread of this process on a free port; yields its base URL.

    With `analysed`, once its first analysis is published (the tests read coverage at once).
    """
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_seconds
    while not server.started or (analysed and not healthy(f"http://127.0.0.1:{port}")):
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

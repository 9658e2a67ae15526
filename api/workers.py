"""`gridmap serve --workers N`: uvicorn's supervisor, warning when it replaces a worker.

uvicorn restarts a worker that died or missed its health check, but tells so
only at the info level, which `gridmap serve` does not show; every request in
flight on that worker was dropped, so an operator must see it. This module is
also the entry point of the workers it spawns: it imports uvicorn and nothing
of gridmap, so a new worker answers the supervisor's ping from its first
second even on a busy machine.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

log = logging.getLogger("gridmap.workers")
APP = "api.main:create_app"
HEALTHCHECK_SECONDS = 60
"""How long a worker may take to answer the supervisor's ping before it is killed and replaced.

Work that holds the interpreter lock for long runs in a process of its own
(`api.offload`), so a worker answers within milliseconds; the margin is for a
worker building its indexes on a saturated machine."""


class Supervisor(Multiprocess):
    """uvicorn's supervisor, logging each replaced worker as a warning."""

    def keep_subprocess_alive(self) -> None:
        before = list(self.processes)
        super().keep_subprocess_alive()
        for old, new in zip(before, self.processes, strict=False):
            if old is not new:
                log.warning(
                    "worker %s stopped (exit code %s: it died, or missed the %s s health check and was"
                    " killed); requests in flight on it were dropped; started worker %s",
                    old.pid,
                    old.exitcode,
                    self.config.timeout_worker_healthcheck,
                    new.pid,
                )


def serve(host: str, port: int, workers: int) -> None:
    """Run `workers` processes of the API on one socket under the supervisor."""
    config = uvicorn.Config(
        APP,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
    )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    Supervisor(config, sockets=[config.bind_socket()]).run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api.workers")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()

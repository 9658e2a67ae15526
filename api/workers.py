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
import pickle
import time

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("gridmap.workers")
APP = "api.main:create_app"
HEALTHCHECK_SECONDS = 60
"""How long a worker may take to answer the supervisor's ping before it is killed and replaced.

Work that holds the interpreter lock for long runs in a process of its own
(`api.offload`), so a worker answers within milliseconds; the margin is for a
worker building its indexes on a saturated machine."""


_SLICE_SECONDS = 0.25


class Supervisor(Multiprocess):
    """uvicorn's supervisor, warning of each replaced worker and replacing a dead one at once.

    uvicorn pings a worker and waits the whole health-check time for the
    answer, even when the worker died after the ping (its end of the pipe
    stays open in the supervisor): one killed at that moment was replaced a
    minute late, and the supervisor heard no signal meanwhile.
    """

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if self._answers(process):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker %s failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.processes[idx] = replacement
            log.warning(
                "worker %s stopped (exit code %s: it died, or missed the %s s health check and was"
                " killed); requests in flight on it were dropped; started worker %s",
                process.pid,
                process.exitcode,
                self.config.timeout_worker_healthcheck,
                replacement.pid,
            )

    def _answers(self, process: Process) -> bool:
        """Ping `process`; False once it is dead or has not answered within the health-check time."""
        if not process.process.is_alive():
            return False
        try:
            process.parent_conn.send(b"ping")
        except OSError:
            return False
        deadline = time.monotonic() + self.config.timeout_worker_healthcheck
        while time.monotonic() < deadline:
            if process.parent_conn.poll(_SLICE_SECONDS):
                try:
                    process.parent_conn.recv()
                except (OSError, EOFError, pickle.UnpicklingError):
                    return False
                return True
            if not process.process.is_alive():
                return False
            if self.signal_queue:  # a stop signal waits for no ping
                return True
        return False


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

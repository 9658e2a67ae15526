"""The export process: results and the library's errors come back as they were raised."""

from __future__ import annotations

import os

import pytest

from api.offload import Offload
from gridmap.errors import Problem, ValidationError


def _pid() -> int:
    return os.getpid()


def _refuse(source: str) -> None:
    raise ValidationError(source, [Problem(None, "community", "holds control characters")])


def test_work_runs_in_another_process_and_errors_come_back_whole() -> None:
    """A ValidationError (whose __init__ takes two arguments) broke the pool: a 503 instead of a 422."""
    offload = Offload()
    try:
        assert offload.run(_pid) != os.getpid()
        with pytest.raises(ValidationError) as caught:
            offload.run(_refuse, "request")
        assert caught.value.problems == [Problem(None, "community", "holds control characters")]
        assert offload.run(_pid) != os.getpid()  # the pool is still whole
    finally:
        offload.close()

"""What a newcomer reads: the test databases' names and the fast lane, as the README says."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import database_prefix

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_database_carries_the_documented_prefix() -> None:
    assert database_prefix("gridmap_test") == "gridmap_test"
    assert database_prefix("gridmap_api") == "gridmap_test_api"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "gridmap_test_*" in readme and "GRIDMAP_TEST_PG_ADMIN" in readme


def test_the_readme_gives_the_next_step_after_the_demo_and_make_has_a_fast_lane() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after_demo = readme.split("make demo", 1)[1].split("## Who it is for", 1)[0]
    assert (
        "gridmap token add" in after_demo and "gridmap serve" in after_demo and "127.0.0.1:8000" in after_demo
    )
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert '-m "not slow' in makefile.split("check:", 1)[1].split("\n\n", 1)[0]

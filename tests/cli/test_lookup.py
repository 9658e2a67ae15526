"""`gridmap lookup` run as a user would, on the committed sample district."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GRIDMAP = [sys.executable, "-m", "gridmap"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRIDMAP, "lookup", *args], capture_output=True, text=True, timeout=120)


def test_an_address_variant_finds_its_building_and_grid(sample_store: str) -> None:
    done = _run("湖北省武汉市武昌区幸福路四号二幢3单元501室", "--json", "--store", sample_store)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert reply["building"] == {
        "code": "4201060010010010002",
        "name": "紫荆里2栋",
        "address": "幸福路4号2栋",
    }
    assert reply["grid"]["code"] == "420106001001001"
    assert reply["community"]["name"] == "福景社区"
    assert reply["street"] == {"code": "420106001", "name": "紫阳街道"}
    assert reply["match"]["method"] == "normalized"


def test_a_point_finds_the_grid_containing_it(sample_store: str) -> None:
    done = _run("--lon", "114.30162906", "--lat", "30.56175025", "--store", sample_store)
    assert done.returncode == 0, done.stderr
    assert "420106001001006" in done.stdout and "紫阳街道" in done.stdout


def test_a_point_outside_every_grid_is_one_clear_error(sample_store: str) -> None:
    done = _run("--lon", "100", "--lat", "30.56", "--store", sample_store)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["error: no grid contains the point (100.0, 30.56) in wgs84"]


def test_neither_address_nor_point_is_refused(sample_store: str) -> None:
    done = _run("--store", sample_store)
    assert done.returncode == 1
    assert "give either an ADDRESS or both --lon and --lat" in done.stderr


def test_the_store_file_is_untouched_by_lookups(sample_store: str) -> None:
    before = Path(sample_store).stat().st_mtime_ns
    _run("幸福路4号1栋", "--store", sample_store)
    assert Path(sample_store).stat().st_mtime_ns == before


def test_an_unknown_road_prints_the_api_suggestions(sample_store: str) -> None:
    done = _run("和平里151号4栋", "--store", sample_store)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["error: no building matches the address '和平里151号4栋'"]
    lines = [line for line in done.stdout.splitlines() if "4201060" in line]
    assert "4201060010040100004" in lines[0] and "和平路151号4栋" in lines[0]
    as_json = json.loads(_run("和平里151号4栋", "--json", "--store", sample_store).stdout)
    assert as_json["suggestions"][0] == {
        "code": "4201060010040100004",
        "address": "和平路151号4栋",
        "score": 0.889,
    }


def test_the_help_examples_are_addresses_of_the_sample(sample_store: str) -> None:
    help_text = subprocess.run(
        [*GRIDMAP, "lookup", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for example in ("和平路151号4栋2单元502室", "瑞欣社区和平路151号4栋", "玉兰新村4栋"):
        assert example in help_text
        done = _run(example, "--json", "--store", sample_store)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["building"]["code"] == "4201060010040100004"

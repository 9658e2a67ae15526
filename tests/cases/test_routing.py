"""Cases are routed like lookups: an address to its building's grid, a point in any CRS to its grid."""

from __future__ import annotations

import numpy as np
import pytest

from gridmap.cases.desk import CaseDesk, CaseReport
from gridmap.crs import from_wgs84
from gridmap.errors import PermissionDeniedError, ValidationError
from gridmap.stores.cases import CaseFilter
from tests.cases.conftest import ADDRESS_G1, ADDRESS_G3, ADMIN, EDITOR_C1, EDITOR_C2, RESIDENT

CRSES = ("wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:3857", "EPSG:4547")
# Near the east edge of G2 and the west edge of G3, so an unconverted GCJ-02/BD-09 point lands elsewhere.
POINTS = {(114.3080, 30.5145): ("G2", "C1"), (114.3120, 30.5045): ("G3", "C2")}


def test_by_address_the_building_decides(desk: CaseDesk) -> None:
    case = desk.report(RESIDENT, CaseReport("0102", address=ADDRESS_G1))
    assert (case["grid_code"], case["community_code"], case["street_code"]) == ("G1", "C1", "S1")
    assert case["building_code"] == "B1"
    assert 114.3040 < case["lon"] < 114.3050 and 30.5040 < case["lat"] < 30.5050  # drawn inside B1
    # An address and a point in another grid: the address's building still decides, the point is kept.
    both = desk.report(RESIDENT, CaseReport("0102", address=ADDRESS_G3, lon=114.305, lat=30.515))
    assert both["grid_code"] == "G3" and (both["lon"], both["lat"]) == (114.305, 30.515)


def test_by_point_in_every_crs(desk: CaseDesk) -> None:
    for crs in CRSES:
        for (lon, lat), (grid, community) in POINTS.items():
            x, y = from_wgs84(np.array([lon]), np.array([lat]), crs)
            case = desk.report(RESIDENT, CaseReport("0404", lon=float(x[0]), lat=float(y[0]), crs=crs))
            assert (case["grid_code"], case["community_code"]) == (grid, community), crs
            assert case["lon"] == pytest.approx(lon, abs=1e-5) and case["lat"] == pytest.approx(lat, abs=1e-5)


def test_a_case_is_always_taken_unplaced_cases_wait_for_an_editor(desk: CaseDesk) -> None:
    """An unknown address, a point in no grid, or nothing at all: the case is kept, unplaced (待定位)."""
    unknown = desk.report(
        RESIDENT, CaseReport("0102", address="武汉市武昌区解放路999号", ticket_no="GD2026120100017")
    )
    assert unknown["grid_code"] is None and unknown["placed_by"] is None and unknown["status"] == "reported"
    assert unknown["placement"]["reason"].startswith("address not in the register")
    assert unknown["placement"]["suggestions"]
    outside = desk.report(RESIDENT, CaseReport("0102", lon=116.4, lat=39.9))
    assert outside["grid_code"] is None and (outside["lon"], outside["lat"]) == (116.4, 39.9)
    nowhere = desk.report(RESIDENT, CaseReport("0102", description="电话里说不清地址"))
    assert nowhere["grid_code"] is None and nowhere["placement"]["reason"].startswith("neither")
    # The address is unknown but the point is in G2: the point places it.
    fallback = desk.report(RESIDENT, CaseReport("0404", address="解放路999号", lon=114.3080, lat=30.5145))
    assert (fallback["grid_code"], fallback["placed_by"]) == ("G2", "point")
    assert desk.search(ADMIN, CaseFilter(placed=False))[1] == 3
    # The 12345 work-order number is kept and found.
    found, total = desk.search(ADMIN, CaseFilter(ticket_no="GD2026120100017"))
    assert total == 1 and found[0]["code"] == unknown["code"]
    # Editors see the unplaced pool and place a case in their own communities only.
    assert {c["code"] for c in desk.search(EDITOR_C2, CaseFilter(placed=False))[0]} >= {unknown["code"]}
    with pytest.raises(PermissionDeniedError, match="community C1"):
        desk.place(EDITOR_C2, unknown["code"], grid="G1")
    with pytest.raises(ValidationError, match="placed before it is dispatched"):
        desk.move(ADMIN, desk.move(ADMIN, unknown["code"], "accept")["code"], "dispatch")
    placed = desk.place(EDITOR_C1, unknown["code"], grid="G1")
    assert (placed["grid_code"], placed["community_code"], placed["street_code"]) == ("G1", "C1", "S1")
    assert placed["placed_by"] == "editor"
    assert desk.move(EDITOR_C1, placed["code"], "dispatch")["department"] == "cgj"
    assert desk.history(ADMIN, placed["code"])[0]["note"].startswith("待定位")
    by_address = desk.place(ADMIN, outside["code"], address=ADDRESS_G3)
    assert by_address["grid_code"] == "G3"


def test_malformed_reports_are_refused_and_nothing_is_written(desk: CaseDesk) -> None:
    with pytest.raises(ValidationError, match="give both lon and lat"):
        desk.report(RESIDENT, CaseReport("0102", lon=114.3))
    with pytest.raises(ValidationError, match="unknown category '9999'") as bad:
        desk.report(RESIDENT, CaseReport("9999", address=ADDRESS_G1, source="rumour"))
    assert [p.field for p in bad.value.problems] == ["category", "source"]
    assert desk.search(ADMIN, CaseFilter())[1] == 0


def test_a_number_the_register_lacks_is_routed_like_its_lookup(desk: CaseDesk) -> None:
    # 和平大道12号 is registered (G3), its building 3 is not: interpolated, as a lookup answers.
    case = desk.report(RESIDENT, CaseReport("0102", address="和平大道12号3栋"))
    assert (case["grid_code"], case["community_code"], case["building_code"]) == ("G3", "C2", None)
    # Past the road's last number: no confident grid, so the case waits unplaced, naming the candidate.
    unplaced = desk.report(RESIDENT, CaseReport("0102", address="和平大道20号"))
    assert unplaced["grid_code"] is None
    assert "may lie in grid G3" in unplaced["placement"]["reason"]

"""Roles and masking: known answers for every phone shape, and what each role reads."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point

from gridmap.catalogue import get_layer
from gridmap.frames import conform
from gridmap.privacy import (
    Role,
    mask_name,
    mask_names,
    mask_phone,
    mask_phones,
    protect,
    protect_records,
    sight,
)
from gridmap.stores.query import Records


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        (" 13812341234 ", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("138-1234-1234", "138****1234"),
        ("+86 138-1234-1234", "+86 138****1234"),
        ("+8613812341234", "+86 138****1234"),
        ("008613812341234", "+86 138****1234"),
        ("027-88886666", "027-****6666"),
        ("027 8888666", "027-****8666"),
        ("(010)65521234", "010-****1234"),
        ("0755-88886666-123", "0755-****6666"),
        ("0755 8888666 转 12", "0755-****8666"),
        ("88886666", "****6666"),
        ("8888666", "****8666"),
        ("12345", "****45"),
        ("110", "****"),
        ("1234567890123", "123****0123"),
        ("unknown", "****"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_phone_known_answers(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("张", "*"),
        ("欧阳娜娜", "欧***"),
        (" 李四 ", "李*"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_name_known_answers(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


@given(st.text(alphabet="0123456789 -+()转", max_size=20))
def test_mask_phone_never_shows_more_than_seven_digits(phone: str) -> None:
    masked = mask_phone(phone)
    assert masked is not None
    digits = sum(c.isdigit() for c in phone)
    shown = sum(c.isdigit() for c in masked)
    # Only the +86 country code, 3 leading and 4 trailing digits may remain.
    assert shown <= min(digits, 9)
    if digits >= 5 and phone.strip():
        assert "*" in masked


def test_masking_is_vectorised_and_keeps_missing_values() -> None:
    phones = pd.Series(["13812341234", None, "027-88886666"], index=[5, 6, 7], dtype="string")
    out = mask_phones(phones)
    assert list(out.index) == [5, 6, 7]
    assert out[5] == "138****1234" and out[6] is pd.NA and out[7] == "027-****6666"
    names = mask_names(pd.Series(["张三丰", None], dtype="string"))
    assert names[0] == "张**" and names[1] is pd.NA


def test_role_order() -> None:
    assert [r.value for r in Role] == [
        "anonymous",
        "integrator",
        "viewer",
        "department",
        "reviewer",
        "editor",
        "admin",
    ]
    assert not Role.INTEGRATOR.allows(Role.VIEWER) and Role.REVIEWER.allows(Role.VIEWER)
    assert Role.DEPARTMENT.allows(Role.VIEWER) and not Role.DEPARTMENT.allows(Role.EDITOR)
    assert Role.ADMIN.allows(Role.EDITOR) and Role.EDITOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.EDITOR) and not Role.ANONYMOUS.allows(Role.VIEWER)
    assert Role("viewer") is Role.VIEWER


def _households() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "code": ["h1", "h2"],
            "address": ["幸福路88号3栋2单元301", "幸福路88号3栋2单元302"],
            "contact_name": ["张三丰", "李四"],
            "contact_phone": ["13812341234", "027-88886666"],
        },
        geometry=[Point(114.3, 30.5), Point(114.3, 30.5)],
        crs=4326,
    )
    return conform("households", frame)


def _grids() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "code": ["g1"],
            "name": ["一网格"],
            "community_code": ["c1"],
            "worker_name": ["王五"],
            "worker_phone": ["13900001111"],
        },
        geometry=[Point(114.3, 30.5).buffer(0.01)],
        crs=4326,
    )
    return conform("grids", frame)


def test_anonymous_loses_personal_fields_and_worker_name() -> None:
    households = protect("households", _households(), Role.ANONYMOUS)
    assert not {"contact_name", "contact_phone"} & set(households.columns)
    assert "address" in households.columns
    grids = protect("grids", _grids(), "anonymous")
    assert not {"worker_name", "worker_phone"} & set(grids.columns)
    assert grids["party_branch"].isna().all()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_viewer_and_reading_editor_see_masked_values(role: Role) -> None:
    original = _households()
    out = protect("households", original, role)
    assert list(out["contact_name"]) == ["张**", "李*"]
    assert list(out["contact_phone"]) == ["138****1234", "027-****6666"]
    assert original["contact_phone"].iloc[0] == "13812341234", "the input frame is never modified"
    grids = protect(get_layer("grids"), _grids(), role)
    assert grids["worker_name"].iloc[0] == "王五"
    assert grids["worker_phone"].iloc[0] == "139****1111"


def test_editor_for_editing_and_admin_see_everything() -> None:
    original = _households()
    assert protect("households", original, Role.EDITOR, for_editing=True) is original
    assert protect("households", original, Role.ADMIN) is original
    # for_editing never unmasks for a viewer.
    assert protect("households", original, Role.VIEWER, for_editing=True)["contact_name"].iloc[0] == "张**"


def test_protect_ignores_missing_columns() -> None:
    projected = _households()[["code", "contact_phone", "geometry"]]
    assert list(protect("households", projected, Role.VIEWER)["contact_phone"]) == [
        "138****1234",
        "027-****6666",
    ]
    assert list(protect("households", projected, Role.ANONYMOUS).columns) == ["code", "geometry"]
    assert isinstance(protect("households", projected, Role.ANONYMOUS), gpd.GeoDataFrame)


@pytest.mark.parametrize("for_editing", [False, True])
def test_roles_of_one_sight_get_the_same_rows(for_editing: bool) -> None:
    """`sight` groups roles exactly as `protect` treats them, so one protected frame may serve a group."""
    original = _households()
    seen: dict[str, pd.DataFrame] = {}
    for role in Role:
        out = pd.DataFrame(protect("households", original, role, for_editing=for_editing))
        group = sight(role, for_editing=for_editing)
        if group in seen:
            pd.testing.assert_frame_equal(out, seen[group])
        seen[group] = out
    assert set(seen) == {"all", "masked", "none"}
    assert sight(Role.DEPARTMENT) == sight(Role.VIEWER) == sight(Role.EDITOR) == "masked"
    assert sight(Role.EDITOR, for_editing=True) == sight(Role.ADMIN) == "all"
    assert sight("anonymous") == "none"


_AWKWARD_CONTACTS = {
    "contact_name": ["张三丰", "李", "", "  ", None, " 王五 "],
    "contact_phone": ["13812341234", " 027-88886666 ", "", None, "12", "+86 138-1234-1234"],
}


@pytest.mark.parametrize("for_editing", [False, True])
@pytest.mark.parametrize("role", list(Role))
def test_records_are_protected_as_frames_are(role: Role, for_editing: bool) -> None:
    """`protect_records` (a page served without a frame) removes and masks exactly what `protect` does,
    blanks, nulls and one-character names included."""
    n = len(_AWKWARD_CONTACTS["contact_name"])
    households = conform(
        "households",
        gpd.GeoDataFrame(
            {"code": [f"h{i}" for i in range(n)], **_AWKWARD_CONTACTS},
            geometry=[Point(114.3, 30.5)] * n,
            crs=4326,
        ),
    )
    for layer, frame in (("households", households), ("grids", _grids())):
        want = Records.of_frame(protect(layer, frame, role, for_editing=for_editing))
        got = protect_records(layer, Records.of_frame(frame), role, for_editing=for_editing)
        assert (got.names, got.rows) == (want.names, want.rows), (layer, role)
    masked = protect_records("households", Records.of_frame(households), Role.VIEWER)
    assert masked.column("contact_name") == ["张**", "*", "", "  ", None, "王*"]
    assert masked.column("contact_phone")[:2] == ["138****1234", "027-****6666"]

"""The organisations, members and 一户十联 links of a store, checked before anything is written.

The CLI, the API, imports and the demo all write through these functions, so
the chain's rules are written once:

- an organisation's kind is one of `ORG_KINDS`; its parent is in force on the
  version's first day and of a kind the child's kind allows (none at the top);
  it serves an area of a kind its kind allows, which exists in the store; a
  专属网格 (`dedicated`) is a valid polygon inside the community it names;
- dates as for boundaries: a change opens a new version on its `valid_from`
  (today unless given), later than the version in force, which closes that
  day; a code keeps its kind for ever (never reused for a different kind);
  an organisation with children in force cannot close; a revert drops the
  newest version and reopens the one before it;
- one secretary per version, so one current secretary per organisation: a
  member of it or of an organisation below it in force (`secretary_code`),
  whose name and phone the version takes; a name and phone without a member
  are read as written (versions from before the link);
- a member belongs to an organisation in force and, when given, a household
  that exists; service hours are never negative;
- a confirmed link joins a 党员中心户 (`center_household`) to at most
  `LINK_QUOTA` other households of its own grid, none of them a center, each
  household linked to one center only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import shapely
from shapely import wkt as shapely_wkt

from gridmap.catalogue import PHONE, PHONE_SEPARATORS
from gridmap.errors import NotFoundError, Problem, StoreError, ValidationError
from gridmap.party.access import below
from gridmap.party.vocabulary import AREA_LAYERS, DEDICATED, LINK_QUOTA, ORG_KINDS, UNIT_KINDS
from gridmap.stores import Store
from gridmap.texts import Message

INSIDE_TOLERANCE_DEG = 1e-6
"""How far (degrees, about 0.1 m) a 专属网格 may stray over its community's edge (digitising noise)."""


@dataclass(frozen=True)
class Organisation:
    """One version of a party organisation as a caller writes it."""

    code: str
    name: str
    kind: str
    area_kind: str
    area_code: str
    parent_code: str | None = None
    area_wkt: str | None = None
    secretary: str | None = None
    secretary_phone: str | None = None
    valid_from: dt.date | None = None
    secretary_code: str | None = None


@dataclass(frozen=True)
class Member:
    """A party member (personal data: name and phone)."""

    code: str
    name: str
    org_code: str
    phone: str | None = None
    household_code: str | None = None
    in_service: bool = False
    work_unit: str | None = None
    reported_on: dt.date | None = None
    service_hours: float = 0.0


@dataclass(frozen=True)
class Unit:
    """A unit of a street: a 共建单位 of a 大党委 (`member_of`, support `tier`) and/or an enterprise or
    social organisation 两个覆盖 counts (`covered_by`: the party organisation covering it)."""

    code: str
    name: str
    kind: str
    street_code: str
    covered_by: str | None = None
    member_of: str | None = None
    tier: int | None = None


def _phone_ok(value: str | None) -> bool:
    return value is None or PHONE.fullmatch(PHONE_SEPARATORS.sub("", value)) is not None


def _today() -> dt.date:
    return dt.date.today()


# -- organisations ---------------------------------------------------------------


def org_problems(store: Store, org: Organisation, on: dt.date, orgs: pd.DataFrame) -> list[Problem]:
    """What is wrong with opening `org` on `on`, given every stored version (`orgs`)."""
    problems: list[Problem] = []
    kind = ORG_KINDS.get(org.kind)
    if not org.code.strip():
        problems.append(Problem(None, "code", Message("party.code_required")))
    if not org.name.strip():
        problems.append(Problem(None, "name", Message("party.name_required")))
    if kind is None:
        return [
            *problems,
            Problem(
                None, "kind", Message("party.kind_unknown", kinds=", ".join(ORG_KINDS), kind=repr(org.kind))
            ),
        ]
    if not _phone_ok(org.secretary_phone):
        problems.append(Problem(None, "secretary_phone", Message("party.not_a_phone")))
    problems += _parent_problems(org, on, orgs)
    problems += _area_problems(store, org)
    if org.secretary_code:
        problems += _secretary_problems(store, org, on, orgs)
    mine = orgs[orgs["code"] == org.code]
    if len(mine):
        if (mine["kind"] != org.kind).any():
            problems.append(
                Problem(None, "kind", Message("party.code_reused", code=org.code, kind=mine["kind"].iloc[-1]))
            )
        if (pd.to_datetime(mine["valid_from"]) >= pd.Timestamp(on)).any():
            problems.append(
                Problem(
                    None,
                    "valid_from",
                    Message("party.start_too_early", day=max(mine["valid_from"])),
                )
            )
    return problems


def _parent_problems(org: Organisation, on: dt.date, orgs: pd.DataFrame) -> list[Problem]:
    allowed = ORG_KINDS[org.kind].parents
    if not allowed:
        if org.parent_code:
            return [Problem(None, "parent_code", Message("party.top_has_no_parent", kind=org.kind))]
        return []
    if not org.parent_code:
        return [
            Problem(
                None,
                "parent_code",
                Message("party.parent_required", kind=org.kind, allowed=", ".join(allowed)),
            )
        ]
    parent = _in_force(orgs, on)
    parent = parent[parent["code"] == org.parent_code]
    if not len(parent):
        return [Problem(None, "parent_code", Message("party.no_org_on", code=org.parent_code, day=on))]
    if parent["kind"].iloc[0] not in allowed:
        return [
            Problem(
                None,
                "parent_code",
                Message(
                    "party.parent_kind",
                    kind=org.kind,
                    allowed=" or ".join(allowed),
                    parent=parent["kind"].iloc[0],
                ),
            )
        ]
    return []


def _secretary_problems(store: Store, org: Organisation, on: dt.date, orgs: pd.DataFrame) -> list[Problem]:
    """The secretary is a member of the organisation, or of one below it in force on `on` (a building
    group's members are members of its branch too); a name or phone given must be the member's."""
    found = store.party_book().members(codes=[str(org.secretary_code)])
    if not len(found):
        return [Problem(None, "secretary_code", Message("party.no_member", code=org.secretary_code))]
    member = found.iloc[0]
    if member["org_code"] not in below(_in_force(orgs, on), frozenset({org.code})):
        return [
            Problem(
                None,
                "secretary_code",
                Message(
                    "party.secretary_elsewhere",
                    member=org.secretary_code,
                    org=member["org_code"],
                    code=org.code,
                ),
            )
        ]
    problems = []
    for field, column in (("secretary", "name"), ("secretary_phone", "phone")):
        given = getattr(org, field)
        if given and given != member[column]:
            problems.append(
                Problem(None, field, Message(f"party.secretary_{column}", member=org.secretary_code))
            )
    return problems


def _area_problems(store: Store, org: Organisation) -> list[Problem]:
    allowed = ORG_KINDS[org.kind].areas
    if org.area_kind not in allowed:
        return [
            Problem(
                None,
                "area_kind",
                Message(
                    "party.area_kind", kind=org.kind, allowed=" or ".join(allowed), area=repr(org.area_kind)
                ),
            )
        ]
    layer = "communities" if org.area_kind == DEDICATED else AREA_LAYERS[org.area_kind]
    found = store.read(layer, codes=[org.area_code])
    if not len(found):
        return [Problem(None, "area_code", Message("party.no_area", layer=layer, code=repr(org.area_code)))]
    if org.area_kind != DEDICATED:
        return (
            []
            if org.area_wkt is None
            else [Problem(None, "area_wkt", Message("party.polygon_only_dedicated"))]
        )
    try:
        shape = shapely_wkt.loads(org.area_wkt or "")
    except shapely.errors.GEOSException:
        return [Problem(None, "area_wkt", Message("party.dedicated_needs_wkt"))]
    if shape.geom_type not in ("Polygon", "MultiPolygon") or not shape.is_valid or shape.is_empty:
        return [Problem(None, "area_wkt", Message("party.dedicated_invalid"))]
    if not shape.within(found.geometry.iloc[0].buffer(INSIDE_TOLERANCE_DEG)):
        return [Problem(None, "area_wkt", Message("party.dedicated_outside", community=org.area_code))]
    return []


def _in_force(orgs: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    day = pd.Timestamp(on)
    start, end = pd.to_datetime(orgs["valid_from"]), pd.to_datetime(orgs["valid_to"])
    return orgs[((start <= day) & (end.isna() | (end > day))).to_numpy(dtype=bool)]


def save_org(store: Store, org: Organisation, *, by: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Open a version of `org` (closing the one in force on its first day); the version written."""
    book = store.party_book()
    on = org.valid_from or _today()
    orgs = book.orgs()
    problems = org_problems(store, org, on, orgs)
    if problems:
        raise ValidationError(Message("party.source_org", code=org.code), problems)
    current = orgs[(orgs["code"] == org.code) & orgs["valid_to"].isna()]
    closes = None if not len(current) else (org.code, current["valid_from"].iloc[0], on)
    row = {**with_secretary(store, org), "valid_from": on, "valid_to": None, "changed_by": by}
    row["changed_at"] = now or dt.datetime.now(dt.UTC)
    book.save_org(row, closes)
    return row


def with_secretary(store: Store, org: Organisation) -> dict[str, Any]:
    """The version's row, its secretary's name and phone the member's when it names one (a copy kept for
    readers of the table itself, QGIS's; gridmap reads them from the member)."""
    row = asdict(org)
    if org.secretary_code:
        member = store.party_book().members(codes=[org.secretary_code]).iloc[0]
        row["secretary"], row["secretary_phone"] = member["name"], member["phone"]
    return row


def close_org(store: Store, code: str, on: dt.date) -> None:
    """Close the organisation in force on `on` (refused while a child is in force that day)."""
    book = store.party_book()
    orgs = book.orgs()
    current = orgs[(orgs["code"] == code) & orgs["valid_to"].isna()]
    if not len(current):
        raise NotFoundError(Message("party.no_org_in_force", code=code))
    problems = []
    if current["valid_from"].iloc[0] >= on:
        problems.append(
            Problem(None, "valid_to", Message("party.close_too_early", day=current["valid_from"].iloc[0]))
        )
    children = _in_force(orgs, on)
    children = children[children["parent_code"] == code]
    if len(children):
        problems.append(
            Problem(
                None,
                "code",
                Message(
                    "party.children_in_force",
                    n=len(children),
                    code=code,
                    children=", ".join(children["code"][:5]),
                ),
            )
        )
    if problems:
        raise ValidationError(Message("party.source_org", code=code), problems)
    book.close_org(code, current["valid_from"].iloc[0], on)


def revert_org(store: Store, code: str) -> None:
    """Undo the newest version of `code`: drop it and reopen the one before it (if any)."""
    book = store.party_book()
    mine = book.orgs(codes=[code])
    if not len(mine):
        raise NotFoundError(Message("party.no_org", code=code))
    newest = mine.iloc[-1]
    if newest["valid_to"] is not None and not pd.isna(newest["valid_to"]):
        # The newest version was closed: the revert reopens it.
        book.remove_version(code, newest["valid_from"], None)
        book.save_org({str(k): v for k, v in newest.items()} | {"valid_to": None}, None)
        return
    before = mine.iloc[-2]["valid_from"] if len(mine) > 1 else None
    book.remove_version(code, newest["valid_from"], before)


def org_tree(orgs: pd.DataFrame) -> list[dict[str, Any]]:
    """The organisations (in force on one day) as nested dicts, top first, children by code."""
    rows: dict[str, dict[str, Any]] = {str(r["code"]): {**r, "children": []} for r in records(orgs)}
    roots: list[dict[str, Any]] = []
    for row in rows.values():
        parent = rows.get(str(row["parent_code"])) if row["parent_code"] else None
        (parent["children"] if parent is not None else roots).append(row)
    return roots


# -- members and units -----------------------------------------------------------


def save_member(store: Store, member: Member, on: dt.date | None = None) -> None:
    """Write (or replace) one member after checking its organisation, household and figures."""
    problems = member_problems(store, member, on)
    if problems:
        raise ValidationError(Message("party.source_member", code=member.code), problems)
    store.party_book().upsert("party_members", asdict(member))


def member_problems(store: Store, member: Member, on: dt.date | None = None) -> list[Problem]:
    """What is wrong with `member`: its code, name, phone, hours, organisation in force and household."""
    book = store.party_book()
    problems = []
    if not member.code.strip():
        problems.append(Problem(None, "code", Message("party.code_required")))
    if not member.name.strip():
        problems.append(Problem(None, "name", Message("party.name_required")))
    if not _phone_ok(member.phone):
        problems.append(Problem(None, "phone", Message("party.not_a_phone")))
    if member.service_hours < 0:
        problems.append(Problem(None, "service_hours", Message("party.negative")))
    if not len(book.orgs(on=on or _today(), codes=[member.org_code])):
        problems.append(Problem(None, "org_code", Message("party.no_org_in_force", code=member.org_code)))
    if member.household_code and not len(store.read("households", codes=[member.household_code])):
        problems.append(
            Problem(None, "household_code", Message("party.no_household", code=member.household_code))
        )
    return problems


def save_unit(store: Store, unit: Unit, on: dt.date | None = None) -> None:
    """Write (or replace) one unit after checking its kind, street, tier and organisations."""
    problems = unit_problems(store, unit, on)
    if problems:
        raise ValidationError(Message("party.source_unit", code=unit.code), problems)
    store.party_book().upsert("party_units", asdict(unit))


def unit_problems(
    store: Store, unit: Unit, on: dt.date | None = None, in_force: pd.DataFrame | None = None
) -> list[Problem]:
    """What is wrong with `unit`: its code, name, kind, tier, street and organisations (`in_force`: the
    organisations in force on `on`, read when not given)."""
    problems = []
    if not unit.code.strip():
        problems.append(Problem(None, "code", Message("party.code_required")))
    if not unit.name.strip():
        problems.append(Problem(None, "name", Message("party.name_required")))
    if unit.kind not in UNIT_KINDS:
        problems.append(Problem(None, "kind", Message("party.unit_kind", kinds=", ".join(UNIT_KINDS))))
    if unit.tier is not None and unit.tier not in (1, 2, 3):
        problems.append(Problem(None, "tier", Message("party.tiers")))
    if unit.tier is not None and not unit.member_of:
        problems.append(Problem(None, "tier", Message("party.tier_without_member_of")))
    if not len(store.read("streets", codes=[unit.street_code])):
        problems.append(Problem(None, "street_code", Message("party.no_street", code=unit.street_code)))
    if in_force is None:
        in_force = store.party_book().orgs(on=on or _today())
    kinds = dict(zip(in_force["code"], in_force["kind"], strict=True))
    if unit.member_of and kinds.get(unit.member_of) != "community_committee":
        problems.append(Problem(None, "member_of", Message("party.not_a_committee", code=unit.member_of)))
    if unit.covered_by and unit.covered_by not in kinds:
        problems.append(Problem(None, "covered_by", Message("party.no_org_in_force", code=unit.covered_by)))
    return problems


# -- 一户十联 register ---------------------------------------------------------------


def confirm_links(
    store: Store, center: str, households: Sequence[str], *, by: str, on: dt.date | None = None
) -> list[dict[str, Any]]:
    """Make `households` the confirmed links of center household `center` (replacing its earlier ones)."""
    wanted = list(dict.fromkeys(households))
    problems = links_problems(store, center, wanted)
    if problems:
        if any(
            p.field == "center" and getattr(p.reason, "key", "") == "party.no_household" for p in problems
        ):
            raise NotFoundError(Message("party.no_household", code=center))
        raise ValidationError(Message("party.source_links", center=center), problems)
    rows = [
        {"household_code": h, "center_code": center, "confirmed_by": by, "confirmed_on": on or _today()}
        for h in wanted
    ]
    store.party_book().set_links([center], rows, by=by)
    return rows


def links_problems(
    store: Store, center: str, wanted: Sequence[str], taken: dict[str, str] | None = None
) -> list[Problem]:
    """What is wrong with making `wanted` the links of `center` (`taken`: each linked household's
    center, the register's when not given); a problem's row is the household's place in `wanted`."""
    found = store.read("households", codes=[center, *wanted])
    found = found.set_index(found["code"].astype(str))
    is_center = found["center_household"].fillna(False).astype(bool)
    if center not in found.index:
        return [Problem(None, "center", Message("party.no_household", code=center))]
    problems: list[Problem] = []
    if not is_center[center]:
        problems.append(Problem(None, "center", Message("party.not_a_center", code=center)))
    if len(wanted) > LINK_QUOTA:
        problems.append(
            Problem(None, "households", Message("party.too_many_links", most=LINK_QUOTA, n=len(wanted)))
        )
    grid = found.loc[center, "grid_code"]
    if taken is None:
        others = store.party_book().links()
        taken = dict(zip(others["household_code"], others["center_code"], strict=True))
    for i, code in enumerate(wanted):
        if code == center:
            problems.append(Problem(i, "households", Message("party.linked_to_itself")))
        elif code not in found.index:
            problems.append(Problem(i, "households", Message("party.no_household", code=code)))
        elif is_center[code]:
            problems.append(Problem(i, "households", Message("party.center_itself", code=code)))
        elif found.loc[code, "grid_code"] != grid:
            problems.append(Problem(i, "households", Message("party.other_grid", code=code, grid=grid)))
        elif taken.get(code, center) != center:
            problems.append(
                Problem(i, "households", Message("party.linked_already", code=code, center=taken[code]))
            )
    return problems


def link_register(store: Store) -> pd.DataFrame | None:
    """The confirmed 一户十联 register (household_code, center_code); None when the store keeps none."""
    try:
        links = store.party_book().links()
    except StoreError:
        return None
    return links[["household_code", "center_code"]] if len(links) else None


def orgs_in_force(store: Store, on: dt.date | None = None) -> pd.DataFrame | None:
    """The organisations in force on `on` (today); None when the store keeps none."""
    try:
        orgs = store.party_book().orgs(on=on or _today())
    except StoreError:
        return None
    return orgs if len(orgs) else None


def records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (dates as ISO text, missing values as None)."""
    out = rows.astype(object).where(rows.notna(), None)
    return [
        {str(k): (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()}
        for r in out.to_dict("records")
    ]

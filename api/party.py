"""`/party`: the party organisation chain over HTTP — the tree, members, 一户十联 links, points, funds.

Reading needs a viewer; names and phones (members, secretaries) come whole
only to an admin and to the editors of the organisation they belong to (or
one above it), masked to everyone else (`gridmap.party.access`). Writing:
an admin anything; a branch secretary (an editor token with `party_orgs`)
their own organisation's new versions and the members, points and funds of
it and the organisations below it; a community's editors its 一户十联 links.
Points rankings below those rights are the public posting list.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Caller, Principal
from gridmap.errors import NotFoundError, PermissionDeniedError
from gridmap.party.access import PartyAccess, below
from gridmap.party.dedicated import dedicated_grids
from gridmap.party.funds import FundsEntry, record_funds, year_funds
from gridmap.party.history import register_history, revert_newest, versions
from gridmap.party.points import PointEntry, Scheme, public_list, record_points, year_ranking
from gridmap.party.proposal import propose_links
from gridmap.party.register import (
    Member,
    Organisation,
    confirm_links,
    org_tree,
    records,
    save_member,
    save_org,
)
from gridmap.party.service import store_findings
from gridmap.party.vocabulary import AREA_KINDS, DEDICATED, ORG_KINDS
from gridmap.privacy import Role, protect_party
from gridmap.stores import Store
from gridmap.texts import Message

router = APIRouter(prefix="/party", tags=["party"])
Code = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=200)]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _access(caller: Principal) -> PartyAccess:
    return PartyAccess(
        admin=caller.role is Role.ADMIN,
        own=caller.party_orgs,
        name=caller.name or f"{caller.role.value} token",
    )


def _today() -> dt.date:
    return dt.date.today()


class OrganisationIn(BaseModel):
    """A new version of an organisation (its code in the path)."""

    model_config = ConfigDict(extra="forbid")

    name: Text
    kind: Code
    area_kind: Code
    area_code: Code
    parent_code: Code | None = None
    area_wkt: str | None = Field(None, max_length=100_000)
    secretary: Text | None = None
    secretary_phone: Text | None = None
    secretary_code: Code | None = Field(
        None, description="The secretary's member code: its name and phone are the member's"
    )
    valid_from: dt.date | None = None


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    org_code: Code
    phone: Text | None = None
    household_code: Code | None = None
    in_service: bool = False
    work_unit: Text | None = None
    reported_on: dt.date | None = None
    service_hours: float = Field(0.0, ge=0, le=100_000)


class LinksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    households: list[Code] = Field(max_length=50)


class PointsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_code: Code
    rule_code: Code
    occurred_on: dt.date
    evidence: Text
    events: int = Field(1, ge=1, le=1000)


class FundsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_code: Code
    year: int = Field(ge=2000, le=2100)
    flow: Code
    amount: float = Field(gt=0, le=100_000_000)
    source: Code = "branch_funds"
    category: Code | None = None
    evidence: Text | None = None


def _shown_orgs(rows: Any, caller: Principal, store: Store) -> Any:
    everything = store.party_book().orgs()
    return protect_party("party_orgs", rows, _access(caller).sees_whole(rows["code"], everything))


@router.get("/orgs", summary="The organisation tree in force on a day (secretaries masked but for their own)")
def get_tree(
    request: Request,
    caller: Caller,
    on: dt.date | None = None,
    street: Annotated[str | None, Query(max_length=64, description="Only this street's committee")] = None,
) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.party_orgs"))
    store = _store(request)
    rows = _shown_orgs(store.party_book().orgs(on=on or _today()), caller, store)
    tree = org_tree(rows)
    if street is not None:
        tree = [t for t in tree if t["area_code"] == street]
    kinds = {code: kind.zh for code, kind in ORG_KINDS.items()}
    return {"on": (on or _today()).isoformat(), "kinds": kinds, "orgs": tree}


@router.get("/orgs/{code}", summary="Every version of one organisation (its history)")
def get_versions(request: Request, caller: Caller, code: str) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.party_orgs"))
    store = _store(request)
    rows = store.party_book().orgs(codes=[code])
    if not len(rows):
        raise NotFoundError(Message("party.no_org", code=repr(code)))
    return {"code": code, "versions": records(_shown_orgs(rows, caller, store))}


@router.put("/orgs/{code}", summary="Open a new version of an organisation (closing the one in force)")
def put_org(request: Request, caller: Caller, code: str, body: OrganisationIn) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.change_party_orgs"))
    store = _store(request)
    access = _access(caller)
    access.require_version(code, "changing an organisation")
    save_org(store, Organisation(code=code, **body.model_dump()), by=access.name)
    newest = store.party_book().orgs(codes=[code]).tail(1)  # versions by their first day
    return records(_shown_orgs(newest, caller, store))[0]


@router.get("/members", summary="Members of an organisation and those below it (names masked but for own)")
def get_members(
    request: Request, caller: Caller, org: Annotated[str | None, Query(max_length=64)] = None
) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.party_members"))
    store = _store(request)
    book = store.party_book()
    orgs = book.orgs()
    members = book.members(orgs=sorted(below(orgs, frozenset([org]))) if org else None)
    shown = protect_party("party_members", members, _access(caller).sees_whole(members["org_code"], orgs))
    return {"count": len(shown), "members": records(shown)}


@router.put("/members/{code}", summary="Write a member (their organisation's editors or an admin)")
def put_member(request: Request, caller: Caller, code: str, body: MemberIn) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.change_party_members"))
    store = _store(request)
    book = store.party_book()
    orgs, access = book.orgs(), _access(caller)
    access.require_org(body.org_code, orgs, "writing a member")
    before = book.members(codes=[code])
    if len(before):
        access.require_org(str(before["org_code"].iloc[0]), orgs, "moving a member")
    save_member(store, Member(code=code, **body.model_dump()))
    return records(book.members(codes=[code]))[0]


@router.get("/links", summary="The confirmed 一户十联 register (household codes only)")
def get_links(
    request: Request, caller: Caller, center: Annotated[str | None, Query(max_length=64)] = None
) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.links"))
    links = _store(request).party_book().links(centers=[center] if center else None)
    return {"count": len(links), "links": records(links)}


@router.get("/links/{center}/proposal", summary="The computed links proposed for a center household")
def get_proposal(request: Request, caller: Caller, center: str) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.link_proposal"))
    return {"center": center, "households": propose_links(_store(request), center)}


def _require_community(caller: Principal, store: Store, center: str) -> None:
    """Refuse unless the caller is an admin or an editor of the center household's community."""
    if caller.role is Role.ADMIN:
        return
    found = store.read("households", codes=[center])
    grid = found["grid_code"].iloc[0] if len(found) else None
    grids = store.read("grids", codes=[str(grid)]) if isinstance(grid, str) else found.iloc[:0]
    community = grids["community_code"].iloc[0] if len(grids) else None
    if community not in caller.communities:
        raise PermissionDeniedError(Message("error.not_yours", what=Message("error.household", code=center)))


@router.put("/links/{center}", summary="Confirm a center household's links (its community's editors)")
def put_links(request: Request, caller: Caller, center: str, body: LinksIn) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.confirm_links"))
    store = _store(request)
    _require_community(caller, store, center)
    rows = confirm_links(store, center, body.households, by=_access(caller).name)
    return {"center": center, "count": len(rows), "links": [r["household_code"] for r in rows]}


@router.get(
    "/dedicated", summary="The 专属网格 of the organisations in force on a day, as GeoJSON (no personal data)"
)
def get_dedicated(request: Request, caller: Caller, on: dt.date | None = None) -> dict[str, Any]:
    caller.require(Role.VIEWER, "reading the party organisations")
    found = dedicated_grids(_store(request).party_book().orgs(on=on or _today()))
    collection: dict[str, Any] = json.loads(found.to_json(drop_id=True, ensure_ascii=False))
    kinds = {code: kind.zh for code, kind in ORG_KINDS.items()}
    return {**collection, "label": AREA_KINDS[DEDICATED].zh, "kinds": kinds}


@router.get(
    "/findings", summary="Findings of the chain: buildings without groups, 两个覆盖 … (no personal data)"
)
def get_findings(request: Request, caller: Caller, on: dt.date | None = None) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.party_findings"))
    found = store_findings(_store(request), on) or {}
    return {kind: records(table) for kind, table in found.items()}


@router.get("/points/ranking", summary="A year's points ranked per branch (public list below own rights)")
def get_ranking(
    request: Request,
    caller: Caller,
    year: Annotated[int, Query(ge=2000, le=2100)],
    base: Annotated[int, Query(ge=0, le=1000)] = Scheme.base,
    floor: Annotated[int, Query(ge=0, le=1000)] = Scheme.floor,
) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.points"))
    store = _store(request)
    orgs = store.party_book().orgs()
    ranked = year_ranking(store, year, Scheme(base, floor))
    whole = _access(caller).sees_whole(ranked["branch_code"], orgs)
    posted = public_list(ranked[~whole], orgs)
    own = ranked[whole]
    names = store.party_book().members(codes=own["member_code"].tolist()).set_index("code")["name"]
    own = own.assign(name=own["member_code"].map(names))
    return {"year": year, "own": records(own), "public": records(posted)}


@router.post(
    "/points", status_code=201, summary="Record an approved points entry (the approver is the caller)"
)
def post_points(request: Request, caller: Caller, body: PointsIn) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.record_points"))
    store = _store(request)
    book = store.party_book()
    member = book.members(codes=[body.member_code])
    if not len(member):
        raise NotFoundError(Message("party.no_member", code=repr(body.member_code)))
    access = _access(caller)
    access.require_org(str(member["org_code"].iloc[0]), book.orgs(), "recording points")
    entry = PointEntry(approver=access.name, **body.model_dump())
    return {"id": record_points(store, entry)}


@router.get("/funds", summary="A year's funds: owed, received and short per entitlement; balances")
def get_funds(
    request: Request, caller: Caller, year: Annotated[int, Query(ge=2000, le=2100)]
) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.funds"))
    short, balance = year_funds(_store(request), year)
    return {"year": year, "entitlements": records(short), "balances": records(balance)}


@router.post("/funds", status_code=201, summary="Record a receipt or spending of an organisation")
def post_funds(request: Request, caller: Caller, body: FundsIn) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.record_funds"))
    store = _store(request)
    _access(caller).require_org(body.org_code, store.party_book().orgs(), "recording funds")
    return {"id": record_funds(store, FundsEntry(**body.model_dump()))}


@router.get(
    "/history/{register}/{key}",
    summary="Who changed a member, unit, link, points or funds entry, when, before and after",
)
def get_row_history(request: Request, caller: Caller, register: str, key: str) -> dict[str, Any]:
    caller.require(Role.VIEWER, Message("api.action.party_members"))
    changes = register_history(_store(request), register, key, _access(caller))
    return {"register": register, "key": key, "changes": [c.as_dict() for c in changes]}


@router.post(
    "/history/{register}/{key}/revert",
    summary="Undo the newest change of a register's row by a new version (checked as a write is)",
)
def post_row_revert(request: Request, caller: Caller, register: str, key: str) -> dict[str, Any]:
    caller.require(Role.EDITOR, Message("api.action.change_party_members"))
    store = _store(request)
    access = _access(caller)
    newest = versions(store, register, key).tail(2)
    if register == "links":
        for center in set(newest["center_code"].astype(str)):
            _require_community(caller, store, center)
    elif register == "units":
        caller.require(Role.ADMIN, Message("api.action.change_party_orgs"))
    else:
        book = store.party_book()
        orgs = book.orgs()
        if register == "points":
            members = book.members(codes=newest["member_code"].astype(str).tolist())
            owners = set(members["org_code"].astype(str))
            if len(members) < newest["member_code"].nunique():
                caller.require(Role.ADMIN, Message("api.action.record_points"))
        else:
            owners = set(newest["org_code"].astype(str))
        for org in sorted(owners):
            access.require_org(org, orgs, "reverting a change")
    undone = revert_newest(store, register, key, by=access.name)
    return {"register": register, "key": key, "undone": undone}

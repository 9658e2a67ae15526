"""`GET /reports/…`: the printable meeting report as a PDF (viewer), the same as `gridmap report`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from api.auth import Caller
from api.maps import data_date
from gridmap.cases.desk import case_statistics_by_grid
from gridmap.meeting import html_to_pdf, report_html
from gridmap.party.service import store_findings
from gridmap.privacy import Role
from gridmap.texts import Message

router = APIRouter(tags=["reports"])

PDF = "application/pdf"
Unit = Literal["street", "community", "grid"]


def _pdf(request: Request, caller: Caller, scope: str, code: str | None, sites: int, html: bool) -> Response:
    caller.require(Role.VIEWER, Message("api.action.meeting_report"))
    frames, analysis = request.app.state.analysis.get()
    cases = case_statistics_by_grid(request.app.state.store)
    party = store_findings(request.app.state.store)
    when = data_date(request)
    text = report_html(
        analysis,
        frames,
        scope,  # type: ignore[arg-type]
        code,
        data_date=when,
        sites=sites,
        cases=cases,
        party=party,
    )
    if html:
        return Response(text, media_type="text/html; charset=utf-8")
    name = f"report_{scope}{'_' + code if code else ''}.pdf"
    return Response(
        html_to_pdf(text), media_type=PDF, headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


Sites = Annotated[int, Query(ge=0, le=20, description="Proposed speaker sites to rank")]
AsHtml = Annotated[bool, Query(description="The report's HTML instead of the PDF")]


@router.get(
    "/reports/district.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
    summary="Meeting report of the whole district (A4 PDF, viewer)",
)
def district_report(request: Request, caller: Caller, sites: Sites = 5, html: AsHtml = False) -> Response:
    """Cover, labelled map, per-grid table and ranked action list; no personal data."""
    return _pdf(request, caller, "district", None, sites, html)


@router.get(
    "/reports/{unit}/{code}.pdf",
    response_class=Response,
    responses={200: {"content": {PDF: {}}}},
    summary="Meeting report of a street, a community or a grid (A4 PDF, viewer)",
)
def unit_report(
    request: Request,
    caller: Caller,
    unit: Unit,
    code: Annotated[str, Path(max_length=100)],
    sites: Sites = 5,
    html: AsHtml = False,
) -> Response:
    """The same report as `gridmap report --street|--community|--grid CODE`."""
    return _pdf(request, caller, unit, code, sites, html)

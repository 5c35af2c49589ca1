"""HTTP routes of the committee report: a locality's or an authority's, as HTML or PDF."""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from services.metrics.api.observations import AreasDep, Reader, SettingsDep, as_utc
from services.metrics.report_render import render_html, render_pdf
from services.metrics.report_view import report_view
from services.metrics.service import flow as flow_service
from services.metrics.service.report import build_report
from shared.app import SessionDep
from shared.clock import NowDep
from shared.input_rules import IsoDate, IsoDateTime
from shared.objectives import load_objectives

router = APIRouter(prefix="/api/v1", tags=["report"])

REPORT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/html": {}, "application/pdf": {}}, "description": "the report"}
}
AsOf = Annotated[IsoDateTime | None, Query(description="the report as the system knew it then")]
From = Annotated[IsoDate | None, Query(alias="from", description="referral period's first day")]
To = Annotated[
    IsoDate | None, Query(description="referral period's last day (default the as-at day)")
]
Format = Annotated[Literal["html", "pdf"] | None, Query(description="instead of Accept")]


async def _report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    areas: AreasDep,
    now: datetime,
    *,
    code: str,
    kind: str,
    from_: date | None,
    to: date | None,
    as_of: datetime | None,
    format_: str | None,
) -> Response:
    moment = as_utc(as_of)
    period = flow_service.period_of(from_, to, (moment or now).date())
    report = await build_report(
        session, area_code=code, kind=kind, areas=areas, period=period, as_of=moment, now=now
    )
    objectives = {o.code: o.title for o in load_objectives(settings.objectives_file).values()}
    html = render_html(report_view(report, objectives))
    wants_pdf = format_ == "pdf" or (
        format_ is None and "application/pdf" in request.headers.get("accept", "")
    )
    if not wants_pdf:
        return HTMLResponse(html)
    pdf = await run_in_threadpool(render_pdf, html)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="report-{code}.pdf"'},
    )


@router.get("/localities/{code}/report", response_class=Response, responses=REPORT_RESPONSES)
async def locality_report(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: Reader,
    areas: AreasDep,
    now: NowDep,
    from_: From = None,
    to: To = None,
    as_of: AsOf = None,
    format: Format = None,
) -> Response:
    """The locality's committee report: indicators with charts, tables, referral flow."""
    return await _report(
        request,
        session,
        settings,
        areas,
        now,
        code=code,
        kind="locality",
        from_=from_,
        to=to,
        as_of=as_of,
        format_=format,
    )


@router.get("/authorities/{code}/report", response_class=Response, responses=REPORT_RESPONSES)
async def authority_report(
    code: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: Reader,
    areas: AreasDep,
    now: NowDep,
    from_: From = None,
    to: To = None,
    as_of: AsOf = None,
    format: Format = None,
) -> Response:
    """An authority's report: its own indicators and the referral flow of all its localities."""
    return await _report(
        request,
        session,
        settings,
        areas,
        now,
        code=code,
        kind="authority",
        from_=from_,
        to=to,
        as_of=as_of,
        format_=format,
    )

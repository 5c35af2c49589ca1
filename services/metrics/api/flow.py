"""HTTP routes of the referral flow: one area over a period, and two periods compared."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.metrics.api.observations import AreasDep, Reader, as_utc
from services.metrics.flow_schemas import FlowComparisonOut, FlowOut, comparison_out, flow_out
from services.metrics.service import flow as flow_service
from shared.app import SessionDep
from shared.clock import NowDep
from shared.input_rules import IsoDate, IsoDateTime

router = APIRouter(prefix="/api/v1", tags=["referral flow"])

AsOf = Annotated[IsoDateTime | None, Query(description="count only what was known at this time")]
Channel = Annotated[
    str | None, Query(max_length=32, description="one referral channel, e.g. phone")
]
Day = Annotated[IsoDate | None, Query()]


def _today(as_of: datetime | None, now: datetime) -> date:
    return (as_of or now).date()


@router.get("/areas/{code}/referral-flow", response_model=FlowOut)
async def area_referral_flow(
    code: str,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    now: NowDep,
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="first day (12 weeks back)")
    ] = None,
    to: Annotated[IsoDate | None, Query(description="last day, included (default today)")] = None,
    channel: Channel = None,
    as_of: AsOf = None,
) -> FlowOut:
    """Referral flow of a locality or a whole authority (the sum of its localities)."""
    moment = as_utc(as_of)
    period = flow_service.period_of(from_, to, _today(moment, now))
    flow = await flow_service.referral_flow(
        session, area_code=code, areas=areas, period=period, channel=channel, as_of=moment
    )
    return flow_out(flow)


@router.get("/areas/{code}/referral-flow/comparison", response_model=FlowComparisonOut)
async def compare_referral_flow(
    code: str,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    before_from: Annotated[date, Query(description="first day of the earlier period")],
    before_to: Annotated[date, Query(description="last day of the earlier period")],
    after_from: Annotated[date, Query(description="first day of the later period")],
    after_to: Annotated[date, Query(description="last day of the later period")],
    channel: Channel = None,
    as_of: AsOf = None,
) -> FlowComparisonOut:
    """Two periods of referral flow (before and after a campaign) with the change's significance."""
    before = flow_service.period_of(before_from, before_to, before_to, field="before_from")
    after = flow_service.period_of(after_from, after_to, after_to, field="after_from")
    comparison = await flow_service.compare_periods(
        session,
        area_code=code,
        areas=areas,
        before=before,
        after=after,
        channel=channel,
        as_of=as_utc(as_of),
    )
    return comparison_out(comparison)

"""Response models of the referral flow and the period comparison."""

from datetime import date

from pydantic import BaseModel, Field

from services.metrics.domain.flow import ReferralFlow
from services.metrics.domain.statistics import PeriodChange
from services.metrics.service.flow import AreaFlow, FlowComparison


class FlowFigures(BaseModel):
    """One area's referral flow over the period (counts and the shares made of them)."""

    area_code: str
    received: int
    received_by_channel: dict[str, int]
    received_by_category: dict[str, int] = Field(
        description="referrals per category at receipt; one referral may count in several"
    )
    triaged_by_track: dict[str, int]
    see_and_solve: int
    multi_agency: int
    see_and_solve_share: float | None = Field(description="percent of see-and-solve + multi-agency")
    multi_agency_share: float | None
    see_and_solve_resolved: int = Field(description="see-and-solve resolved with a due time")
    see_and_solve_within_day: int
    within_day_share: float | None
    overdue: int
    resolved: int
    median_days_to_resolution: float | None


class FlowOut(FlowFigures):
    area_name: str
    kind: str
    from_: date = Field(serialization_alias="from")
    to: date
    days: int
    channel: str | None
    localities: list[FlowFigures] = Field(description="the localities the totals add up from")


class PeriodChangeOut(BaseModel):
    before: float
    after: float
    absolute: float
    relative: float | None
    z: float | None
    p_value: float | None
    significant: bool
    method: str


class FlowComparisonOut(BaseModel):
    before: FlowOut
    after: FlowOut
    received_per_day: PeriodChangeOut
    see_and_solve_share: PeriodChangeOut
    within_day_share: PeriodChangeOut


def figures(flow: ReferralFlow) -> FlowFigures:
    return FlowFigures(
        area_code=flow.area_code,
        received=flow.received,
        received_by_channel=flow.received_by_channel,
        received_by_category=flow.received_by_category,
        triaged_by_track=flow.triaged_by_track,
        see_and_solve=flow.see_and_solve,
        multi_agency=flow.multi_agency,
        see_and_solve_share=flow.see_and_solve_share,
        multi_agency_share=flow.multi_agency_share,
        see_and_solve_resolved=flow.see_and_solve_resolved,
        see_and_solve_within_day=flow.see_and_solve_within_day,
        within_day_share=flow.within_day_share,
        overdue=flow.overdue,
        resolved=len(flow.resolution_days),
        median_days_to_resolution=flow.median_days_to_resolution,
    )


def flow_out(flow: AreaFlow) -> FlowOut:
    return FlowOut(
        **figures(flow.total).model_dump(),
        area_name=flow.area.name,
        kind=flow.area.kind,
        from_=flow.period.first_day,
        to=flow.period.last_day,
        days=flow.period.days,
        channel=flow.channel,
        localities=[figures(part) for _, part in flow.localities],
    )


def change_out(change: PeriodChange) -> PeriodChangeOut:
    return PeriodChangeOut(
        before=change.before,
        after=change.after,
        absolute=change.absolute,
        relative=change.relative,
        z=change.z,
        p_value=change.p_value,
        significant=change.significant,
        method=change.method,
    )


def comparison_out(comparison: FlowComparison) -> FlowComparisonOut:
    return FlowComparisonOut(
        before=flow_out(comparison.before),
        after=flow_out(comparison.after),
        received_per_day=change_out(comparison.received_per_day),
        see_and_solve_share=change_out(comparison.see_and_solve_share),
        within_day_share=change_out(comparison.within_day_share),
    )

"""HTTP routes of the analysis: per-indicator analysis, comparison, scorecard, derived series."""

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.metrics.analysis_schemas import (
    AnalysisOut,
    ComparisonOut,
    DerivedSeries,
    DerivedSeriesList,
    Scorecard,
    analysis_out,
    comparison_out,
    point_out,
    scorecard_out,
)
from services.metrics.api.observations import AreasDep, Reader, as_utc
from services.metrics.domain import Granularity, period_label
from services.metrics.domain.formatting import plain_decimal
from services.metrics.schemas import (
    ReferralCount,
    ReferralCounts,
    TargetList,
    TargetOut,
)
from services.metrics.service import analysis as analysis_service
from services.metrics.service import derived
from services.metrics.service import observations as service
from shared.app import SessionDep
from shared.input_rules import IsoDate, IsoDateTime
from shared.problems import NotFound, Unprocessable

router = APIRouter(prefix="/api/v1", tags=["analysis"])

AsOf = Annotated[IsoDateTime | None, Query(description="use values as known at this time")]
SCORECARD_COLUMNS = (
    "indicator_code", "name", "unit", "desired_direction", "source", "latest_period",
    "latest_value", "baseline_period", "baseline_value", "change_absolute", "change_relative",
    "previous_value", "change_since_previous_absolute", "status", "status_method",
    "status_since_previous", "rag", "target_value", "target_source",
)  # fmt: skip


@router.get("/indicators/{code}/analysis", response_model=AnalysisOut)
async def analyse_indicator(
    code: str,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    area: Annotated[str, Query(max_length=32, description="area code, e.g. NP or MBRO")],
    as_of: AsOf = None,
) -> AnalysisOut:
    """Latest value, change since baseline and previous period, status, RAG and the series."""
    found = await analysis_service.analyse(
        session, indicator_code=code, area_code=area, areas=areas, as_of=as_utc(as_of)
    )
    return analysis_out(found)


@router.get("/indicators/{code}/comparison", response_model=ComparisonOut)
async def compare_areas(
    code: str,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    area: Annotated[
        list[str], Query(description="two or more area codes; the first is the reference")
    ],
    as_of: AsOf = None,
) -> ComparisonOut:
    """The indicator's latest value and trend in several areas, against the first one."""
    codes = list(dict.fromkeys(code for item in area for code in item.split(",") if code))
    if not 2 <= len(codes) <= 20:
        raise Unprocessable("Give between 2 and 20 areas.", field="area")
    indicator, items = await analysis_service.compare(
        session, indicator_code=code, area_codes=codes, areas=areas, as_of=as_utc(as_of)
    )
    return comparison_out(indicator, items)


@router.get("/indicators/{code}/targets", response_model=TargetList)
async def list_targets(
    code: str,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    area: Annotated[str | None, Query(max_length=32)] = None,
    as_of: AsOf = None,
) -> TargetList:
    """Targets set on this indicator by action plans, each in the version in force at `as_of`
    (the latest version when absent); a target set after `as_of` is not listed."""
    if area is not None and area not in areas:
        raise NotFound(f"No area '{area}'.", field="area")
    rows = await service.list_targets(
        session, indicator_code=code, area_code=area, as_of=as_utc(as_of)
    )
    return TargetList(items=[TargetOut.model_validate(r) for r in rows])


@router.get(
    "/localities/{code}/scorecard",
    response_model=Scorecard,
    responses={200: {"content": {"text/csv": {}}}},
)
async def locality_scorecard(
    code: str,
    request: Request,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    as_of: AsOf = None,
) -> Response:
    """Every indicator for the locality: latest, baseline, change, status, RAG (JSON or CSV)."""
    card = scorecard_out(
        await analysis_service.scorecard(
            session, locality_code=code, areas=areas, as_of=as_utc(as_of)
        )
    )
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            scorecard_csv(card),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="scorecard-{code}.csv"'},
        )
    return Response(card.model_dump_json(), media_type="application/json")


def scorecard_csv(card: Scorecard) -> str:
    """One line per indicator; comparison areas as extra columns `value_<area>`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*SCORECARD_COLUMNS, *(f"value_{c}" for c in card.comparison_area_codes)])
    for row in card.rows:
        values = row.model_dump()
        writer.writerow(
            [_cell(values[name]) for name in SCORECARD_COLUMNS]
            + [_cell(row.comparison.get(c)) for c in card.comparison_area_codes]
        )
    return buffer.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return plain_decimal(value)  # every digit, never 5.80897e-07
    return str(value)


DerivedAsOf = Annotated[
    IsoDateTime | None,
    Query(description="count only what had happened by this time (event time)"),
]


@router.get(
    "/derived/referrals-received",
    response_model=ReferralCounts,
    responses={404: {"description": "No such locality"}},
)
async def referrals_received(
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    locality: Annotated[str | None, Query(max_length=16, description="one locality code")] = None,
    granularity: Annotated[Granularity | None, Query(description="week, month or quarter")] = None,
    as_of: DerivedAsOf = None,
) -> ReferralCounts:
    """Referrals received per locality (in total, or per week, month or quarter)."""
    derived.check_localities(areas, [locality] if locality else None)
    if granularity is None:
        totals = await service.count_referrals_received(
            session, locality_code=locality, as_of=as_utc(as_of)
        )
        return ReferralCounts(
            items=[ReferralCount(locality_code=c, referrals_received=n) for c, n in totals]
        )
    rows = await service.referrals_received_per_period(
        session, granularity=granularity, locality_code=locality, as_of=as_utc(as_of)
    )
    return ReferralCounts(
        items=[
            ReferralCount(
                locality_code=r.locality_code,
                referrals_received=int(r.value),
                period_start=r.period_start,
                period_label=period_label(granularity, r.period_start),
            )
            for r in rows
        ]
    )


@router.get("/derived/{indicator_code}", response_model=DerivedSeriesList)
async def derived_indicator(
    indicator_code: str,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    locality: Annotated[list[str] | None, Query(description="locality codes (all if none)")] = None,
    granularity: Granularity = Granularity.MONTH,
    from_: Annotated[
        IsoDate | None, Query(alias="from", description="keep periods starting on or after")
    ] = None,
    to: Annotated[IsoDate | None, Query(description="keep periods ending on or before")] = None,
    as_of: DerivedAsOf = None,
) -> DerivedSeriesList:
    """A derived indicator's series per locality, computed from the event stream.

    With `as_of`, the facts as they stood then, by event time: a referral received, triaged,
    resolved or gone overdue after `as_of` counts as not (yet) so.
    """
    if indicator_code not in derived.CALCULATIONS:
        raise NotFound(f"No derived indicator '{indicator_code}'.", field="indicator_code")
    if from_ and to and from_ > to:
        raise Unprocessable(f"'from' {from_} is after 'to' {to}.", field="from")
    derived.check_localities(areas, locality)
    series = await derived.derived_series(
        session, indicator_code, granularity, locality or None, as_utc(as_of)
    )
    series = {
        code: kept for code, points in series.items() if (kept := derived.within(points, from_, to))
    }
    return DerivedSeriesList(
        indicator_code=indicator_code,
        granularity=granularity,
        items=[
            DerivedSeries(locality_code=code, series=[point_out(p) for p in points])  # type: ignore[misc]
            for code, points in sorted(series.items())
        ],
    )

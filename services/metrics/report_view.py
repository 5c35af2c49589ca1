"""The committee report's view model: the report's figures turned into what the page shows.

Everything here is formatted text and chart geometry; the template only lays it out. Pure
(no I/O): it reads the use case's result and the domain's formatting, chart and selection rules.
"""

from dataclasses import dataclass
from datetime import date, datetime

from services.metrics.domain import Frequency, Source, Unit, formatting, statistics, what_changed
from services.metrics.domain import analysis as rules
from services.metrics.domain.chart import Chart, ChartPoint, TargetLine, line_chart
from services.metrics.domain.flow import ReferralFlow
from services.metrics.service.report import IndicatorReport, PlanReport, PlanTargetReport, Report

TABLE_COLUMNS = 8  # the latest periods a table shows, as the papers do
TABLE_TITLES = {
    Frequency.QUARTERLY: "By quarter",
    Frequency.SURVEY_WAVE: "Resident survey, by wave",
    Frequency.MONTHLY: "By month",
    Frequency.ANNUAL: "By year",
}
SOURCE_NAMES = {
    Source.SURVEY: "resident surveys",
    Source.POLICE: "police recorded incidents",
    Source.COUNCIL: "council records",
    Source.DERIVED: "referrals through the hub (derived from the referral events)",
}
STATUS_WORDS = {
    "improving": "improving",
    "worsening": "worsening",
    "no_clear_change": "no clear change",
}


@dataclass(frozen=True)
class IndicatorView:
    code: str
    name: str
    unit: str
    direction: str
    latest: str
    latest_period: str
    baseline: str
    baseline_period: str
    since_baseline: str
    since_previous: str
    rag: str | None
    target: str
    chart: Chart
    y_labels: list[tuple[float, str]]


@dataclass(frozen=True)
class TableView:
    title: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass(frozen=True)
class PlanView:
    heading: str  # objectives and lead: a plan's title is free text and never reaches metrics
    locality: str
    lead: str
    status: str
    reviewed: str
    targets: TableView


@dataclass(frozen=True)
class ReportView:
    title: str
    area_name: str
    area_kind: str
    as_of: str
    generated_at: str
    period: str
    sources: list[str]
    indicators: list[IndicatorView]
    tables: list[TableView]
    flow: list[tuple[str, str]]
    channels: list[tuple[str, str]]
    categories: list[tuple[str, str]]
    flow_by_locality: TableView | None
    targets: TableView
    plans: list[PlanView]
    what_changed: list[str]


def _day(moment: date) -> str:
    return f"{moment.day} {moment:%B %Y}"


def _change_text(unit: str, change: rules.Change | None, status: rules.Status | None) -> str:
    if change is None or status is None:
        return formatting.DASH
    if unit == Unit.PERCENT:
        size = formatting.points(change.absolute)
    elif change.relative is not None:
        size = formatting.signed_percent(change.relative)
    else:
        size = f"{change.absolute:+,.0f}"
    word = STATUS_WORDS.get(status.status, status.status)
    return f"{size}, {word}" if status.status != "no_clear_change" else f"{size}, not significant"


def _chart(item: IndicatorReport) -> Chart:
    unit = item.indicator.unit
    points = []
    for p in item.series:
        low = high = None
        if unit == Unit.PERCENT and p.sample_size:
            low, high = statistics.proportion_interval(p.value, p.sample_size)
        points.append(ChartPoint(p.period_end, p.period_label, p.value, low, high))
    target_line = None
    if item.target is not None:
        target = item.target
        if target.starts_on and target.ends_on and target.baseline_value is not None:
            line = (
                (target.starts_on, target.baseline_value),
                (target.ends_on, target.target_value),
            )
        else:
            ends = (points[0].day, points[-1].day)
            line = ((ends[0], target.target_value), (ends[1], target.target_value))
        target_line = TargetLine(
            line, target.amber_tolerance, item.indicator.desired_direction == "up"
        )
    return line_chart(points, target_line)


def indicator_view(item: IndicatorReport) -> IndicatorView:
    result, unit = item.result, item.indicator.unit
    chart = _chart(item)
    target = item.target
    return IndicatorView(
        code=item.indicator.code,
        name=item.indicator.name,
        unit=unit,
        direction="higher is better"
        if item.indicator.desired_direction == "up"
        else "lower is better",
        latest=formatting.value_in_unit(result.latest.value, unit),
        latest_period=result.latest.period_label,
        baseline=formatting.value_in_unit(result.baseline.value, unit),
        baseline_period=result.baseline.period_label,
        since_baseline=_change_text(unit, result.change_since_baseline, result.status),
        since_previous=_change_text(
            unit, result.change_since_previous, result.status_since_previous
        ),
        rag=result.rag,
        target=(
            f"{formatting.value_in_unit(target.target_value, unit)}"
            + (f" by {_day(target.ends_on)}" if target.ends_on else "")
            if target
            else formatting.DASH
        ),
        chart=chart,
        y_labels=[(y, formatting.value_in_unit(v, unit)) for y, v in chart.y_ticks],
    )


def tables(items: list[IndicatorReport]) -> list[TableView]:
    """One table per frequency: indicators down, their latest periods across (the papers' shape)."""
    found = []
    for frequency, title in TABLE_TITLES.items():
        members = [
            i for i in items
            if i.indicator.frequency == frequency and i.indicator.source != Source.DERIVED
        ]  # fmt: skip
        if not members:
            continue
        periods = sorted({(p.period_start, p.period_label) for i in members for p in i.series})
        columns = [label for _, label in periods][-TABLE_COLUMNS:]
        rows = []
        for item in members:
            by_label = {p.period_label: p.value for p in item.series}
            unit = item.indicator.unit
            rows.append(
                (
                    item.indicator.name,
                    [formatting.value_in_unit(by_label.get(c), unit) for c in columns],
                )
            )
        found.append(TableView(title, columns, rows))
    return found


def flow_rows(flow: ReferralFlow) -> list[tuple[str, str]]:
    return [
        ("Referrals received", formatting.count(flow.received)),
        ("See and solve (share of triaged)", formatting.percent(flow.see_and_solve_share)),
        ("Multi-agency (share of triaged)", formatting.percent(flow.multi_agency_share)),
        ("See and solve done within the day", formatting.percent(flow.within_day_share)),
        ("Went overdue", formatting.count(flow.overdue)),
        ("Resolved", formatting.count(len(flow.resolution_days))),
        ("Median time to resolution", formatting.days_and_hours(flow.median_days_to_resolution)),
    ]


def _flow_by_locality(report: Report) -> TableView | None:
    if report.area.kind != "authority":
        return None
    columns = ["Received", "See and solve", "Multi-agency", "Within the day", "Overdue"]
    rows = [
        (
            area.name,
            [
                formatting.count(part.received),
                formatting.percent(part.see_and_solve_share),
                formatting.percent(part.multi_agency_share),
                formatting.percent(part.within_day_share),
                formatting.count(part.overdue),
            ],
        )
        for area, part in [*report.flow.localities, (report.area, report.flow.total)]
    ]
    return TableView("Referral flow by locality", columns, rows)


def _targets(items: list[IndicatorReport]) -> TableView:
    rows = []
    for item in items:
        target, unit = item.target, item.indicator.unit
        if target is None or target.source != "actionplans":
            continue
        rows.append(
            (
                item.indicator.name,
                [
                    f"v{target.version}, set {_day(target.set_on)}"
                    if target.version and target.set_on
                    else formatting.DASH,
                    f"{formatting.value_in_unit(target.baseline_value, unit)}",
                    formatting.value_in_unit(target.target_value, unit),
                    _day(target.ends_on) if target.ends_on else formatting.DASH,
                    formatting.value_in_unit(item.result.latest.value, unit),
                    (item.result.rag or formatting.DASH).upper(),
                ],
            )
        )
    columns = ["Version in force", "Baseline", "Target", "By", "Latest", "RAG"]
    return TableView("Action plan targets on these indicators", columns, rows)


PLAN_TARGET_COLUMNS = [
    "Baseline",
    "Target",
    "By",
    "At review",
    "RAG at review",
    "Latest",
    "RAG now",
]


def _rag(rag: str | None) -> str:
    return rag.upper() if rag else formatting.DASH


def _plan_target_row(item: PlanTargetReport) -> tuple[str, list[str]]:
    target, unit = item.target, item.indicator.unit if item.indicator else ""
    reviewed = item.reviewed or {}
    latest = (
        f"{formatting.value_in_unit(item.latest.value, unit)} ({item.latest.period_label})"
        if item.latest
        else formatting.DASH
    )
    return (
        item.indicator.name if item.indicator else target.indicator_code,
        [
            formatting.value_in_unit(target.baseline_value, unit),
            formatting.value_in_unit(target.target_value, unit),
            _day(target.target_date),
            formatting.value_in_unit(reviewed.get("value"), unit),
            _rag(reviewed.get("rag")),
            latest,
            _rag(item.rag_now),
        ],
    )


def plan_view(item: PlanReport, objectives: dict[str, str]) -> PlanView:
    """A plan as the committee reads it: what it serves, who leads, its targets then and now."""
    titles = [objectives.get(code, code.replace("_", " ")) for code in item.plan.objective_codes]
    review = item.review
    return PlanView(
        heading=f"{'; '.join(titles)}, led by {item.plan.lead_organisation}",
        locality=item.locality.name,
        lead=item.plan.lead_organisation,
        status=(item.status or "unknown").replace("_", " "),
        reviewed=f"last reviewed {_day(review.held_on)}" if review else "not yet reviewed",
        targets=TableView(
            f"Targets (RAG at review: {_day(review.held_on)})" if review else "Targets",
            PLAN_TARGET_COLUMNS,
            [_plan_target_row(t) for t in item.targets],
        ),
    )


def movements(items: list[IndicatorReport]) -> list[what_changed.Movement]:
    return [
        what_changed.Movement(
            indicator_code=i.indicator.code,
            name=i.indicator.name,
            unit=i.indicator.unit,
            previous=i.result.previous.value if i.result.previous else None,
            latest=i.result.latest.value,
            status_since_previous=(
                i.result.status_since_previous.status if i.result.status_since_previous else None
            ),
            rag_before=i.previous_rag,
            rag_now=i.result.rag,
        )
        for i in items
    ]


def report_view(report: Report, objectives: dict[str, str]) -> ReportView:
    """The page's content, every number formatted for people; `objectives`: titles by code."""
    flow = report.flow
    kinds = {i.indicator.source for i in report.indicators} | {Source.DERIVED}
    as_of: datetime = report.as_of or report.generated_at
    return ReportView(
        title=f"{report.area.name}: locality performance report",
        area_name=report.area.name,
        area_kind=report.area.kind,
        as_of=f"{_day(as_of.date())} {as_of:%H:%M} UTC",
        generated_at=f"{_day(report.generated_at.date())} {report.generated_at:%H:%M} UTC",
        period=f"{_day(flow.period.first_day)} to {_day(flow.period.last_day)}",
        sources=[SOURCE_NAMES[Source(k)] for k in sorted(kinds)],
        indicators=[indicator_view(i) for i in report.indicators],
        tables=tables(report.indicators),
        flow=flow_rows(flow.total),
        channels=[
            (channel.replace("_", " "), formatting.count(n))
            for channel, n in flow.total.received_by_channel.items()
        ],
        categories=[
            (category.replace("_", " "), formatting.count(n))
            for category, n in flow.total.received_by_category.items()
        ],
        flow_by_locality=_flow_by_locality(report),
        targets=_targets(report.indicators),
        plans=[plan_view(p, objectives) for p in report.plans],
        what_changed=what_changed.select(movements(report.indicators)),
    )

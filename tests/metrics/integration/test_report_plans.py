"""The report's action plans: objectives, lead, status and each target's RAG as frozen at the
plan's last review and as it stands now, all as known at the report's as-at time.

The plan events are applied through the metrics consumer's own handlers (not the shared
broker: other tests' reports would read them). Lead organisations carry a per-test suffix, so
plans other tests publish on the broker (which this service also reads) cannot be mistaken
for these.
"""

import uuid
import warnings
from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel

from deploy.local import demo_metrics
from services.metrics.config import Settings
from services.metrics.main import create_app
from services.metrics.service.consumed import HANDLERS
from shared.clock import set_clock
from shared.contracts import actionplans as plans
from shared.events import EventEnvelope, new_event
from tests.harness import TokenMinter

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.integration

# The demo figures are recorded "now": the clock stands after the October 2021 wave.
NOW = datetime(2022, 1, 31, 12, tzinfo=UTC)
DAY_ROW = "<tr><td>Feeling safe during the day</td>"


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def event(kind: str, key: str, payload: BaseModel, time: datetime) -> EventEnvelope:
    return new_event(plans.SOURCE, kind, key, payload).model_copy(update={"time": time})


def plan_events(suffix: str) -> list[EventEnvelope]:
    """A Newport plan reviewed twice then closed, a later one, and North Ormesby's."""
    police, council = f"POLICE-{suffix}", f"COUNCIL-{suffix}"
    np_plan, later, no_plan = f"np-{suffix}", f"later-{suffix}", f"no-{suffix}"
    base = {"plan_id": np_plan, "locality_code": "NP", "organisation": police}

    def created(
        plan_id: str, locality: str, lead: str, codes: list[str], on: date
    ) -> EventEnvelope:
        payload = plans.PlanCreatedV1(
            plan_id=plan_id,
            locality_code=locality,
            organisation=lead,
            objective_codes=codes,
            lead_organisation=lead,
            status="active",
            created_at=at(on),
        )
        return event(plans.PLAN_CREATED_V1, plan_id, payload, at(on))

    def target(
        target_id: str, code: str, baseline: float, goal: float, tolerance: float
    ) -> EventEnvelope:
        payload = plans.TargetSetV1(
            **base,
            target_id=target_id,
            version=1,
            indicator_code=code,
            area_code="NP",
            baseline_value=baseline,
            baseline_period="2020-09",
            baseline_on=date(2020, 9, 30),
            target_value=goal,
            target_date=date(2022, 3, 31),
            amber_tolerance=tolerance,
            set_at=at(date(2020, 10, 2)),
        )
        return event(plans.TARGET_SET_V1, target_id, payload, at(date(2020, 10, 2)))

    def reviewed(
        review_id: str, held_on: date, rags: dict[str, tuple[float, str]]
    ) -> EventEnvelope:
        targets = [
            plans.ReviewedTargetV1(
                target_id=f"{code}-{suffix}",
                target_version=1,
                indicator_code=code,
                area_code="NP",
                value=value,
                rag=rag,
            )
            for code, (value, rag) in rags.items()
        ]
        payload = plans.PlanReviewedV1(
            **base,
            review_id=f"{review_id}-{suffix}",
            reviewed_on=held_on,
            red_targets=0,
            amber_targets=0,
            green_targets=0,
            escalated=False,
            targets=targets,
        )
        return event(plans.PLAN_REVIEWED_V1, np_plan, payload, at(held_on, 17))

    closed = plans.PlanStatusChangedV1(
        **base, previous_status="active", status="closed", changed_at=at(date(2021, 12, 1))
    )
    first = created(
        np_plan, "NP", police, ["people_feel_safe", "community_cohesion"], date(2020, 10, 1)
    )
    return [
        first,
        first,  # a redelivery (past the inbox) changes nothing
        target(f"feel_safe_day-{suffix}", "feel_safe_day", 31.18, 60.0, 5.0),
        target(f"asb_incidents-{suffix}", "asb_incidents", 523, 250, 30),
        reviewed(
            "spring",
            date(2021, 4, 15),
            {"feel_safe_day": (35.49, "red"), "asb_incidents": (401, "amber")},
        ),
        reviewed(
            "autumn",
            date(2021, 11, 20),
            {"feel_safe_day": (68.65, "green"), "asb_incidents": (172, "green")},
        ),
        event(plans.PLAN_STATUS_CHANGED_V1, np_plan, closed, at(date(2021, 12, 1))),
        created(later, "NP", council, ["outcomes_for_children"], date(2022, 6, 1)),
        created(no_plan, "NO", council, ["healthier_population"], date(2020, 10, 1)),
    ]


def reports(
    metrics_settings: Settings, mint: TokenMinter, suffix: str, *queries: tuple[str, str]
) -> list[str]:
    """The demo figures and the plan events loaded; each (route, as_of) report's page."""
    app = create_app(metrics_settings)
    set_clock(app, lambda: NOW)
    headers = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    with TestClient(app, headers=headers) as client:
        demo_metrics.load(client)

        async def apply() -> None:
            for envelope in plan_events(suffix):
                async with app.state.runtime.sessions() as session, session.begin():
                    await HANDLERS[envelope.type](session, envelope)

        client.portal.call(apply)  # type: ignore[union-attr]
        pages = []
        for route, as_of in queries:
            page = client.get(route, params={"as_of": as_of, "format": "html"})
            assert page.status_code == 200, page.text
            pages.append(page.text)
    return pages


def section(html: str, lead: str) -> str:
    """The plan's block of the page (from its heading to the next plan or section)."""
    start = html.rindex('<div class="plan">', 0, html.index(f"led by {lead}<"))
    ends = [
        i for i in (html.find('<div class="plan">', start + 1), html.find("<h2>", start)) if i > 0
    ]
    return html[start : min(ends)]


@pytest.fixture
def suffix() -> str:
    return uuid.uuid4().hex[:8].upper()


def test_locality_report_shows_its_plans_with_rag_at_the_last_review_and_now(
    metrics_settings: Settings, mint: TokenMinter, suffix: str
) -> None:
    [html] = reports(
        metrics_settings, mint, suffix, ("/api/v1/localities/NP/report", NOW.isoformat())
    )

    assert "<h2>Action plans</h2>" in html
    police = f"POLICE-{suffix}"
    heading = f"People feel safe; Improve perception of community cohesion, led by {police}"
    assert html.count(heading) == 1  # the redelivered creation made no second plan
    plan = section(html, police)
    assert f"Lead {police} &middot; status closed &middot; last reviewed 20 November 2021" in plan
    assert "Targets (RAG at review: 20 November 2021)" in plan
    # Baseline, target, by, value and RAG at the review, latest and RAG now (the report's rule).
    assert (
        f"{DAY_ROW}<td>31.2%</td><td>60.0%</td><td>31 March 2022</td>"
        "<td>68.7%</td><td>GREEN</td><td>68.7% (Wave 3 (Oct 2021))</td><td>GREEN</td></tr>"
    ) in plan
    assert "<td>523</td><td>250</td><td>31 March 2022</td><td>172</td><td>GREEN</td>" in plan
    # Created after the as-at date, and the other locality's: neither is shown.
    assert f"COUNCIL-{suffix}" not in html


def test_report_as_at_an_earlier_date_shows_the_review_and_status_known_then(
    metrics_settings: Settings, mint: TokenMinter, suffix: str
) -> None:
    [html] = reports(
        metrics_settings,
        mint,
        suffix,
        ("/api/v1/localities/NP/report", "2021-06-30T12:00:00Z"),
    )

    police = f"POLICE-{suffix}"
    plan = section(html, police)
    assert "status active &middot; last reviewed 15 April 2021" in plan
    # The spring review's RAG; no figure was recorded yet then, so no RAG now.
    assert (
        f"{DAY_ROW}<td>31.2%</td><td>60.0%</td><td>31 March 2022</td>"
        "<td>35.5%</td><td>RED</td><td>\u2013</td><td>\u2013</td></tr>"
    ) in plan
    assert "<td>401</td><td>AMBER</td>" in plan


def test_authority_report_shows_the_plans_of_each_of_its_localities(
    metrics_settings: Settings, mint: TokenMinter, suffix: str
) -> None:
    [html, later] = reports(
        metrics_settings,
        mint,
        suffix,
        ("/api/v1/authorities/MBRO/report", NOW.isoformat()),
        ("/api/v1/authorities/MBRO/report", "2022-07-01T00:00:00Z"),
    )

    assert f"Newport &middot; Lead POLICE-{suffix}" in section(html, f"POLICE-{suffix}")
    council = section(html, f"COUNCIL-{suffix}")
    assert f"Healthier population, led by COUNCIL-{suffix}" in council
    assert "North Ormesby &middot; Lead" in council and "not yet reviewed" in council
    assert "No targets set." in council
    assert f"Better outcomes for children, led by COUNCIL-{suffix}" not in html
    assert f"Better outcomes for children, led by COUNCIL-{suffix}" in later

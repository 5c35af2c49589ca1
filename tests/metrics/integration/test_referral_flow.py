"""Referral flow over any period, for a locality or a whole authority, and two periods compared.

The facts are written straight into the service's database (the consumer that normally writes
them is tested elsewhere), for localities of a configuration of the test's own, so events
other tests publish on the shared broker never reach these figures.
"""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.metrics.config import Settings
from services.metrics.main import create_app
from services.metrics.models import ReferralFact
from shared.contracts.referrals import REFERRAL_RECEIVED_V1, SOURCE, ReferralReceivedV1
from shared.events import EventEnvelope, new_event
from tests.harness import TokenMinter, publish, running_app, wait_until

pytestmark = pytest.mark.integration

AUTHORITY, NORTH, SOUTH = "RPT", "RPA", "RPB"


def write_test_areas(directory: Path) -> tuple[Path, Path]:
    """One authority (Reportshire) of two localities; a third belongs to no authority here."""
    gss = "E06000999"
    localities = directory / "localities.json"
    localities.write_text(
        json.dumps(
            {
                "localities": [
                    {
                        "code": NORTH,
                        "name": "Report North",
                        "authority": "Reportshire",
                        "authority_gss_code": gss,
                    },
                    {
                        "code": SOUTH,
                        "name": "Report South",
                        "authority": "Reportshire",
                        "authority_gss_code": gss,
                    },
                    {
                        "code": "RPX",
                        "name": "Elsewhere",
                        "authority": "Other",
                        "authority_gss_code": None,
                    },
                ]
            }
        )
    )
    areas = directory / "areas.json"
    areas.write_text(
        json.dumps(
            {
                "authorities": [{"code": AUTHORITY, "name": "Reportshire", "gss_code": gss}],
                "localities": {},
            }
        )
    )
    return localities, areas


@pytest.fixture
async def app_and_client(
    metrics_settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    localities, areas = write_test_areas(tmp_path)
    settings = metrics_settings.model_copy(
        update={"localities_file": localities, "areas_file": areas}
    )
    app = create_app(settings)
    async with running_app(app) as client:
        yield app, client


def fact(
    number: int,
    locality: str,
    received_at: datetime,
    *,
    channel: str = "phone",
    track: str | None = None,
    resolution_days: float | None = None,
    within_due: bool | None = None,
    overdue: bool = False,
) -> ReferralFact:
    triaged_at = received_at + timedelta(hours=1) if track else None
    resolved_at = (
        received_at + timedelta(days=resolution_days) if resolution_days is not None else None
    )
    return ReferralFact(
        referral_id=f"{locality}-{number}",
        locality_code=locality,
        channel=channel,
        received_at=received_at,
        track=track,
        triaged_at=triaged_at,
        resolved_at=resolved_at,
        resolution_days=resolution_days,
        within_due=within_due,
        overdue_at=received_at + timedelta(days=2) if overdue else None,
    )


async def store(app: object, facts: list[ReferralFact]) -> None:
    sessions = app.state.runtime.sessions  # type: ignore[attr-defined]
    async with sessions() as session, session.begin():
        session.add_all(facts)


MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def first_weeks_facts() -> list[ReferralFact]:
    """North: 7 see-and-solve (5 within the day) and 3 multi-agency; South: 2 and 2."""
    north = [
        fact(
            i,
            NORTH,
            MONDAY + timedelta(days=i),
            channel="phone" if i < 6 else "email",
            track="see_and_solve" if i < 7 else "multi_agency",
            resolution_days=0.25 if i < 5 else (3.0 if i < 7 else None),
            within_due=(i < 5) if i < 7 else None,
            overdue=i == 9,
        )
        for i in range(10)
    ]
    south = [
        fact(
            i,
            SOUTH,
            MONDAY + timedelta(days=i),
            channel="walk_in",
            track="see_and_solve" if i < 2 else "multi_agency",
            resolution_days=1.5 if i < 2 else None,
            within_due=False if i < 2 else None,
        )
        for i in range(4)
    ]
    later = [fact(99, NORTH, MONDAY + timedelta(days=120), track="see_and_solve")]
    return [*north, *south, *later]


async def test_authority_flow_is_the_sum_of_its_localities_for_the_period(
    app_and_client: tuple[object, httpx.AsyncClient], mint: TokenMinter
) -> None:
    app, client = app_and_client
    await store(app, first_weeks_facts())
    headers = mint.headers("ANY", "metrics:read")
    period = {"from": "2026-03-02", "to": "2026-05-17"}  # the first 11 weeks

    response = await client.get(
        f"/api/v1/areas/{AUTHORITY}/referral-flow", params=period, headers=headers
    )
    assert response.status_code == 200, response.text
    flow = response.json()
    assert (flow["from"], flow["to"], flow["days"]) == ("2026-03-02", "2026-05-17", 77)
    assert [part["area_code"] for part in flow["localities"]] == [NORTH, SOUTH]
    for name in ("received", "see_and_solve", "multi_agency", "overdue", "resolved"):
        assert flow[name] == sum(part[name] for part in flow["localities"]), name
    assert flow["received"] == 14  # the referral of day 120 is outside the period
    assert flow["received_by_channel"] == {"email": 4, "phone": 6, "walk_in": 4}
    assert flow["see_and_solve_share"] == pytest.approx(100 * 9 / 14)
    assert flow["within_day_share"] == pytest.approx(100 * 5 / 9)
    assert flow["median_days_to_resolution"] == 0.25  # of five 0.25s, two 3s and two 1.5s
    north = flow["localities"][0]
    assert (north["see_and_solve_share"], north["multi_agency_share"]) == (70.0, 30.0)

    by_channel = await client.get(
        f"/api/v1/areas/{AUTHORITY}/referral-flow",
        params={**period, "channel": "email"},
        headers=headers,
    )
    assert by_channel.json()["received"] == 4

    known_then = await client.get(
        f"/api/v1/areas/{NORTH}/referral-flow",
        params={**period, "as_of": "2026-03-05T00:00:00Z"},
        headers=headers,
    )
    assert known_then.json()["received"] == 3  # days 0, 1 and 2 only


async def test_unknown_channel_area_or_reversed_period_is_refused_with_a_problem(
    app_and_client: tuple[object, httpx.AsyncClient], mint: TokenMinter
) -> None:
    _, client = app_and_client
    headers = mint.headers("ANY", "metrics:read")
    unknown_channel = await client.get(
        f"/api/v1/areas/{NORTH}/referral-flow", params={"channel": "pigeon"}, headers=headers
    )
    assert unknown_channel.status_code == 422
    assert unknown_channel.headers["content-type"].startswith("application/problem+json")
    assert "pigeon" in unknown_channel.json()["detail"]
    unknown_area = await client.get("/api/v1/areas/NOPE/referral-flow", headers=headers)
    assert unknown_area.status_code == 404
    assert "NOPE" in unknown_area.json()["detail"]
    reversed_period = await client.get(
        f"/api/v1/areas/{NORTH}/referral-flow",
        params={"from": "2026-05-01", "to": "2026-03-01"},
        headers=headers,
    )
    assert reversed_period.status_code == 422
    not_an_authority = await client.get(f"/api/v1/authorities/{NORTH}/report", headers=headers)
    assert not_an_authority.status_code == 404


async def test_a_26_percent_rise_after_the_campaign_is_reported_with_its_significance(
    app_and_client: tuple[object, httpx.AsyncClient], mint: TokenMinter
) -> None:
    app, client = app_and_client
    before_start, after_start = MONDAY, MONDAY + timedelta(days=77)
    before = [fact(i, NORTH, before_start + timedelta(hours=18 * i)) for i in range(100)]
    after = [fact(1000 + i, NORTH, after_start + timedelta(hours=14 * i)) for i in range(126)]
    await store(app, before + after)

    response = await client.get(
        f"/api/v1/areas/{AUTHORITY}/referral-flow/comparison",
        params={
            "before_from": "2026-03-02",
            "before_to": "2026-05-17",
            "after_from": "2026-05-18",
            "after_to": "2026-08-02",
        },
        headers=mint.headers("ANY", "metrics:read"),
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["before"]["received"], result["after"]["received"]) == (100, 126)
    received = result["received_per_day"]
    assert received["relative"] == pytest.approx(0.26)
    assert received["p_value"] == pytest.approx(0.0838, abs=1e-4)
    assert received["significant"] is False
    assert result["see_and_solve_share"]["z"] is None  # nobody was triaged: no claim made


def received_event(
    referral_id: str, locality: str, channel: str, categories: list[str]
) -> EventEnvelope:
    payload = ReferralReceivedV1(
        referral_id=referral_id,
        reference=f"{locality}-2026-000001",
        locality_code=locality,
        channel=channel,
        category_codes=categories,
        received_at="2026-04-06T10:00:00Z",
        organisation="TEST",
    )
    return new_event(SOURCE, REFERRAL_RECEIVED_V1, referral_id, payload)


async def test_received_events_are_broken_down_by_channel_and_category(
    metrics_settings: Settings, tmp_path: Path, mint: TokenMinter, kafka: str
) -> None:
    # Codes of this test's own: the referral topic is shared by every test on the broker.
    locality = "C" + uuid.uuid4().hex[:8]
    config = tmp_path / "localities-own.json"
    config.write_text(
        json.dumps(
            {
                "localities": [
                    {
                        "code": locality,
                        "name": "Category Test",
                        "authority": "X",
                        "authority_gss_code": None,
                    }
                ]
            }
        )
    )
    _, areas = write_test_areas(tmp_path)
    settings = metrics_settings.model_copy(update={"localities_file": config, "areas_file": areas})
    app = create_app(settings)
    first = received_event(f"{locality}-1", locality, "phone", ["asb", "noise"])
    second = received_event(f"{locality}-2", locality, "email", ["asb"])
    async with running_app(app) as client:
        await publish(kafka, first, second, first)  # the first one is delivered twice
        headers = mint.headers("ANY", "metrics:read")
        params = {"from": "2026-04-06", "to": "2026-04-06"}

        async def flow() -> dict | None:
            response = await client.get(
                f"/api/v1/areas/{locality}/referral-flow", params=params, headers=headers
            )
            body = response.json()
            return body if body["received"] == 2 else None

        found = await wait_until(flow, timeout_s=60)
    assert found["received_by_channel"] == {"email": 1, "phone": 1}
    assert found["received_by_category"] == {"asb": 2, "noise": 1}


async def test_a_derived_series_keeps_the_whole_periods_of_the_date_range(
    app_and_client: tuple[object, httpx.AsyncClient], mint: TokenMinter
) -> None:
    app, client = app_and_client
    await store(app, first_weeks_facts())  # days 0..9 from Monday 2 March, and day 120
    params = {"locality": NORTH, "granularity": "week", "from": "2026-03-09", "to": "2026-03-22"}
    response = await client.get(
        "/api/v1/derived/referrals_received",
        params=params,
        headers=mint.headers("ANY", "metrics:read"),
    )
    assert response.status_code == 200, response.text
    (series,) = response.json()["items"]
    assert [(p["period_start"], p["value"]) for p in series["series"]] == [("2026-03-09", 3.0)]

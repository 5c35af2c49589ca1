"""As at a past time: derived series, target versions and indicator definitions as known then.

Facts, observations and targets are written straight into the service's database with the
times the test needs (the consumers that normally write them are tested elsewhere), for a
locality of the test's own, so events other tests publish never reach these figures.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from services.metrics.config import Settings
from services.metrics.main import create_app
from services.metrics.models import (
    Indicator,
    IndicatorDefinition,
    Observation,
    ReferralFact,
    Target,
)
from tests.harness import TokenMinter, running_app

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def app_and_client(
    metrics_settings: Settings, unique_locality: str
) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    app = create_app(metrics_settings)
    async with running_app(app) as client:
        yield app, client


async def store(app: object, rows: list[object]) -> None:
    sessions = app.state.runtime.sessions  # type: ignore[attr-defined]
    async with sessions() as session, session.begin():
        session.add_all(rows)


def referral_facts(locality: str) -> list[ReferralFact]:
    """r1 solved the same day; r2 multi-agency, overdue on 5 March, resolved on 13 March;
    r3 received on 20 March."""
    return [
        ReferralFact(
            referral_id=f"{locality}-1",
            locality_code=locality,
            channel="phone",
            received_at=MONDAY,
            track="see_and_solve",
            triaged_at=MONDAY + timedelta(hours=1),
            resolved_at=MONDAY + timedelta(hours=2),
            resolution_days=2 / 24,
            within_due=True,
        ),
        ReferralFact(
            referral_id=f"{locality}-2",
            locality_code=locality,
            channel="phone",
            received_at=MONDAY + timedelta(days=1),
            track="multi_agency",
            triaged_at=MONDAY + timedelta(days=1, hours=1),
            resolved_at=MONDAY + timedelta(days=11),
            resolution_days=10.0,
            within_due=False,
            overdue_at=MONDAY + timedelta(days=3),
        ),
        ReferralFact(
            referral_id=f"{locality}-3",
            locality_code=locality,
            channel="email",
            received_at=MONDAY + timedelta(days=18),
        ),
    ]


async def test_derived_series_as_of_count_only_what_had_happened_by_then(
    app_and_client: tuple[object, httpx.AsyncClient], mint: TokenMinter, unique_locality: str
) -> None:
    app, client = app_and_client
    locality = unique_locality
    await store(app, list(referral_facts(locality)))
    headers = mint.headers("ANY", "metrics:read")

    async def march(code: str, as_of: str | None) -> dict | None:
        params = {"locality": locality} | ({"as_of": as_of} if as_of else {})
        response = await client.get(f"/api/v1/derived/{code}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items[0]["series"][0] if items else None

    # On 4 March: two referrals received, both triaged, one resolved, none overdue yet.
    early = "2026-03-04T00:00:00Z"
    assert (await march("referrals_received", early))["value"] == 2
    assert (await march("see_and_solve_share", early))["value"] == 50.0
    assert (await march("median_days_to_resolution", early))["value"] == pytest.approx(2 / 24)
    assert await march("overdue_referrals", early) is None
    # Before anything happened there is nothing; now, everything counts.
    assert await march("referrals_received", "2026-03-01T00:00:00Z") is None
    assert (await march("referrals_received", None))["value"] == 3
    assert (await march("median_days_to_resolution", None))["value"] == pytest.approx(
        (2 / 24 + 10) / 2
    )
    assert (await march("overdue_referrals", None))["value"] == 1

    totals = await client.get(
        "/api/v1/derived/referrals-received",
        params={"locality": locality, "as_of": early},
        headers=headers,
    )
    assert totals.json()["items"] == [{**totals.json()["items"][0], "referrals_received": 2}]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/derived/referrals_received?locality=ZZ",
        "/api/v1/derived/referrals_received?locality=NP&locality=ZZ",
        "/api/v1/derived/referrals-received?locality=ZZ",
        "/api/v1/derived/referrals_received?locality=MBRO",  # an authority, not a locality
        "/api/v1/indicators/referrals_received/targets?area=ZZ",
    ],
)
async def test_an_unknown_locality_is_a_404_problem_not_an_empty_list(
    app_and_client: tuple[object, httpx.AsyncClient], mint: TokenMinter, path: str
) -> None:
    _, client = app_and_client
    response = await client.get(path, headers=mint.headers("ANY", "metrics:read"))
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def indicator_rows(code: str, locality: str) -> list[object]:
    """A survey indicator defined on 1 January (higher is better), two waves recorded on
    2 January (40% -> 60%, 100 people each), and a plan target set in two versions:
    50% on 1 February, 90% on 1 April."""
    definition = {
        "name": "Feeling safe",
        "description": "",
        "unit": "percent",
        "desired_direction": "up",
        "frequency": "survey_wave",
        "source": "survey",
        "numerator_label": None,
        "denominator_label": None,
        "target_value": None,
        "amber_tolerance": None,
        "no_change_tolerance": 0.05,
    }
    waves = [
        (date(2025, 9, 1), date(2025, 9, 30), 40.0),
        (date(2025, 12, 1), date(2025, 12, 31), 60.0),
    ]
    target = {
        "target_id": f"target-{code}",
        "plan_id": f"plan-{code}",
        "indicator_code": code,
        "area_code": locality,
        "baseline_value": 40.0,
        "baseline_period": "Wave Sep 2025",
        "baseline_on": date(2025, 9, 1),
        "target_date": date(2026, 12, 31),
        "amber_tolerance": 5.0,
    }
    return [
        Indicator(code=code, created_at=CREATED, updated_at=CREATED, **definition),
        IndicatorDefinition(code=code, valid_from=CREATED, **definition),
        *(
            Observation(
                indicator_code=code,
                area_code=locality,
                period_start=start,
                period_end=end,
                period_label=f"Wave {start:%b %Y}",
                value=value,
                sample_size=100,
                revision=1,
                recorded_at=CREATED + timedelta(days=1),
                recorded_by="TEST",
            )
            for start, end, value in waves
        ),
        Target(**target, version=1, target_value=50.0, set_at=datetime(2026, 2, 1, tzinfo=UTC)),
        Target(**target, version=2, target_value=90.0, set_at=datetime(2026, 4, 1, tzinfo=UTC)),
    ]


async def test_targets_and_definitions_answer_as_they_stood_at_the_as_at_time(
    app_and_client: tuple[object, httpx.AsyncClient], mint: TokenMinter, unique_locality: str
) -> None:
    app, client = app_and_client
    locality, code = unique_locality, "asof_" + uuid.uuid4().hex[:8]
    await store(app, indicator_rows(code, locality))
    reader = mint.headers("ANY", "metrics:read")
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    january, march = "2026-01-15T00:00:00Z", "2026-03-01T00:00:00Z"

    async def get(path: str, as_of: str | None = None, **params: str) -> httpx.Response:
        params = params | ({"as_of": as_of} if as_of else {})
        return await client.get(f"/api/v1{path}", params=params, headers=reader)

    async def targets(as_of: str | None) -> list[tuple[int, float]]:
        response = await get(f"/indicators/{code}/targets", as_of, area=locality)
        assert response.status_code == 200, response.text
        return [(t["version"], t["target_value"]) for t in response.json()["items"]]

    assert await targets(january) == []  # not set yet
    assert await targets(march) == [(1, 50.0)]
    assert await targets(None) == [(2, 90.0)]

    # Higher is better becomes lower is better today: the past statuses stay as they were.
    patched = await client.patch(
        f"/api/v1/indicators/{code}", json={"desired_direction": "down"}, headers=writer
    )
    assert patched.status_code == 200, patched.text

    then = (await get(f"/indicators/{code}/analysis", march, area=locality)).json()
    assert (then["desired_direction"], then["status"]["status"]) == ("up", "improving")
    assert (then["target"]["version"], then["target"]["target_value"]) == (1, 50.0)
    assert then["target"]["set_on"] == "2026-02-01"
    now = (await get(f"/indicators/{code}/analysis", area=locality)).json()
    assert (now["desired_direction"], now["status"]["status"]) == ("down", "worsening")
    assert (now["target"]["version"], now["target"]["target_value"]) == (2, 90.0)
    before = (await get(f"/indicators/{code}/analysis", january, area=locality)).json()
    assert before["target"] is None

    assert (await get(f"/indicators/{code}", march)).json()["desired_direction"] == "up"
    assert (await get(f"/indicators/{code}")).json()["desired_direction"] == "down"
    assert (await get(f"/indicators/{code}", "2025-06-01T00:00:00Z")).status_code == 404

    card = (await get(f"/localities/{locality}/scorecard", march)).json()
    [row] = [r for r in card["rows"] if r["indicator_code"] == code]
    assert (row["desired_direction"], row["status"], row["target_value"]) == (
        "up",
        "improving",
        50.0,
    )

    report = await client.get(
        f"/api/v1/localities/{locality}/report",
        params={"as_of": march},
        headers=reader | {"Accept": "text/html"},
    )
    assert report.status_code == 200, report.text
    assert "v1, set 1 February 2026" in report.text
    assert "v2, set" not in report.text

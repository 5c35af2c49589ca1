"""A lost read model rebuilt from the state the referrals service re-announces."""

from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, func, select

from services.metrics.config import Settings
from services.metrics.main import create_app
from services.metrics.models import ReferralFact, ReferralFactCategory
from shared.contracts import referrals
from shared.events import EventEnvelope, new_event
from tests.harness import TokenMinter, publish, running_app, wait_until
from tests.metrics.integration.test_derived_from_events import DAY, referral_events

pytestmark = pytest.mark.integration

SERIES = (
    "referrals_received",
    "see_and_solve_share",
    "see_and_solve_within_day",
    "median_days_to_resolution",
)


def announced_state(
    locality: str, number: int, track: str, resolved_after: timedelta | None, within_due: bool
) -> EventEnvelope:
    """What `announce_referral_states` sends for a referral in that state."""
    referral_id = f"{locality}-{number}"
    received_at = DAY + timedelta(hours=number)
    state = referrals.ReferralStateAnnouncedV1(
        referral_id=referral_id,
        reference=f"NP-2026-{number:06d}",
        locality_code=locality,
        organisation="MBC",
        status="resolved" if resolved_after else "triaged",
        channel="phone",
        category_codes=["environmental"],
        received_at=received_at,
        track=track,
        triaged_at=received_at,
        resolved_at=received_at + resolved_after if resolved_after else None,
        within_due=within_due if resolved_after else None,
        announced_at=DAY + timedelta(days=30),
    )
    return new_event(referrals.SOURCE, referrals.REFERRAL_STATE_ANNOUNCED_V1, referral_id, state)


async def test_derived_figures_come_back_from_announced_state_after_the_facts_are_lost(
    metrics_settings: Settings, mint: TokenMinter, kafka: str, unique_locality: str
) -> None:
    locality = unique_locality  # topics are shared by every test
    lives = [
        (1, "see_and_solve", timedelta(hours=2), True),
        (2, "see_and_solve", timedelta(days=2), False),
        (3, "multi_agency", timedelta(days=10), False),
    ]
    headers = mint.headers("ANY", "metrics:read")
    app = create_app(metrics_settings)
    async with running_app(app) as metrics:
        for consumer in app.state.runtime.consumers:
            await consumer.started.wait()

        async def series() -> dict[str, list[dict]]:
            return {code: await _series(metrics, headers, code, locality) for code in SERIES}

        async def facts() -> tuple[int, int]:
            """(referral facts, resolved ones) of this test's locality."""
            resolved = func.count(ReferralFact.resolved_at)
            query = select(func.count(), resolved).where(ReferralFact.locality_code == locality)
            async with app.state.runtime.sessions() as session:
                total, done = (await session.execute(query)).one()
            return int(total), int(done)

        async def facts_are(expected: tuple[int, int]) -> bool:
            return await facts() == expected

        await publish(
            kafka, *(event for life in lives for event in referral_events(locality, *life))
        )
        await wait_until(lambda: facts_are((3, 3)))
        from_events = await series()
        assert from_events["referrals_received"][0]["value"] == 3

        # The read model is lost: say, restored from a backup older than all these events.
        ids = [f"{locality}-{number}" for number, *_ in lives]
        async with app.state.runtime.sessions() as session, session.begin():
            await session.execute(
                delete(ReferralFactCategory).where(ReferralFactCategory.referral_id.in_(ids))
            )
            await session.execute(
                delete(ReferralFact).where(ReferralFact.locality_code == locality)
            )
        assert (await series())["referrals_received"] == []

        # The referrals service announces each referral's state; twice, as a rerun would.
        states = [announced_state(locality, *life) for life in lives]
        await publish(kafka, *states, *states)
        await wait_until(lambda: facts_are((3, 3)))
        assert await series() == from_events
        async with app.state.runtime.sessions() as session:
            categories = await session.scalars(
                select(ReferralFactCategory.category_code).where(
                    ReferralFactCategory.referral_id.in_(ids)
                )
            )
            assert sorted(categories) == ["environmental"] * 3

        # A later state wins: referral 3 was reopened, so it no longer counts as resolved.
        await publish(kafka, announced_state(locality, 3, "multi_agency", None, False))
        await wait_until(lambda: facts_are((3, 2)))
        [median] = (await series())["median_days_to_resolution"]
        assert median["value"] == pytest.approx((2 / 24 + 2) / 2)


async def _series(metrics: AsyncClient, headers: dict, code: str, locality: str) -> list[dict]:
    response = await metrics.get(
        f"/api/v1/derived/{code}?locality={locality}&granularity=month", headers=headers
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return items[0]["series"] if items else []

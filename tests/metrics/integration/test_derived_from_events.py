"""referrals/actionplans -> Kafka -> metrics: derived indicators from events, counted once each."""

from datetime import UTC, date, datetime, timedelta

import pytest
from httpx import AsyncClient

from shared.contracts import actionplans as plans
from shared.contracts import referrals
from shared.events import EventEnvelope, new_event
from tests.event_waits import wait_for_events
from tests.harness import TokenMinter, publish, wait_until

pytestmark = pytest.mark.integration

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
DERIVED_CODES = (
    "referrals_received",
    "see_and_solve_share",
    "see_and_solve_within_day",
    "median_days_to_resolution",
    "overdue_referrals",
    "overdue_actions",
)


def referral_events(
    locality: str, number: int, track: str, resolved_after: timedelta | None, within_due: bool
) -> list[EventEnvelope]:
    """The events of one referral's life, built with the referrals contract."""
    referral_id = f"{locality}-{number}"
    common = {
        "referral_id": referral_id,
        "reference": f"NP-2026-{number:06d}",
        "locality_code": locality,
        "organisation": "MBC",
    }
    received_at = DAY + timedelta(hours=number)
    events = [
        referrals.ReferralReceivedV1(
            **common, channel="phone", category_codes=["environmental"], received_at=received_at
        ),
        referrals.ReferralTriagedV1(
            **common, track=track, received_at=received_at, triaged_at=received_at
        ),
    ]
    if resolved_after is not None:
        events.append(
            referrals.ReferralResolvedV1(
                **common,
                track=track,
                outcome_code="resolved",
                received_at=received_at,
                resolved_at=received_at + resolved_after,
                within_due=within_due,
            )
        )
    types = {
        referrals.ReferralReceivedV1: referrals.REFERRAL_RECEIVED_V1,
        referrals.ReferralTriagedV1: referrals.REFERRAL_TRIAGED_V1,
        referrals.ReferralResolvedV1: referrals.REFERRAL_RESOLVED_V1,
    }
    return [new_event(referrals.SOURCE, types[type(e)], referral_id, e) for e in events]


async def test_derived_indicators_come_from_referral_and_action_events_counted_once(
    metrics: AsyncClient, mint: TokenMinter, kafka: str, unique_locality: str
) -> None:
    locality = unique_locality  # topics are shared by every test
    lives = [
        referral_events(locality, 1, "see_and_solve", timedelta(hours=2), True),
        referral_events(locality, 2, "see_and_solve", timedelta(hours=3), True),
        referral_events(locality, 3, "see_and_solve", timedelta(days=2), False),
        referral_events(locality, 4, "multi_agency", timedelta(days=10), False),
        referral_events(locality, 5, "see_and_solve", None, False),
    ]
    envelopes = [event for life in lives for event in life]
    overdue = new_event(
        referrals.SOURCE,
        referrals.REFERRAL_OVERDUE_V1,
        f"{locality}-5",
        referrals.ReferralOverdueV1(
            referral_id=f"{locality}-5",
            reference="NP-2026-000005",
            locality_code=locality,
            organisation="MBC",
            clock="see_and_solve",
            due_at=DAY + timedelta(hours=12),
            detected_at=DAY + timedelta(hours=13),
        ),
    )
    action = {
        "plan_id": "p-1",
        "locality_code": locality,
        "organisation": "MBC",
        "action_id": f"a-{locality}",
        "owner_organisation": "CLEVELAND_POLICE",
    }
    action_overdue = new_event(
        plans.SOURCE,
        plans.ACTION_OVERDUE_V1,
        f"a-{locality}",
        plans.ActionOverdueV1(
            **action, due_date=date(2026, 3, 1), detected_at=DAY + timedelta(days=1)
        ),
    )
    # Every event twice: redelivery must not count anything twice.
    await publish(kafka, *envelopes, overdue, action_overdue, *envelopes, overdue, action_overdue)
    headers = mint.headers("ANY", "metrics:read")

    async def series(code: str) -> list[dict]:
        response = await metrics.get(
            f"/api/v1/derived/{code}?locality={locality}&granularity=month", headers=headers
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items[0]["series"] if items else []

    expected_median = (3 / 24 + 2) / 2  # resolved after 2h, 3h, 2 days, 10 days

    async def all_arrived() -> bool:
        """Every event applied (partitions are consumed independently)."""
        latest = {code: await series(code) for code in DERIVED_CODES}
        return all(latest.values()) and (
            latest["referrals_received"][0]["value"] >= 5
            and latest["see_and_solve_share"][0]["denominator"] >= 5
            and latest["see_and_solve_within_day"][0]["denominator"] >= 3
            and abs(latest["median_days_to_resolution"][0]["value"] - expected_median) < 1e-9
        )

    await wait_until(all_arrived)
    [received] = await series("referrals_received")
    assert (received["period_label"], received["value"]) == ("2026-03", 5)
    [share] = await series("see_and_solve_share")
    assert (share["value"], share["numerator"], share["denominator"]) == (80.0, 4, 5)
    assert (await series("multi_agency_share"))[0]["value"] == 20.0
    [within] = await series("see_and_solve_within_day")
    assert (within["numerator"], within["denominator"]) == (2, 3)
    # The median of four resolution times is the mean of the middle two.
    [median] = await series("median_days_to_resolution")
    assert median["value"] == pytest.approx(expected_median)
    assert (await series("overdue_referrals"))[0]["value"] == 1
    assert (await series("overdue_actions"))[0]["value"] == 1

    weekly = await metrics.get(
        f"/api/v1/derived/referrals-received?locality={locality}&granularity=week",
        headers=headers,
    )
    assert weekly.json()["items"] == [
        {
            "locality_code": locality,
            "referrals_received": 5,
            "period_start": "2026-03-02",
            "period_label": "week of 2026-03-02",
        }
    ]


async def test_a_target_on_a_derived_indicator_is_rechecked_as_referral_events_arrive(
    metrics: AsyncClient, mint: TokenMinter, kafka: str, unique_locality: str
) -> None:
    locality = unique_locality  # topics are shared by every test
    first = [
        referral_events(locality, 1, "see_and_solve", None, False),
        referral_events(locality, 2, "see_and_solve", None, False),
        referral_events(locality, 3, "see_and_solve", None, False),
        referral_events(locality, 4, "see_and_solve", None, False),
        referral_events(locality, 5, "multi_agency", None, False),
    ]
    await publish(kafka, *(event for life in first for event in life))
    target = plans.TargetSetV1(
        plan_id=f"plan-{locality}",
        locality_code=locality,
        organisation="DMBC",
        target_id=f"target-{locality}",
        version=1,
        indicator_code="see_and_solve_share",
        area_code=locality,
        baseline_value=69.0,
        baseline_period="2026-03",
        target_value=85.0,
        # Due at the end of the month the facts fall in, so that month is rated against 85%.
        target_date=date(2026, 3, 31),
        amber_tolerance=3.0,
        set_at=DAY,
    )
    headers = mint.headers("ANY", "metrics:read")

    async def share_denominator(count: int):  # type: ignore[no-untyped-def]
        async def check() -> bool:
            response = await metrics.get(
                f"/api/v1/derived/see_and_solve_share?locality={locality}", headers=headers
            )
            items = response.json()["items"]
            return bool(items) and items[0]["series"][-1]["denominator"] == count

        await wait_until(check)

    await share_denominator(5)  # 4 of 5: 80%, red against 85% with a 3-point tolerance
    await publish(kafka, new_event(plans.SOURCE, plans.TARGET_SET_V1, target.target_id, target))

    async def target_applied() -> bool:
        response = await metrics.get(
            f"/api/v1/indicators/see_and_solve_share/targets?area={locality}", headers=headers
        )
        return bool(response.json()["items"])

    await wait_until(target_applied)  # targets and referrals are different topics
    later = [
        referral_events(locality, 6, "see_and_solve", None, False),
        referral_events(locality, 7, "see_and_solve", None, False),
    ]
    await publish(kafka, *(event for life in later for event in life))
    await share_denominator(7)  # 6 of 7: 85.7%, green

    flips = await wait_for_events(
        kafka, "metrics.indicator", match=lambda e: e.data["area_code"] == locality, count=3
    )
    # 5 of 6 (83.3%) is amber on the way to 6 of 7.
    assert [(e.data["previous_rag"], e.data["rag"], e.data["target_id"]) for e in flips] == [
        (None, "red", target.target_id),
        ("red", "amber", target.target_id),
        ("amber", "green", target.target_id),
    ]

"""A redelivered event changes nothing in metrics, even where re-applying it would.

Most metrics handlers set fields, so applying an event twice in a row is harmless on its own.
A late copy of an older event is not: re-applying "resolved" after "reopened" would count a
reopened referral as resolved again. Only the inbox (the event id already processed) stops it.
"""

from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from shared.contracts import referrals
from shared.events import new_event
from tests.harness import TokenMinter, publish, wait_until

pytestmark = pytest.mark.integration

RECEIVED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


async def test_a_late_copy_of_resolved_after_reopened_does_not_resolve_the_referral_again(
    metrics: AsyncClient, mint: TokenMinter, kafka: str, unique_locality: str
) -> None:
    locality = unique_locality  # topics are shared by every test
    referral_id = f"{locality}-1"
    common = {
        "referral_id": referral_id,
        "reference": "NP-2026-000001",
        "locality_code": locality,
        "organisation": "MBC",
    }

    def event(event_type: str, payload: referrals.ReferralEvent):  # type: ignore[no-untyped-def]
        return new_event(referrals.SOURCE, event_type, referral_id, payload)

    resolved = event(
        referrals.REFERRAL_RESOLVED_V1,
        referrals.ReferralResolvedV1(
            **common,
            track="see_and_solve",
            outcome_code="resolved",
            received_at=RECEIVED_AT,
            resolved_at=RECEIVED_AT + timedelta(hours=2),
            within_due=True,
        ),
    )
    # One subject, so one partition, consumed in order: the fence is applied last.
    fence = event(
        referrals.REFERRAL_OVERDUE_V1,
        referrals.ReferralOverdueV1(
            **common,
            clock="first_partner_contact",
            due_at=RECEIVED_AT + timedelta(days=2),
            detected_at=RECEIVED_AT + timedelta(days=2, hours=1),
        ),
    )
    await publish(
        kafka,
        event(
            referrals.REFERRAL_RECEIVED_V1,
            referrals.ReferralReceivedV1(
                **common, channel="phone", category_codes=["environmental"], received_at=RECEIVED_AT
            ),
        ),
        event(
            referrals.REFERRAL_TRIAGED_V1,
            referrals.ReferralTriagedV1(
                **common, track="see_and_solve", received_at=RECEIVED_AT, triaged_at=RECEIVED_AT
            ),
        ),
        resolved,
        event(
            referrals.REFERRAL_REOPENED_V1,
            referrals.ReferralReopenedV1(**common, reopened_at=RECEIVED_AT + timedelta(hours=3)),
        ),
        resolved,  # redelivered late, same event id
        fence,
    )
    headers = mint.headers("ANY", "metrics:read")

    async def series(code: str) -> list[dict]:
        response = await metrics.get(
            f"/api/v1/derived/{code}?locality={locality}&granularity=month", headers=headers
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items[0]["series"] if items else []

    async def fence_applied() -> bool:
        overdue = await series("overdue_referrals")
        return bool(overdue) and overdue[-1]["value"] == 1

    await wait_until(fence_applied)
    resolutions = await series("see_and_solve_within_day")
    assert [point["denominator"] for point in resolutions if point["denominator"]] == []

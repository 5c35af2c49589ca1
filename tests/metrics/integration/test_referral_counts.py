"""referrals -> Kafka -> metrics: received referrals are counted per locality, once each."""

import pytest
from httpx import AsyncClient

from shared.contracts.referrals import REFERRAL_RECEIVED_V1, SOURCE, ReferralReceivedV1
from shared.events import EventEnvelope, new_event
from tests.harness import TokenMinter, publish, wait_until

pytestmark = pytest.mark.integration


def received(referral_id: str, locality: str) -> EventEnvelope:
    payload = ReferralReceivedV1(
        referral_id=referral_id,
        reference=f"{locality}-2026-000001",
        locality_code=locality,
        channel="phone",
        category_codes=["environmental"],
        received_at="2026-11-23T10:00:00Z",
        organisation="TEST",
    )
    return new_event(SOURCE, REFERRAL_RECEIVED_V1, referral_id, payload)


async def test_received_referrals_are_counted_per_locality_once_each(
    metrics: AsyncClient, mint: TokenMinter, kafka: str, unique_locality: str
) -> None:
    locality = unique_locality  # topics are shared by every test
    first, second = received(f"r1-{locality}", locality), received(f"r2-{locality}", locality)
    await publish(kafka, first, second, first)  # the first one is delivered twice

    headers = mint.headers("ANY", "metrics:read")

    async def count() -> int | None:
        response = await metrics.get(
            f"/api/v1/derived/referrals-received?locality={locality}", headers=headers
        )
        items = response.json()["items"]
        return (
            items[0]["referrals_received"]
            if items and items[0]["referrals_received"] == 2
            else None
        )

    assert await wait_until(count) == 2

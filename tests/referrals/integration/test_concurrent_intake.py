"""The embedded default (SQLite) takes a burst of concurrent intakes without an error."""

import asyncio

from tests.referrals.workflow import Hub, place, referral_body


async def test_64_concurrent_intakes_on_sqlite_all_succeed(sqlite_hub: Hub) -> None:
    async def intake(number: int) -> str:
        body = referral_body(**place(uprn=str(100000000 + number % 8)))  # repeats to detect
        headers = {**sqlite_hub.as_("NO-HUB"), "Idempotency-Key": f"burst-{number}"}
        response = await sqlite_hub.client.post("/api/v1/referrals", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()["reference"]

    references = await asyncio.gather(*(intake(number) for number in range(64)))
    assert len(set(references)) == 64

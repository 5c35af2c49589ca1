"""An idle service does not spin: only commits that staged events wake its relay."""

import httpx
import pytest

from tests.harness import TokenMinter, wait_until

pytestmark = pytest.mark.integration


async def test_only_requests_that_staged_events_wake_the_relay(
    referrals: httpx.AsyncClient, mint: TokenMinter
) -> None:
    runtime = referrals._transport.app.state.runtime  # type: ignore[attr-defined]
    await wait_until(runtime.kafka_started.is_set)
    relay = runtime.relay
    wake_ups: list[str] = []
    notify = relay.notify

    def counting_notify() -> None:
        wake_ups.append("woken")
        notify()

    # The commit listener looks `notify` up at commit time, so this sees every wake-up.
    relay.notify = counting_notify
    headers = mint.headers("NO-HUB", "referrals:read referrals:write")
    listed = await referrals.get("/api/v1/referrals?locality_code=NO", headers=headers)
    assert listed.status_code == 200
    assert wake_ups == []  # listeners run inside the commit, before the response

    created = await referrals.post(
        "/api/v1/referrals",
        json={
            "locality_code": "NO",
            "channel": "phone",
            "category_codes": ["anti_social_behaviour"],
            "summary": "Noise at night",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert wake_ups == ["woken"]

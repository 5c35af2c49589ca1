"""End to end: a request's id and W3C trace reach the service and the event it publishes."""

from pathlib import Path

import pytest

from services.gateway.config import Settings
from services.gateway.main import create_app as create_gateway
from services.referrals.config import Settings as ReferralsSettings
from services.referrals.main import create_app as create_referrals
from tests import harness
from tests.event_waits import event_matching, wait_for_events
from tests.gateway.serving import serving
from tests.harness import TokenMinter, running_app

pytestmark = pytest.mark.integration

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


async def test_the_event_on_kafka_carries_the_trace_of_the_request_that_caused_it(
    gateway_settings: Settings, mint: TokenMinter, kafka: str, public_key: Path, tmp_path: Path
) -> None:
    referrals_dir = tmp_path / "referrals"
    referrals_settings = ReferralsSettings(
        **harness.test_settings_values(
            referrals_dir, f"sqlite+aiosqlite:///{referrals_dir}/r.sqlite3", kafka, public_key
        )
    )
    async with serving(create_referrals(referrals_settings)) as referrals_url:
        settings = gateway_settings.model_copy(update={"referrals_url": referrals_url})
        async with running_app(create_gateway(settings)) as gateway:
            response = await gateway.post(
                "/api/v1/referrals",
                json={
                    "locality_code": "NO",
                    "channel": "phone",
                    "category_codes": ["anti_social_behaviour"],
                    "summary": "Graffiti on the underpass",
                },
                headers={
                    **mint.headers("NO-HUB", "referrals:write"),
                    "traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01",
                    "X-Request-ID": "partner-req-42",
                },
            )
            assert response.status_code == 201, response.text
            referral_id = response.json()["id"]

            mine = await wait_for_events(
                kafka, "referrals.referral", match=event_matching(subject=referral_id)
            )
    assert len(mine) == 1
    assert mine[0].traceparent is not None
    assert mine[0].traceparent.split("-")[1] == TRACE_ID
    assert mine[0].requestid == "partner-req-42"

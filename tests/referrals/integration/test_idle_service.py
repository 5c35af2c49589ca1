"""A running service with no traffic does not spin: its relay sleeps between polls."""

import asyncio

import httpx
import pytest

from tests.harness import wait_until

pytestmark = pytest.mark.integration


async def test_an_idle_service_relay_polls_at_its_interval(
    referrals: httpx.AsyncClient, referrals_settings
) -> None:
    runtime = referrals._transport.app.state.runtime  # type: ignore[attr-defined]
    await wait_until(runtime.kafka_started.is_set)
    before = runtime.relay.passes
    await asyncio.sleep(1.0)
    passes = runtime.relay.passes - before
    allowed = 1.0 / referrals_settings.outbox_poll_interval_s + 3
    assert passes <= allowed, f"{passes} relay passes in an idle second (allowed {allowed:.0f})"

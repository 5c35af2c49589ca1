"""/readyz shows the consumer and the relay as data, so a stalled consumer is never silent."""

import httpx
import pytest

from tests.harness import wait_until

pytestmark = pytest.mark.integration


async def test_readiness_lists_the_consumer_group_and_the_relay(metrics: httpx.AsyncClient) -> None:
    async def ready() -> dict | None:
        response = await metrics.get("/readyz")
        return response.json() if response.status_code == 200 else None

    body = await wait_until(ready)
    (consumer,) = body["consumers"]
    assert consumer["group"].startswith("metrics-")
    assert consumer["state"] == "running"
    assert consumer["retry"] == {"retrying": False, "total_retries": 0}
    assert consumer["dead_letters"]["dropped"] == 0
    assert body["relay"]["leading"] is True
    assert body["relay"]["parked"] == 0

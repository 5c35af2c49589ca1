"""A failing upstream is a fast, clear problem: 502 when down, 504 when slow, then the breaker."""

import httpx
import pytest

from services.gateway.config import Settings
from services.gateway.main import create_app
from tests.gateway.stub_upstream import StubUpstream
from tests.harness import TokenMinter, running_app

pytestmark = pytest.mark.integration

READ = "referrals:read metrics:read"


async def test_a_down_upstream_is_a_fast_502_problem(
    gateway_settings: Settings, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    await upstreams["referrals"].stop()
    async with running_app(create_app(gateway_settings)) as gateway:
        response = await gateway.get("/api/v1/referrals", headers=mint.headers("NO", READ))
        others = await gateway.get("/api/v1/indicators", headers=mint.headers("NO", READ))
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert "referrals service is unreachable" in response.json()["detail"]
    assert others.status_code == 200


async def test_a_slow_upstream_is_a_504_problem_after_the_read_timeout(
    gateway: httpx.AsyncClient, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    # The stub never answers /slow on its own, so only the gateway's read timeout ends the call.
    response = await gateway.get("/api/v1/referrals/slow", headers=mint.headers("NO", READ))
    assert response.status_code == 504
    assert response.json()["type"].endswith("/upstream-timeout")
    assert [r["path"] for r in upstreams["referrals"].received] == ["/api/v1/referrals/slow"]


async def test_repeated_failures_open_the_breaker_and_stop_calls_to_the_upstream(
    gateway: httpx.AsyncClient, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    headers = mint.headers("NO", READ)
    timeouts = [
        (await gateway.get("/api/v1/referrals/slow", headers=headers)).status_code for _ in range(3)
    ]
    calls_before = len(upstreams["referrals"].received)
    paused = await gateway.get("/api/v1/referrals", headers=headers)
    assert timeouts == [504, 504, 504]
    assert paused.status_code == 503  # answered without a call upstream (checked below)
    assert int(paused.headers["retry-after"]) > 0
    assert paused.json()["type"].endswith("/upstream-circuit-open")
    assert len(upstreams["referrals"].received) == calls_before
    ready = (await gateway.get("/readyz")).json()
    assert ready["breakers"]["referrals"] == "open"
    other = await gateway.get("/api/v1/indicators", headers=headers)
    assert other.status_code == 200


async def test_a_service_that_is_down_leaves_the_gateway_ready_but_degraded(
    gateway: httpx.AsyncClient, upstreams: dict[str, StubUpstream]
) -> None:
    ready = await gateway.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "referrals": "ok",
        "actionplans": "ok",
        "metrics": "ok",
        "database": "ok",
        "migrations": "ok",
    }
    assert ready.json()["status"] == "ready"
    upstreams["metrics"].ready = False
    degraded = await gateway.get("/readyz")
    # The gateway still serves its own routes and the other services' traffic: not a 503.
    assert degraded.status_code == 200
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["degraded"] == ["metrics"]
    assert degraded.json()["checks"]["metrics"] == "failing"
    scrape = (await gateway.get("/metrics")).text
    assert 'dependency_up{dependency="metrics",service="gateway"} 0.0' in scrape

"""What an operator sees of the gateway: access lines naming the caller, /metrics with upstream
latency, breaker state and rate-limit refusals per client."""

import io
import logging
from collections.abc import Iterator

import httpx
import orjson
import pytest

from services.gateway.config import Settings
from services.gateway.main import create_app
from shared.logs import JsonFormatter
from tests.gateway.stub_upstream import StubUpstream
from tests.harness import TokenMinter, running_app

pytestmark = pytest.mark.integration


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


async def test_the_access_line_names_the_request_the_caller_and_the_upstream(
    gateway: httpx.AsyncClient, mint: TokenMinter, log_lines: io.StringIO
) -> None:
    headers = {
        **mint.headers("NO-HUB", "referrals:read", client_id="lh_partner"),
        "X-Request-ID": "gw-ops-1",
    }
    assert (await gateway.get("/api/v1/referrals", headers=headers)).status_code == 200
    lines = [orjson.loads(line) for line in log_lines.getvalue().splitlines()]
    access = [line for line in lines if line.get("request_id") == "gw-ops-1"]
    assert len(access) == 1
    assert access[0]["service"] == "gateway"
    assert access[0]["organisation"] == "NO-HUB"
    assert access[0]["client_id"] == "lh_partner"
    assert access[0]["http_route"] == "/api/* -> referrals"


async def test_metrics_show_upstream_latency_breakers_and_refusals_per_client(
    gateway_settings: Settings, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    settings = gateway_settings.model_copy(update={"rate_limit_quota": 1})
    headers = mint.headers("NO-HUB", "referrals:read", client_id="lh_metered")
    async with running_app(create_app(settings)) as gateway:
        statuses = [(await gateway.get("/api/v1/referrals", headers=headers)).status_code]
        statuses.append((await gateway.get("/api/v1/referrals", headers=headers)).status_code)
        scrape = await gateway.get("/metrics")
        proxied = await gateway.get("/api/metrics", headers=headers)
    assert statuses == [200, 429]
    assert scrape.status_code == 200
    text = scrape.text
    assert 'gateway_rate_limit_rejections_total{client="lh_metered"} 1.0' in text
    assert 'gateway_upstream_duration_seconds_count{status="200",upstream="referrals"}' in text
    assert 'gateway_breaker_state{upstream="referrals"} 0.0' in text
    assert 'http_requests_total{method="GET",route="/api/* -> referrals"' in text
    # /metrics is the gateway's own: nothing under /api reaches a service's /metrics.
    assert proxied.status_code in (404, 429)

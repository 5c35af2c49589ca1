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
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def access_lines(stream: io.StringIO, request_id: str) -> list[dict]:
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("request_id") == request_id]


async def test_the_access_line_names_the_request_the_caller_and_the_upstream(
    gateway: httpx.AsyncClient, mint: TokenMinter, log_lines: io.StringIO
) -> None:
    headers = {
        **mint.headers("NO-HUB", "referrals:read", client_id="lh_partner"),
        "X-Request-ID": "gw-ops-1",
    }
    assert (await gateway.get("/api/v1/referrals", headers=headers)).status_code == 200
    [line] = access_lines(log_lines, "gw-ops-1")
    assert line["service"] == "gateway"
    assert line["organisation"] == "NO-HUB"
    assert line["client_id"] == "lh_partner"
    assert line["http_route"] == "/api/* -> referrals"
    # The service logs the same request id at INFO; the gateway's copy would only repeat it.
    assert line["level"] == "DEBUG"


async def test_an_answer_the_gateway_gives_itself_is_logged_at_info(
    gateway: httpx.AsyncClient, mint: TokenMinter, log_lines: io.StringIO
) -> None:
    headers = {
        **mint.headers("NO-HUB", "metrics:read", client_id="lh_partner"),
        "X-Request-ID": "gw-ops-2",
    }
    assert (await gateway.get("/api/v1/referrals", headers=headers)).status_code == 403
    [line] = access_lines(log_lines, "gw-ops-2")
    assert line["level"] == "INFO"
    assert line["http_status"] == 403
    assert line["organisation"] == "NO-HUB"


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


async def test_the_event_catalogue_is_served_and_linked_from_the_api_docs(
    gateway: httpx.AsyncClient,
) -> None:
    catalogue = await gateway.get("/asyncapi.json")
    assert catalogue.status_code == 200
    assert catalogue.json()["asyncapi"] == "3.0.0"
    assert "referrals.referral" in catalogue.json()["channels"]
    openapi = (await gateway.get("/openapi.json")).json()
    assert "(/asyncapi.json)" in openapi["info"]["description"]  # shown at the top of /docs

"""Per-client token buckets: headers on every answer, 429 when empty; in memory or in Redis."""

import os
import socket
import uuid
from pathlib import Path

import httpx
import pytest

from services.gateway.config import Settings
from services.gateway.main import create_app
from services.gateway.ratelimit import RatePolicy, RedisRateLimiter
from tests.gateway.integration.test_oauth_token import basic, register
from tests.harness import TokenMinter, running_app, wait_until

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_available() and os.environ.get("REQUIRE_REDIS") != "1", reason="Redis not running"
)


async def test_answers_carry_ratelimit_headers_and_an_empty_bucket_gives_429(
    gateway_settings: Settings, mint: TokenMinter
) -> None:
    settings = gateway_settings.model_copy(
        # Generous upstream timeouts: a slow first answer on a loaded machine is not what this
        # test is about (the test settings' 0.5 s gave a 504 once).
        update={
            "rate_limit_quota": 3,
            "rate_limit_window_s": 60,
            "read_timeout_s": 10,
            "connect_timeout_s": 10,
        }
    )
    headers = mint.headers("NO-HUB", "referrals:read", client_id="lh_busy")
    async with running_app(create_app(settings)) as gateway:
        answers = [await gateway.get("/api/v1/referrals", headers=headers) for _ in range(4)]
        other = await gateway.get(
            "/api/v1/referrals", headers=mint.headers("NO-HUB", "referrals:read", client_id="lh_b")
        )
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"default";q=3;w=60'
    assert answers[0].headers["ratelimit"].startswith('"default";r=2;t=')
    refused = answers[3]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "20"
    assert refused.json()["title"] == "Too many requests"
    assert other.status_code == 200


async def test_a_client_with_its_own_limit_gets_its_own_policy(
    gateway: httpx.AsyncClient, sqlite_url: str
) -> None:
    issued = await register(sqlite_url, rate_limit_quota=2, rate_limit_window_s=10)

    token = (
        await gateway.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(issued.client.client_id, issued.secret),
        )
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}

    async def own_policy() -> bool:
        response = await gateway.get("/api/v1/referrals", headers=bearer)
        return response.headers.get("ratelimit-policy") == '"default";q=2;w=10'

    await wait_until(own_policy, timeout_s=5)


@needs_redis
async def test_two_redis_limiters_share_one_bucket() -> None:
    url = REDIS_URL
    first, second = RedisRateLimiter(url), RedisRateLimiter(url)
    policy = RatePolicy(quota=4, window_s=60)
    key = f"test-{uuid.uuid4().hex}"
    try:
        outcomes = []
        for limiter in (first, second, first, second, first):
            outcomes.append((await limiter.take(key, policy, now=0)).allowed)
        remaining = (await second.take(key + "-other", policy, now=0)).remaining
    finally:
        await first.close()
        await second.close()
    assert outcomes == [True, True, True, True, False]
    assert remaining == 3


@needs_redis
async def test_two_gateways_with_redis_enforce_one_limit_together(
    gateway_settings: Settings, mint: TokenMinter, tmp_path: Path
) -> None:
    settings = gateway_settings.model_copy(
        update={"redis_url": REDIS_URL, "rate_limit_quota": 3, "rate_limit_window_s": 60}
    )
    headers = mint.headers("NO-HUB", "referrals:read", client_id=f"lh_{uuid.uuid4().hex}")
    async with (
        running_app(create_app(settings)) as one,
        running_app(create_app(settings)) as two,
    ):
        statuses = [
            (await gateway.get("/api/v1/referrals", headers=headers)).status_code
            for gateway in (one, two, one, two)
        ]
        ready = (await one.get("/readyz")).json()
    assert statuses == [200, 200, 200, 429]
    assert ready["checks"]["redis"] == "ok"

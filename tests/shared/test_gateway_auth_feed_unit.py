"""The services' view of the gateway's keys and revocations survives a gateway that misbehaves."""

import asyncio
import logging

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.gateway_auth import BoundedRefresh, GatewayAuthFeed
from shared.logs import configure_logging

pytestmark = pytest.mark.unit


def signing_jwk(kid: str) -> dict[str, str]:
    public_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return {**RSAAlgorithm.to_jwk(public_key, as_dict=True), "kid": kid, "use": "sig"}


JWK = signing_jwk("k1")


def feed_answering(answers: dict[str, list[httpx.Response]]) -> GatewayAuthFeed:
    """A feed whose gateway gives, per path, these answers in turn (the last one repeats)."""

    def handle(request: httpx.Request) -> httpx.Response:
        queue = answers[request.url.path]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return GatewayAuthFeed(
        "http://gateway.internal",
        keys_refresh_s=300,
        revocation_poll_s=5,
        min_refresh_s=10,
        transport=httpx.MockTransport(handle),
    )


async def test_a_broken_answer_keeps_what_was_read_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = feed_answering(
        {
            "/.well-known/jwks.json": [
                httpx.Response(200, json={"keys": [JWK]}),
                httpx.Response(200, text="<html>maintenance</html>"),
            ],
            "/auth/revoked-clients": [
                httpx.Response(200, json={"revoked_client_ids": ["lh_gone"]}),
                httpx.Response(200, json={"unexpected": True}),
                httpx.Response(503),
            ],
        }
    )
    try:
        await feed.refresh_keys()
        await feed.refresh_revoked()
        assert feed.get("k1") is not None
        assert feed.is_revoked("lh_gone")
        feed_logger = "shared.gateway_auth"
        with caplog.at_level(logging.INFO, logger=feed_logger):
            for _ in range(3):
                await feed.refresh_keys()
                await feed.refresh_revoked()
        assert feed.get("k1") is not None
        assert feed.is_revoked("lh_gone")
        # One warning per path per outage, not one per poll.
        ours = [record.levelname for record in caplog.records if record.name == feed_logger]
        assert ours == ["WARNING", "WARNING"]
    finally:
        await feed.close()


async def test_callers_during_a_fetch_share_it_and_later_ones_wait_for_the_interval() -> None:
    fetched = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def fetch() -> None:
        nonlocal calls
        calls += 1
        fetched.set()
        await release.wait()

    refresh = BoundedRefresh(fetch, min_interval_s=3600)
    first = asyncio.create_task(refresh())
    await fetched.wait()
    second = asyncio.create_task(refresh())
    release.set()
    assert await first is True
    assert await second is True
    assert await refresh() is False
    assert calls == 1


def test_polls_write_no_info_line_per_request() -> None:
    configure_logging("referrals", "test")
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)

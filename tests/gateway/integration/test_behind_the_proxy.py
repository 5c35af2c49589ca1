"""The gateway served by uvicorn as in production: no banner, security headers, and caller
addresses taken from X-Forwarded-For only when the TLS proxy in front is a trusted one."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from services.gateway.config import Settings
from services.gateway.main import create_app
from shared.serving import uvicorn_options
from tests.harness import wait_until

pytestmark = pytest.mark.integration

PROXY = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on a real port with the options `serve` uses (shared/serving.py)."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), **uvicorn_options(settings, host="127.0.0.1", port=port)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started, timeout_s=10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await task


def from_caller(address: str) -> dict[str, str]:
    return {**PROXY, "X-Forwarded-For": address}


async def token_attempts(client: httpx.AsyncClient, address: str, count: int) -> list[int]:
    statuses = []
    for _ in range(count):
        response = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("lh_nobody", "wrong"),
            headers=from_caller(address),
        )
        statuses.append(response.status_code)
    return statuses


async def test_behind_a_trusted_proxy_each_caller_address_has_its_own_token_limit(
    gateway_settings: Settings,
) -> None:
    settings = gateway_settings.model_copy(
        update={"forwarded_allow_ips": "127.0.0.1", "token_attempts_quota": 2}
    )
    async with served(settings) as client:
        assert await token_attempts(client, "203.0.113.7", 3) == [401, 401, 429]
        # Another caller behind the same proxy is not punished for the first one.
        assert await token_attempts(client, "203.0.113.8", 1) == [401]


async def test_an_untrusted_peer_cannot_pick_its_address_with_x_forwarded_for(
    gateway_settings: Settings,
) -> None:
    settings = gateway_settings.model_copy(
        update={"forwarded_allow_ips": "192.0.2.1", "token_attempts_quota": 2}
    )
    async with served(settings) as client:
        assert await token_attempts(client, "203.0.113.7", 2) == [401, 401]
        # A new claimed address changes nothing: the limit is on the real peer.
        assert await token_attempts(client, "203.0.113.8", 1) == [429]


async def test_answers_carry_security_headers_and_no_server_banner(
    gateway_settings: Settings,
) -> None:
    settings = gateway_settings.model_copy(update={"forwarded_allow_ips": "127.0.0.1"})
    async with served(settings) as client:
        over_tls = await client.get("/livez", headers=from_caller("203.0.113.7"))
        plain = await client.get("/api/v1/referrals")
    for response in (over_tls, plain):
        assert "server" not in response.headers
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    assert plain.status_code == 401
    assert over_tls.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in plain.headers

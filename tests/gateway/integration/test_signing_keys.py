"""Signing keys: rotation without a restart or a failed request, JWKS, and revocation reaching
the services (issue 16: keys; issue 11: revocation enforced in every service)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from services.gateway import clients, signing_keys
from services.gateway.config import Settings
from services.gateway.main import MIGRATIONS_DIR
from services.gateway.main import create_app as create_gateway
from services.referrals.config import Settings as ReferralsSettings
from services.referrals.main import create_app as create_referrals
from shared.auth import mint_token
from shared.clock import set_clock, system_clock
from shared.db import create_engine, create_session_factory
from shared.gateway_auth import GatewayAuthFeed
from shared.migrations import upgrade_to_head
from tests import harness
from tests.gateway.integration.test_oauth_token import basic
from tests.gateway.serving import free_port, serving
from tests.harness import TEST_AUDIENCE, TEST_ISSUER, TokenMinter, running_app, wait_until

pytestmark = pytest.mark.integration

URL = "/api/v1/referrals"
GRANT = {"grant_type": "client_credentials"}


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def rotate(database_url: str) -> signing_keys.Rotation:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await signing_keys.rotate_signing_key(
                session,
                now=system_clock(),
                verify_for=timedelta(hours=1),
                actor="test",
                reason="scheduled",
            )
    finally:
        await engine.dispose()


async def register(database_url: str) -> clients.IssuedCredentials:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await clients.create_client(
                session, name="Police RMS", organisation="NO-HUB", scopes="referrals:read"
            )
    finally:
        await engine.dispose()


async def revoke(database_url: str, client_id: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            await clients.revoke_client(session, client_id=client_id)
    finally:
        await engine.dispose()


async def client_token(http: httpx.AsyncClient, issued: clients.IssuedCredentials) -> str:
    response = await http.post(
        "/oauth/token", data=GRANT, headers=basic(issued.client.client_id, issued.secret)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_jwks_publishes_the_public_half_of_the_active_key(
    gateway: httpx.AsyncClient, mint: TokenMinter
) -> None:
    response = await gateway.get("/.well-known/jwks.json")
    assert response.status_code == 200
    [key] = response.json()["keys"]
    # The configured key was imported on first start: tokens signed before still verify.
    assert key["kid"] == kid_of(mint("NO-HUB", "referrals:read"))
    assert (key["kty"], key["use"], key["alg"]) == ("RSA", "sig", "RS256")
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


async def test_after_rotation_the_new_key_signs_and_the_retired_one_verifies_until_tokens_expire(
    gateway_settings: Settings, sqlite_url: str, mint: TokenMinter
) -> None:
    settings = gateway_settings.model_copy(
        update={"signing_keys_refresh_s": 0.2, "verified_token_cache_s": 0}
    )
    app = create_gateway(settings)
    async with running_app(app) as gateway:
        issued = await register(sqlite_url)
        old_token = mint("NO-HUB", "referrals:read")
        rotation = await rotate(sqlite_url)
        new_kid = rotation.active.kid
        assert [key.kid for key in rotation.retired] == [kid_of(old_token)]

        await wait_until(
            lambda: _issues_kid(gateway, issued, new_kid), timeout_s=60, interval_s=0.2
        )
        assert (await gateway.get(URL, headers=bearer(old_token))).status_code == 200
        published = {
            key["kid"] for key in (await gateway.get("/.well-known/jwks.json")).json()["keys"]
        }
        assert published == {kid_of(old_token), new_kid}

        # Once every token the retired key signed has expired, it is published no more, and a
        # token it signed (here one that is still unexpired) is refused.
        verify_until = rotation.retired[0].verify_until
        assert verify_until is not None
        set_clock(app, lambda: verify_until + timedelta(seconds=1))
        published_later = await gateway.get("/.well-known/jwks.json")
        assert [key["kid"] for key in published_later.json()["keys"]] == [new_kid]

        async def old_token_refused() -> bool:
            return (await gateway.get(URL, headers=bearer(old_token))).status_code == 401

        await wait_until(old_token_refused, timeout_s=60, interval_s=0.2)


async def _issues_kid(
    gateway: httpx.AsyncClient, issued: clients.IssuedCredentials, kid: str
) -> bool:
    return kid_of(await client_token(gateway, issued)) == kid


@dataclass
class FollowingSystem:
    """A gateway on a real port and the referrals service following it (AUTH_GATEWAY_URL)."""

    gateway: httpx.AsyncClient
    referrals: httpx.AsyncClient
    referrals_app: FastAPI

    @property
    def feed(self) -> GatewayAuthFeed:
        feed: GatewayAuthFeed = self.referrals_app.state.gateway_auth
        return feed


@asynccontextmanager
async def following_system(
    gateway_settings: Settings, kafka: str, tmp_path: Path, **auth: Any
) -> AsyncIterator[FollowingSystem]:
    gateway_port = free_port()
    referrals_dir = tmp_path / "referrals"
    values = harness.test_settings_values(
        referrals_dir, f"sqlite+aiosqlite:///{referrals_dir}/r.sqlite3", kafka, Path("unused")
    )
    values.pop("auth_public_key_file")
    referrals_settings = ReferralsSettings(
        **values, auth_gateway_url=f"http://127.0.0.1:{gateway_port}", **auth
    )
    referrals_app = create_referrals(referrals_settings)
    async with serving(referrals_app) as referrals_url:
        settings = gateway_settings.model_copy(
            update={
                "referrals_url": referrals_url,
                "signing_keys_refresh_s": 0.2,
                "read_timeout_s": 30.0,
                "token_attempts_quota": 100_000,
                "rate_limit_quota": 100_000,
            }
        )
        async with (
            serving(create_gateway(settings), port=gateway_port) as gateway_url,
            httpx.AsyncClient(base_url=gateway_url, timeout=60) as gateway,
            httpx.AsyncClient(base_url=referrals_url, timeout=60) as referrals,
        ):
            yield FollowingSystem(gateway, referrals, referrals_app)


async def test_a_token_naming_an_unknown_key_makes_the_service_fetch_the_keys_once(
    gateway_settings: Settings, sqlite_url: str, kafka: str, tmp_path: Path, mint: TokenMinter
) -> None:
    auth = {"auth_jwks_cache_s": 3600, "auth_jwks_min_refresh_s": 3600}
    async with following_system(gateway_settings, kafka, tmp_path, **auth) as system:
        old_token = mint("NO-HUB", "referrals:read")
        await wait_until(lambda: system.feed.get(kid_of(old_token)), timeout_s=60)
        assert (await system.referrals.get(URL, headers=bearer(old_token))).status_code == 200
        fetches_before = system.feed.key_fetches

        rotation = await rotate(sqlite_url)
        new_token = mint_token(
            rotation.active.private_key_pem.encode(),
            organisation="NO-HUB",
            scopes="referrals:read",
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
        )
        answers = await asyncio.gather(
            *(system.referrals.get(URL, headers=bearer(new_token)) for _ in range(5))
        )
        assert [answer.status_code for answer in answers] == [200] * 5
        assert system.feed.key_fetches == fetches_before + 1

        # A made-up key within the bound fetches nothing more, and is refused.
        stranger = mint_token(
            signing_keys.generate_private_key_pem(),
            organisation="NO-HUB",
            scopes="referrals:read",
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
        )
        refused = await system.referrals.get(URL, headers=bearer(stranger))
        assert refused.status_code == 401
        assert "unknown key" in refused.json()["detail"]
        assert system.feed.key_fetches == fetches_before + 1


async def test_a_revoked_clients_unexpired_token_is_refused_on_the_service_port(
    gateway_settings: Settings, sqlite_url: str, kafka: str, tmp_path: Path
) -> None:
    auth = {"auth_revocation_poll_s": 0.2}
    async with following_system(gateway_settings, kafka, tmp_path, **auth) as system:
        feed = system.feed
        revoked, kept = await register(sqlite_url), await register(sqlite_url)
        revoked_token = await client_token(system.gateway, revoked)
        kept_token = await client_token(system.gateway, kept)
        answer = await system.referrals.get(URL, headers=bearer(revoked_token))
        assert answer.status_code == 200, answer.text

        await revoke(sqlite_url, revoked.client.client_id)

        async def refused_directly() -> httpx.Response | None:
            response = await system.referrals.get(URL, headers=bearer(revoked_token))
            return response if response.status_code == 401 else None

        refusal = await wait_until(refused_directly, timeout_s=60, interval_s=0.2)
        assert "revoked" in refusal.json()["detail"]
        assert refusal.headers["content-type"] == "application/problem+json"
        kept_answer = await system.referrals.get(URL, headers=bearer(kept_token))
        assert kept_answer.status_code == 200
        # One HTTP client for every poll (a new one each time costs idle CPU: a TLS context).
        polling_client = feed._client
        polls = feed.revocation_polls
        await wait_until(lambda: feed.revocation_polls >= polls + 2, timeout_s=60)
        assert feed._client is polling_client is not None
    assert feed._client is None  # closed on shutdown


async def test_keys_rotate_under_traffic_with_no_failed_request(
    gateway_settings: Settings, sqlite_url: str, kafka: str, tmp_path: Path
) -> None:
    # No bound on fetches for unknown keys here: rotations follow each other closely.
    auth = {"auth_jwks_min_refresh_s": 0}
    async with following_system(gateway_settings, kafka, tmp_path, **auth) as system:
        issued = await register(sqlite_url)
        statuses: list[tuple[str, int, str]] = []
        kids_served: set[str] = set()
        stopping = asyncio.Event()

        async def traffic() -> None:
            while not stopping.is_set():
                token = await client_token(system.gateway, issued)
                kids_served.add(kid_of(token))
                through = await system.gateway.get(URL, headers=bearer(token))
                direct = await system.referrals.get(URL, headers=bearer(token))
                statuses.append(("gateway", through.status_code, through.text[:200]))
                statuses.append(("service", direct.status_code, direct.text[:200]))

        workers = [asyncio.create_task(traffic()) for _ in range(2)]
        try:
            await wait_until(lambda: len(statuses) >= 4, timeout_s=60)
            for _ in range(3):
                new_kid = (await rotate(sqlite_url)).active.kid
                await wait_until(lambda kid=new_kid: kid in kids_served, timeout_s=60)
                served = len(statuses)
                await wait_until(lambda served=served: len(statuses) >= served + 8, timeout_s=60)
        finally:
            stopping.set()
            await asyncio.gather(*workers)
        failed = [status for status in statuses if status[1] != 200]
        assert failed == []
        assert len(kids_served) == 4


async def test_keys_and_revocations_are_kept_and_published_on_each_engine(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    await upgrade_to_head(engine, MIGRATIONS_DIR)
    sessions = create_session_factory(engine)
    configured = signing_keys.generate_private_key_pem()
    start = system_clock()
    try:
        async with sessions() as session:
            first = await signing_keys.ensure_active_key_once(
                session, configured_private_key_pem=configured, now=start
            )
            again = await signing_keys.ensure_active_key_once(
                session, configured_private_key_pem=None, now=start
            )
            assert again.kid == first.kid
            assert first.private_key_pem.encode() == configured
            rotation = await signing_keys.rotate_signing_key(
                session, now=start, verify_for=timedelta(hours=1), actor="t", reason="test"
            )
            assert [key.kid for key in rotation.retired] == [first.kid]
        async with sessions() as session:
            now_kids = [k.kid for k in await signing_keys.verifying_keys(session, now=start)]
            later = start + timedelta(hours=1, seconds=1)
            later_kids = [k.kid for k in await signing_keys.verifying_keys(session, now=later)]
        assert now_kids == [rotation.active.kid, first.kid]
        assert later_kids == [rotation.active.kid]

        async with sessions() as session:
            issued = await clients.create_client(
                session, name="RMS", organisation="NO-HUB", scopes="referrals:read"
            )
            await clients.revoke_client(session, client_id=issued.client.client_id)
            lifetime = timedelta(minutes=15)
            soon = await signing_keys.revoked_client_ids(
                session, now=system_clock(), token_lifetime=lifetime
            )
            gone = await signing_keys.revoked_client_ids(
                session, now=system_clock() + timedelta(minutes=16), token_lifetime=lifetime
            )
        assert list(soon) == [issued.client.client_id]
        assert list(gone) == []
    finally:
        await engine.dispose()

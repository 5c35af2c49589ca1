"""What the Open311 routes share: api_keys checked (and remembered briefly), the client's rate
limit, its organisation's token, the category list, and calls to the referrals service."""

import hashlib
import logging
import time
from typing import Any

import aiohttp
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway import clients
from services.gateway import open311_format as o311
from services.gateway.access import ClientDirectory
from services.gateway.config import Settings
from services.gateway.models import Client
from services.gateway.oauth import TokenIssuer
from services.gateway.proxy import UpstreamProxy
from services.gateway.ratelimit import LimiterHolder, RatePolicy
from shared import metrics, tracing
from shared.localities import load_localities

log = logging.getLogger(__name__)


class Open311Door:
    """What the Open311 routes share: client keys, tokens, limits and the category list."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        issuer: TokenIssuer,
        limiter: LimiterHolder,
        directory: ClientDirectory,
        proxy: UpstreamProxy,
    ) -> None:
        self._sessions = sessions
        self._issuer = issuer
        self._limiter = limiter
        self._directory = directory
        self._proxy = proxy
        self._referrals_url = settings.upstreams()["referrals"]
        self._key_cache_s = settings.verified_token_cache_s
        self._categories_cache_s = settings.openapi_cache_s
        self._attempts = RatePolicy(settings.token_attempts_quota, settings.token_attempts_window_s)
        self.max_body_bytes = settings.max_body_bytes
        self.localities = {
            code: locality.name
            for code, locality in load_localities(settings.localities_file).items()
        }
        self._keys: dict[bytes, tuple[Client, float]] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._categories: tuple[dict[str, o311.Category], float] | None = None

    async def categories(self) -> dict[str, o311.Category]:
        """The referral taxonomy, read with the gateway's own token and kept a while."""
        now = time.monotonic()
        if self._categories is not None and self._categories[1] > now:
            return self._categories[0]
        token = self._issuer.issue_own(["referrals:read"])
        status, body, _ = await self.call("GET", "/api/v1/referral-categories", token)
        if status != 200 or not isinstance(body, dict):
            raise o311.Open311Error(502, "The service list cannot be read; try again later.")
        categories = o311.categories_from_tree(body["categories"])
        self._categories = (categories, now + self._categories_cache_s)
        return categories

    async def client_for(self, api_key: str | None, address: str, scope: str) -> Client:
        """The partner client an api_key (`client_id:secret`) names, entitled to `scope`."""
        if not api_key:
            raise o311.Open311Error(403, "api_key was not provided.")
        key = hashlib.sha256(api_key.encode()).digest()
        now = time.monotonic()
        cached = self._keys.get(key)
        if cached is not None and cached[1] > now:
            client = cached[0]
        else:
            client = await self._verify(api_key, address)
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[key] = (client, now + self._key_cache_s)
        if client.client_id in self._directory.revoked:
            raise o311.Open311Error(403, "Invalid api_key: its client has been revoked.")
        granted = client.scopes.split()
        if scope not in granted and "admin" not in granted:
            raise o311.Open311Error(403, f"This api_key's client lacks the scope '{scope}'.")
        tracing.annotate_caller(client.organisation, client.client_id)
        return client

    async def _verify(self, api_key: str, address: str) -> Client:
        # Wrong keys cost a hash each: attempts per address are limited, as at /oauth/token.
        decision = await self._limiter.current.take(
            "open311-key:" + address, self._attempts, time.monotonic()
        )
        if not decision.allowed:
            raise o311.Open311Error(
                429,
                f"Too many api_key attempts; retry after {decision.retry_after_s} s.",
                headers={"Retry-After": str(decision.retry_after_s)},
            )
        client_id, _, secret = api_key.partition(":")
        try:
            async with self._sessions() as session:
                return await clients.authenticate_client(
                    session, client_id=client_id, secret=secret
                )
        except clients.InvalidClient as error:
            raise o311.Open311Error(403, "Invalid api_key received.") from error

    async def take_rate_token(self, client: Client) -> dict[str, str]:
        """Spend one of the client's requests; the RateLimit headers for the answer."""
        policy = self._directory.policy_for(client.client_id)
        try:
            decision = await self._limiter.current.take(client.client_id, policy, time.monotonic())
        except Exception as error:
            # Availability over strictness, as on /api: a limiter outage must not stop reports.
            log.warning("rate limiter unavailable, letting the request through: %s", error)
            return {}
        headers = {name.decode(): value.decode() for name, value in decision.headers()}
        if not decision.allowed:
            metrics.rate_limited(client.client_id)
            raise o311.Open311Error(
                429,
                f"Rate limit of {policy.quota} requests per {policy.window_s} s reached; "
                f"retry after {decision.retry_after_s} s.",
                headers=headers,
            )
        return headers

    def token_for(self, client: Client) -> str:
        """A token for the client's organisation, as `/oauth/token` would give it."""
        now = time.monotonic()
        cached = self._tokens.get(client.client_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        token = self._issuer.issue(client, client.scopes.split())
        self._tokens[client.client_id] = (token, now + self._issuer.ttl_s / 2)
        return token

    async def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """One call to the referrals service: status, decoded JSON body, headers (lower case)."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if request_id := tracing.current_request_id():
            headers["X-Request-ID"] = request_id
        if traceparent := tracing.current_traceparent():
            headers["traceparent"] = traceparent
        try:
            async with self._proxy.session.request(
                method, self._referrals_url + path, json=body, params=params, headers=headers
            ) as response:
                raw = await response.read()
                answer_headers = {k.lower(): v for k, v in response.headers.items()}
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise o311.Open311Error(
                502, "The referral service cannot be reached; try again later."
            ) from error
        try:
            decoded = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            decoded = None
        return status, decoded, answer_headers

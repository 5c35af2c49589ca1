"""What a service learns from the gateway to verify tokens itself: the gateway's signing keys
(`/.well-known/jwks.json`) and the clients it has revoked (`/auth/revoked-clients`).

Both are polled in the background with one long-lived HTTP client (made on first use, closed
on shutdown): a client per poll would build a TLS context each time, which costs idle CPU. A
token naming a key we have not seen triggers an immediate fetch of the keys, at most once per
`min_refresh_s` (concurrent requests share the fetch in flight), so a key rotation at the
gateway needs no restart here, and a stream of made-up key ids cannot hammer the gateway.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any, TypeVar

import httpx

from shared.jwks import parse_jwks

log = logging.getLogger(__name__)
T = TypeVar("T")

JWKS_PATH = "/.well-known/jwks.json"
REVOKED_CLIENTS_PATH = "/auth/revoked-clients"


class BoundedRefresh:
    """Runs `fetch` on demand at most once per `min_interval_s`; callers arriving while a fetch
    is in flight wait for it (and count as refreshed) instead of being turned away."""

    def __init__(
        self, fetch: Callable[[], Coroutine[Any, Any, None]], min_interval_s: float
    ) -> None:
        self._fetch = fetch
        self._min_interval_s = min_interval_s
        self._started_at = float("-inf")
        self._in_flight: asyncio.Task[None] | None = None

    async def __call__(self) -> bool:
        """True when the keys were (or are being) fetched again for this caller."""
        in_flight = self._in_flight
        if in_flight is not None and not in_flight.done():
            await asyncio.shield(in_flight)
            return True
        if time.monotonic() - self._started_at < self._min_interval_s:
            return False
        self._started_at = time.monotonic()
        self._in_flight = asyncio.create_task(self._fetch())
        await asyncio.shield(self._in_flight)
        return True


class GatewayAuthFeed:
    """The gateway's public keys by `kid` and its revoked client ids, kept fresh."""

    def __init__(
        self,
        gateway_url: str,
        *,
        keys_refresh_s: float,
        revocation_poll_s: float,
        min_refresh_s: float,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = gateway_url.rstrip("/")
        self._transport = transport
        self._keys_refresh_s = keys_refresh_s
        self._revocation_poll_s = revocation_poll_s
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._closed = False
        self._keys: dict[str, Any] = {}
        self._keys_loaded_at = float("-inf")
        self._refresh_for_unknown_kid = BoundedRefresh(self.refresh_keys, min_refresh_s)
        self._revoked: frozenset[str] = frozenset()
        self._failing: set[str] = set()
        # Counted for tests and operators: how often each was fetched.
        self.key_fetches = 0
        self.revocation_polls = 0

    def get(self, kid: str) -> Any | None:
        return self._keys.get(kid)

    def is_revoked(self, client_id: str) -> bool:
        return client_id in self._revoked

    async def refresh_keys(self) -> None:
        """Fetch the key set; on failure keep the keys we had."""
        self.key_fetches += 1
        keys = await self._fetch(JWKS_PATH, parse_jwks)
        if keys is not None:
            self._keys = keys
            self._keys_loaded_at = time.monotonic()

    async def refresh_revoked(self) -> None:
        """Fetch the revoked client ids; on failure keep the list we had."""
        self.revocation_polls += 1
        revoked = await self._fetch(REVOKED_CLIENTS_PATH, parse_revoked_clients)
        if revoked is not None:
            self._revoked = revoked

    async def refresh_for_unknown_kid(self) -> bool:
        """Fetch the keys now unless done within `min_refresh_s`; join a fetch in flight."""
        return await self._refresh_for_unknown_kid()

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll until `stopping` is set: revocations every round, keys when they are stale."""
        while not stopping.is_set():
            if time.monotonic() - self._keys_loaded_at >= self._keys_refresh_s:
                await self.refresh_keys()
            await self.refresh_revoked()
            with suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._revocation_poll_s)

    async def close(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _fetch(self, path: str, parse: Callable[[str], T]) -> T | None:
        """The parsed answer, or None (logged once per outage) when it cannot be had."""
        if self._closed:  # shutting down: a late request must not open a client nobody closes
            return None
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._base, timeout=self._timeout_s, transport=self._transport
            )
        try:
            response = await self._client.get(path)
            response.raise_for_status()
            parsed = parse(response.text)
        except Exception as error:
            # Logged once per outage, not once per poll.
            if path not in self._failing:
                log.warning("could not read %s from the gateway: %s", path, error)
            self._failing.add(path)
            return None
        if path in self._failing:
            log.info("reading %s from the gateway again", path)
            self._failing.discard(path)
        return parsed


def parse_revoked_clients(text: str) -> frozenset[str]:
    ids = json.loads(text)["revoked_client_ids"]
    if not isinstance(ids, list) or not all(isinstance(one, str) for one in ids):
        raise ValueError("revoked_client_ids is not a list of ids")
    return frozenset(ids)

"""Who may pass the gateway: bearer tokens verified once and remembered briefly, revoked
clients refused, and each client's rate policy, all read without touching the database."""

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field

import jwt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway import repository
from services.gateway.ratelimit import RatePolicy
from shared.auth import Caller, TokenVerifier
from shared.problems import Unauthorized

log = logging.getLogger(__name__)


@dataclass
class ClientDirectory:
    """Revoked client ids and per-client rate policies, refreshed in the background."""

    default_policy: RatePolicy
    revoked: frozenset[str] = frozenset()
    policies: dict[str, RatePolicy] = field(default_factory=dict)
    loaded: bool = False

    def policy_for(self, client_id: str) -> RatePolicy:
        return self.policies.get(client_id, self.default_policy)

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session, session.begin():
            rows = await repository.client_policies(session)
        self.revoked = frozenset(client_id for client_id, _, _, revoked in rows if revoked)
        self.policies = {
            client_id: RatePolicy(quota, window)
            for client_id, quota, window, _ in rows
            if quota and window
        }
        self.loaded = True

    async def keep_fresh(
        self, sessions: async_sessionmaker[AsyncSession], interval_s: float
    ) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.refresh(sessions)
            except Exception as error:
                log.warning("could not refresh the client directory: %s", error)


class Gatekeeper:
    """Turns an Authorization header into a Caller, or raises Unauthorized."""

    def __init__(
        self,
        verifier: TokenVerifier,
        directory: ClientDirectory,
        *,
        cache_s: float,
        max_cached: int = 50_000,
    ) -> None:
        self._verifier = verifier
        self._directory = directory
        self._cache_s = cache_s
        self._max_cached = max_cached
        self._cache: dict[bytes, tuple[Caller, float]] = {}

    async def authenticate(self, authorization: bytes | None) -> Caller:
        token = _bearer(authorization)
        key = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            caller = cached[0]
        else:
            caller = await self._verifier.verify_async(token)
            self._remember(key, token, caller, now)
        if caller.client_id is not None and caller.client_id in self._directory.revoked:
            raise Unauthorized("The client this token was issued to has been revoked.")
        return caller

    def _remember(self, key: bytes, token: str, caller: Caller, now: float) -> None:
        expires_at = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
        lifetime = min(self._cache_s, float(expires_at) - time.time())
        if lifetime <= 0:
            return
        if len(self._cache) >= self._max_cached:
            self._cache.clear()
        self._cache[key] = (caller, now + lifetime)


def _bearer(authorization: bytes | None) -> str:
    if not authorization:
        raise Unauthorized("Send an access token in the Authorization header: 'Bearer <token>'.")
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token in the Authorization header: 'Bearer <token>'.")
    return token.strip()

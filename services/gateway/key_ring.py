"""The gateway's signing keys in memory: the active private key it signs with and the public
keys it verifies with, re-read from the database in the background, so a rotation made by
`keys rotate` (another process) reaches every gateway instance without a restart."""

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway import signing_keys
from shared.gateway_auth import BoundedRefresh

log = logging.getLogger(__name__)


class SigningKeyRing:
    """Active key for signing; verifying keys by `kid` (the KeySource a TokenVerifier reads)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        *,
        min_refresh_s: float,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._refresh_for_unknown_kid = BoundedRefresh(self._load_or_warn, min_refresh_s)
        self.active_kid = ""
        self.active_private_key_pem = b""
        self._public: dict[str, Any] = {}

    def get(self, kid: str) -> Any | None:
        return self._public.get(kid)

    async def load(self) -> None:
        """Read the active key and the verifying keys again."""
        async with self._sessions() as session:
            keys = await signing_keys.verifying_keys(session, now=self._clock())
        active = next(key for key in keys if key.state == signing_keys.ACTIVE)
        self._public = {
            key.kid: jwt.PyJWK.from_dict(json.loads(key.public_jwk)).key for key in keys
        }
        self.active_kid = active.kid
        self.active_private_key_pem = active.private_key_pem.encode()

    async def refresh_for_unknown_kid(self) -> bool:
        """Read the keys now, at most once per `min_refresh_s` (a token names a key we lack)."""
        return await self._refresh_for_unknown_kid()

    async def keep_fresh(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self._load_or_warn()

    async def _load_or_warn(self) -> None:
        """Keep the keys we have when the database does not answer."""
        try:
            await self.load()
        except Exception as error:
            log.warning("could not re-read the signing keys: %s", error)

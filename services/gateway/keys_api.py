"""What the services read from the gateway to verify tokens themselves: the public signing keys
(`/.well-known/jwks.json`, RFC 7517) and the clients revoked while their tokens may be alive."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway import signing_keys

# Read from the database on every request, never from a cache in between: a service fetching
# the keys because a token names a new one must see that key.
NO_CACHE = {"Cache-Control": "no-cache"}


def keys_router(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    token_lifetime: timedelta,
) -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.get("/.well-known/jwks.json")
    async def jwks() -> JSONResponse:
        """The public keys that verify the gateway's tokens (active, and retired ones still in
        use), as an RFC 7517 JWK Set."""
        async with sessions() as session:
            keys = await signing_keys.verifying_keys(session, now=clock())
        return JSONResponse(
            signing_keys.jwks_document(keys),
            headers=NO_CACHE,
            media_type="application/jwk-set+json",
        )

    @router.get("/auth/revoked-clients")
    async def revoked_clients() -> JSONResponse:
        """Ids of the clients revoked recently enough that tokens issued to them may be alive:
        every service refuses those tokens."""
        async with sessions() as session:
            ids = await signing_keys.revoked_client_ids(
                session, now=clock(), token_lifetime=token_lifetime
            )
        body: dict[str, Any] = {"revoked_client_ids": list(ids)}
        return JSONResponse(body, headers=NO_CACHE)

    return router

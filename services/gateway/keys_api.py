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


class JwkSetResponse(JSONResponse):
    media_type = "application/jwk-set+json"  # RFC 7517 section 8.5.1


JWK_SET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["keys"],
    "properties": {
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kty", "kid"],
                "properties": {
                    "kty": {"type": "string"},
                    "kid": {"type": "string"},
                    "use": {"type": "string"},
                    "alg": {"type": "string"},
                    "n": {"type": "string"},
                    "e": {"type": "string"},
                },
            },
        }
    },
}


def keys_router(
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    token_lifetime: timedelta,
) -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.get(
        "/.well-known/jwks.json",
        response_class=JwkSetResponse,
        responses={
            200: {
                "description": "An RFC 7517 JWK Set: public keys only.",
                "content": {JwkSetResponse.media_type: {"schema": JWK_SET_SCHEMA}},
            }
        },
    )
    async def jwks() -> JwkSetResponse:
        """The public keys that verify the gateway's tokens (active, and retired ones still in
        use), as an RFC 7517 JWK Set."""
        async with sessions() as session:
            keys = await signing_keys.verifying_keys(session, now=clock())
        return JwkSetResponse(signing_keys.jwks_document(keys), headers=NO_CACHE)

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

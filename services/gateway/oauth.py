"""OAuth 2.0 client credentials grant (RFC 6749 section 4.4): `POST /oauth/token`.

Clients authenticate with HTTP Basic (preferred by the RFC) or `client_id` + `client_secret` in
the form body, never both. The answer is an RFC 9068 JWT access token. Errors use the RFC 6749
JSON shape (`{"error": "invalid_client"}`), which OAuth client libraries understand.
"""

import base64
import binascii
import time
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway import clients
from services.gateway.key_ring import SigningKeyRing
from services.gateway.models import Client
from services.gateway.ratelimit import LimiterHolder, RatePolicy
from shared.auth import mint_token
from shared.openapi_errors import problem_response as problem_response_schema
from shared.problems import problem_response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The organisation of the gateway's own tokens: no referral names it, so it sees none.
GATEWAY_ORGANISATION = "LOCALITY-HUB-GATEWAY"


class TokenIssuer:
    """Signs access tokens for authenticated clients with the gateway's active signing key."""

    def __init__(self, keys: SigningKeyRing, *, issuer: str, audience: str, ttl_s: int):
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self.ttl_s = ttl_s

    def issue(self, client: Client, scopes: list[str]) -> str:
        return mint_token(
            self._keys.active_private_key_pem,
            organisation=client.organisation,
            scopes=scopes,
            issuer=self._issuer,
            audience=self._audience,
            subject=client.client_id,
            client_id=client.client_id,
            ttl_s=self.ttl_s,
        )

    def issue_own(self, scopes: list[str]) -> str:
        """A token for the gateway itself (reading what is not personal, such as categories)."""
        return mint_token(
            self._keys.active_private_key_pem,
            organisation=GATEWAY_ORGANISATION,
            scopes=scopes,
            issuer=self._issuer,
            audience=self._audience,
            subject="system:gateway",
            ttl_s=self.ttl_s,
        )


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="locality-hub"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


TOKEN_REQUEST_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "scope": {"type": "string", "description": "space-separated subset"},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string", "format": "password"},
                    },
                }
            }
        },
    },
    "security": [{"ClientBasic": []}, {}],
}

TOKEN_ANSWER_SCHEMA: dict[str, Any] = {
    "title": "TokenResponse",
    "type": "object",
    "description": "An access token (RFC 6749 5.1): send it as `Authorization: Bearer <token>`.",
    "required": ["access_token", "token_type", "expires_in", "scope"],
    "properties": {
        "access_token": {"type": "string", "description": "An RFC 9068 JWT."},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer", "description": "Seconds until it expires."},
        "scope": {"type": "string", "description": "The scopes granted, space-separated."},
    },
}
TOKEN_ERROR_SCHEMA: dict[str, Any] = {
    "title": "TokenError",
    "type": "object",
    "description": "A refused token request, in the RFC 6749 5.2 shape OAuth libraries read.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "invalid_request",
                "invalid_client",
                "unsupported_grant_type",
                "invalid_scope",
            ],
        },
        "error_description": {"type": "string"},
    },
}
# In the gateway's own OpenAPI components (main.py), so clients get named types.
TOKEN_SCHEMAS = {"TokenResponse": TOKEN_ANSWER_SCHEMA, "TokenError": TOKEN_ERROR_SCHEMA}
_TOKEN_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/TokenError"}}}
TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The access token",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}},
    },
    400: {
        "description": "A malformed request, another grant type or a scope not granted",
        "content": _TOKEN_ERROR,
    },
    401: {"description": "Unknown client, wrong secret or revoked client", "content": _TOKEN_ERROR},
    429: problem_response_schema(429, "Too many token requests from this address"),
}


def oauth_router(
    sessions: async_sessionmaker[AsyncSession],
    issuer: TokenIssuer,
    limiter: LimiterHolder,
    attempts_policy: RatePolicy,
) -> APIRouter:
    router = APIRouter(tags=["oauth"])

    @router.post(
        "/oauth/token",
        openapi_extra=TOKEN_REQUEST_SCHEMA,
        responses=TOKEN_RESPONSES,
        response_class=JSONResponse,
    )
    async def token(request: Request) -> Response:
        """Exchange a partner client's id and secret for a short-lived access token."""
        # Attempts per caller address are limited, so secrets cannot be guessed at speed.
        address = request.client.host if request.client else "unknown"
        decision = await limiter.current.take(
            "oauth-token:" + address, attempts_policy, time.monotonic()
        )
        if not decision.allowed:
            return problem_response(
                429,
                "Too many requests",
                f"Too many token requests; retry after {decision.retry_after_s} s.",
                slug="rate-limited",
                instance=request.url.path,
                headers={k.decode(): v.decode() for k, v in decision.headers()},
            )
        try:
            form = await _form(request)
            if "grant_type" not in form:
                raise OAuthError("invalid_request", "The parameter grant_type is missing.")
            if form["grant_type"] != "client_credentials":
                raise OAuthError(
                    "unsupported_grant_type", "Only grant_type=client_credentials is supported."
                )
            client_id, secret = _client_credentials(request, form)
            try:
                async with sessions() as session:
                    client = await clients.authenticate_client(
                        session, client_id=client_id, secret=secret
                    )
            except clients.InvalidClient as error:
                raise OAuthError(
                    "invalid_client", "Unknown client, wrong secret or revoked client.", 401
                ) from error
            scopes = _granted_scopes(client, form.get("scope"))
        except OAuthError as error:
            return error.response()
        body = {
            "access_token": issuer.issue(client, scopes),
            "token_type": "Bearer",
            "expires_in": issuer.ttl_s,
            "scope": " ".join(scopes),
        }
        return JSONResponse(body, headers=NO_STORE)

    return router


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send the form as application/x-www-form-urlencoded.")
    try:
        pairs = parse_qsl((await request.body()).decode(), strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as error:
        raise OAuthError("invalid_request", "The form body cannot be read.") from error
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError("invalid_request", f"The parameter {name} is repeated.")
        form[name] = value
    return form


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization")
    in_body = "client_id" in form or "client_secret" in form
    if header and in_body:
        raise OAuthError("invalid_request", "Authenticate with Basic or the form body, not both.")
    if header:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            raise OAuthError("invalid_client", "Use HTTP Basic client authentication.", 401)
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise OAuthError(
                "invalid_client", "The Basic credentials are malformed.", 401
            ) from error
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "The Basic credentials are malformed.", 401)
        # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
        return unquote_plus(client_id), unquote_plus(secret)
    if not form.get("client_id") or not form.get("client_secret"):
        raise OAuthError("invalid_client", "Client authentication is required.", 401)
    return form["client_id"], form["client_secret"]


def _granted_scopes(client: Client, requested: str | None) -> list[str]:
    allowed = client.scopes.split()
    if requested is None or not requested.strip():
        return allowed
    asked = sorted(set(requested.split()))
    refused = [scope for scope in asked if scope not in allowed]
    if refused:
        raise OAuthError("invalid_scope", f"Not granted to this client: {' '.join(refused)}.")
    return asked

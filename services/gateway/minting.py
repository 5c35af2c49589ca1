"""`token mint`: an operator's token outside OAuth, refused in production unless explicitly
allowed, capped in lifetime, and recorded (who, for whom, scopes, expiry) before it is shown."""

from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.config import Settings
from services.gateway.models import MintedToken
from shared.auth import mint_token
from shared.input_rules import ORGANISATION_CODE_RULE, is_organisation_code


class MintRefused(Exception):
    """The request to mint breaks a rule; the message says which."""


@dataclass(frozen=True)
class MintRequest:
    organisation: str
    scopes: str
    subject: str | None
    ttl_s: int
    minted_by: str
    allow_in_production: bool = False


def check_mint_request(settings: Settings, request: MintRequest) -> None:
    """Raise MintRefused when production forbids it or the lifetime is out of bounds."""
    if settings.environment == "production" and not request.allow_in_production:
        raise MintRefused(
            "token mint is refused in production; partner systems use OAuth client credentials "
            "(pass --allow-in-production to mint anyway: the token is recorded)"
        )
    if not 1 <= request.ttl_s <= settings.token_mint_max_ttl_s:
        raise MintRefused(
            f"--ttl must be between 1 and {settings.token_mint_max_ttl_s} seconds "
            "(GATEWAY_TOKEN_MINT_MAX_TTL_S)"
        )
    if not request.minted_by.strip():
        raise MintRefused("--by must name who is minting the token")
    if not is_organisation_code(request.organisation):
        raise MintRefused(f"--org must be an organisation code: {ORGANISATION_CODE_RULE}")
    if not request.scopes.split():
        raise MintRefused("--scopes must name at least one scope")


async def mint_recorded_token(
    session: AsyncSession, settings: Settings, request: MintRequest, private_key_pem: bytes
) -> str:
    """Mint the token and commit its record; the token exists only if the record does."""
    check_mint_request(settings, request)
    token = mint_token(
        private_key_pem,
        organisation=request.organisation,
        scopes=request.scopes,
        subject=request.subject,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        ttl_s=request.ttl_s,
    )
    claims = jwt.decode(token, options={"verify_signature": False})
    session.add(
        MintedToken(
            jti=claims["jti"],
            minted_at=datetime.fromtimestamp(claims["iat"], UTC),
            minted_by=request.minted_by,
            organisation=claims["org"],
            subject=claims["sub"],
            scopes=claims["scope"],
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            environment=settings.environment,
        )
    )
    await session.commit()
    return token


async def list_minted_tokens(session: AsyncSession) -> list[MintedToken]:
    result = await session.execute(select(MintedToken).order_by(MintedToken.minted_at))
    return list(result.scalars().all())

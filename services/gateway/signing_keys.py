"""Use cases on the gateway's token signing keys: the first key, rotation, listing, publishing.

One key is active and signs every new token (its `kid` in the header). Rotation makes a new
active key and retires the old one, whose public half stays published (JWKS) until the last
token it could have signed expires: `verify_until` = rotation time + the longest token lifetime.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import repository
from services.gateway.models import SigningKey
from shared.auth import ALGORITHMS, key_id
from shared.operator_audit import record_operator_action

log = logging.getLogger(__name__)

ACTIVE = "active"
RETIRED = "retired"


@dataclass(frozen=True)
class Rotation:
    """What `rotate_signing_key` did: the new active key and the keys it retired."""

    active: SigningKey
    retired: list[SigningKey]


def generate_private_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_jwk_of(private_key_pem: bytes) -> dict[str, Any]:
    """The RFC 7517 public JWK of an RSA private key: `kty`, `n`, `e`, `kid`, `use`, `alg`."""
    private_key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError("the signing key must be an RSA key (tokens are RS256)")
    public_key = private_key.public_key()
    public_pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return {**jwk, "kid": key_id(public_pem), "use": "sig", "alg": ALGORITHMS[0]}


def new_signing_key(private_key_pem: bytes, *, now: datetime) -> SigningKey:
    jwk = public_jwk_of(private_key_pem)
    return SigningKey(
        kid=jwk["kid"],
        private_key_pem=private_key_pem.decode(),
        public_jwk=json.dumps(jwk, sort_keys=True),
        state=ACTIVE,
        created_at=now,
        retired_at=None,
        verify_until=None,
    )


async def ensure_active_key(
    session: AsyncSession, *, configured_private_key_pem: bytes | None, now: datetime
) -> SigningKey:
    """The active key; on first start the configured key is imported (so tokens signed before
    keys lived in the database still verify), or a new one is made when none is configured."""
    async with session.begin():
        active = await repository.active_signing_keys(session)
        if active:
            return active[0]
        pem = configured_private_key_pem or generate_private_key_pem()
        key = new_signing_key(pem, now=now)
        await repository.add_signing_key(session, key)
    return key


async def ensure_active_key_once(
    session: AsyncSession, *, configured_private_key_pem: bytes | None, now: datetime
) -> SigningKey:
    """As `ensure_active_key`, tolerating another instance importing the same key at once."""
    try:
        return await ensure_active_key(
            session, configured_private_key_pem=configured_private_key_pem, now=now
        )
    except IntegrityError:
        return await ensure_active_key(
            session, configured_private_key_pem=configured_private_key_pem, now=now
        )


async def rotate_signing_key(
    session: AsyncSession, *, now: datetime, verify_for: timedelta, actor: str, reason: str
) -> Rotation:
    """A new active key; the old one is retired but verifies tokens for `verify_for` more."""
    async with session.begin():
        retired = list(await repository.active_signing_keys(session))
        for key in retired:
            key.state = RETIRED
            key.retired_at = now
            key.verify_until = now + verify_for
        active = new_signing_key(generate_private_key_pem(), now=now)
        await repository.add_signing_key(session, active)
        await record_operator_action(
            session,
            actor=actor,
            action="keys.rotate",
            target=active.kid,
            reason=reason,
            details={
                "retired": [key.kid for key in retired],
                "verify_for_s": int(verify_for.total_seconds()),
            },
        )
    log.info(
        "signing key rotated by %s (%s): %s active, retired %s",
        actor,
        reason,
        active.kid,
        ", ".join(key.kid for key in retired) or "none",
    )
    return Rotation(active, retired)


async def list_signing_keys(session: AsyncSession) -> Sequence[SigningKey]:
    async with session.begin():
        return await repository.list_signing_keys(session)


async def verifying_keys(session: AsyncSession, *, now: datetime) -> Sequence[SigningKey]:
    """The keys whose tokens are accepted now: the active one and the retired still in use."""
    async with session.begin():
        return await repository.verifying_signing_keys(session, now=now)


async def revoked_client_ids(
    session: AsyncSession, *, now: datetime, token_lifetime: timedelta
) -> Sequence[str]:
    """Clients revoked recently enough that a token issued before may still be alive."""
    async with session.begin():
        return await repository.clients_revoked_since(session, now - token_lifetime)


def jwks_document(keys: Sequence[SigningKey]) -> dict[str, Any]:
    """The RFC 7517 JWK Set of `keys`: public halves only."""
    return {"keys": [json.loads(key.public_jwk) for key in keys]}

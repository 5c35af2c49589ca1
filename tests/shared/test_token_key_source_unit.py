"""TokenVerifier with keys that change while it runs (the gateway's) and a revocation list."""

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import TokenVerifier, key_id, mint_token
from shared.problems import Unauthorized
from tests.harness import TEST_AUDIENCE, TEST_ISSUER

pytestmark = pytest.mark.unit


class FakeKeySource:
    """Publishes `pending` keys only when asked to refresh, and counts the asks."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.pending: dict[str, Any] = {}
        self.refreshes = 0
        self.allow_refresh = True

    def get(self, kid: str) -> Any | None:
        return self.keys.get(kid)

    async def refresh_for_unknown_kid(self) -> bool:
        if not self.allow_refresh:
            return False
        self.refreshes += 1
        self.keys.update(self.pending)
        return True


class Revoked:
    def __init__(self, *client_ids: str) -> None:
        self.client_ids = set(client_ids)

    def is_revoked(self, client_id: str) -> bool:
        return client_id in self.client_ids


def new_key() -> tuple[bytes, str, Any]:
    """A private key PEM, its kid, and its public key."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_key = private_key.public_key()
    public_pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, key_id(public_pem), public_key


def token(pem: bytes, client_id: str = "lh_rms") -> str:
    return mint_token(
        pem,
        organisation="NO-HUB",
        scopes="referrals:read",
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
        client_id=client_id,
    )


def verifier(source: FakeKeySource, revoked: Revoked | None = None) -> TokenVerifier:
    return TokenVerifier(
        [], issuer=TEST_ISSUER, audience=TEST_AUDIENCE, key_source=source, revoked=revoked
    )


async def test_a_key_the_source_learns_on_refresh_verifies_without_a_restart() -> None:
    source = FakeKeySource()
    pem, kid, key = new_key()
    source.pending[kid] = key
    caller = await verifier(source).verify_async(token(pem))
    assert caller.organisation == "NO-HUB"
    assert source.refreshes == 1
    await verifier(source).verify_async(token(pem))
    assert source.refreshes == 1  # known now: no more fetching


async def test_an_unknown_key_is_refused_when_the_source_may_not_refresh() -> None:
    source = FakeKeySource()
    source.allow_refresh = False
    pem, _, _ = new_key()
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier(source).verify_async(token(pem))


async def test_an_expired_token_of_a_known_key_fetches_nothing() -> None:
    source = FakeKeySource()
    pem, kid, key = new_key()
    source.keys[kid] = key
    expired = mint_token(
        pem, organisation="NO-HUB", scopes="x", issuer=TEST_ISSUER, audience=TEST_AUDIENCE,
        ttl_s=-3600,
    )  # fmt: skip
    with pytest.raises(Unauthorized, match="expired"):
        await verifier(source).verify_async(expired)
    assert source.refreshes == 0


async def test_a_revoked_clients_valid_token_is_refused_and_others_pass() -> None:
    source = FakeKeySource()
    pem, kid, key = new_key()
    source.keys[kid] = key
    checking = verifier(source, Revoked("lh_gone"))
    with pytest.raises(Unauthorized, match="revoked"):
        await checking.verify_async(token(pem, client_id="lh_gone"))
    assert (await checking.verify_async(token(pem, client_id="lh_kept"))).client_id == "lh_kept"

"""Services accept staff tokens from the configured identity provider (JWKS) as well as ours."""

import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.app import load_token_verifier
from shared.problems import Unauthorized
from shared.settings import ServiceSettings
from tests.harness import TEST_AUDIENCE, TEST_ISSUER, TokenMinter

pytestmark = pytest.mark.integration

STAFF_ISSUER = "https://login.council.example"


def staff_settings(tmp_path: Path, public_key: Path) -> tuple[ServiceSettings, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}))
    settings = ServiceSettings(
        environment="test",
        data_dir=tmp_path,
        auth_public_key_file=public_key,
        auth_issuer=TEST_ISSUER,
        auth_audience=TEST_AUDIENCE,
        auth_external_issuer=STAFF_ISSUER,
        auth_external_jwks=str(jwks),
    )
    return settings, key


def staff_token(key: rsa.RSAPrivateKey, **overrides: object) -> str:
    now = int(time.time())
    claims = {
        "iss": STAFF_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": "jane",
        "org": "NO-HUB",
        "scope": "referrals:read",
        "iat": now,
        "exp": now + 60,
        **overrides,
    }
    return jwt.encode(claims, key, "RS256", headers={"kid": "k1"})  # type: ignore[arg-type]


async def test_a_service_verifier_accepts_staff_and_own_tokens(
    tmp_path: Path, public_key: Path, mint: TokenMinter
) -> None:
    settings, key = staff_settings(tmp_path, public_key)
    verifier = load_token_verifier(settings)
    staff = await verifier.verify_async(staff_token(key))
    own = await verifier.verify_async(mint("NO-HUB", "metrics:read"))
    assert (staff.subject, staff.organisation, staff.scopes) == (
        "jane",
        "NO-HUB",
        frozenset({"referrals:read"}),
    )
    assert own.scopes == frozenset({"metrics:read"})


async def test_a_staff_token_for_another_audience_or_expired_is_refused(
    tmp_path: Path, public_key: Path
) -> None:
    settings, key = staff_settings(tmp_path, public_key)
    verifier = load_token_verifier(settings)
    with pytest.raises(Unauthorized, match="Audience"):
        await verifier.verify_async(staff_token(key, aud="other-api"))
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify_async(staff_token(key, exp=int(time.time()) - 600))


def test_an_issuer_without_keys_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="together"):
        ServiceSettings(data_dir=tmp_path, auth_external_issuer=STAFF_ISSUER)

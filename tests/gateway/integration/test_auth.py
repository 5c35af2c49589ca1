"""No way past the gateway without a valid token: every failure mode is a 401 problem."""

import json
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.gateway.config import Settings
from services.gateway.main import create_app
from shared.auth import ensure_signing_keypair, mint_token
from tests.gateway.stub_upstream import StubUpstream
from tests.harness import TEST_AUDIENCE, TEST_ISSUER, TokenMinter, running_app

pytestmark = pytest.mark.integration

READ = "referrals:read"
URL = "/api/v1/referrals"


async def test_a_valid_token_is_forwarded_with_the_callers_request(
    gateway: httpx.AsyncClient, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    response = await gateway.get(URL, headers=mint.headers("NO-HUB", READ))
    assert response.status_code == 200
    assert upstreams["referrals"].received[-1]["headers"]["Authorization"].startswith("Bearer ")


def other_key_token(tmp_path: Path, **claims: object) -> str:
    private_path, _ = ensure_signing_keypair(tmp_path / "other-keys")
    return mint_token(
        private_path.read_bytes(),
        organisation="NO-HUB",
        scopes=READ,
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
        **claims,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "Authorization header"),
        ({"Authorization": "Basic abc"}, "Authorization header"),
        ({"Authorization": "Bearer "}, "Authorization header"),
        ({"Authorization": "Bearer not.a.jwt"}, "malformed"),
    ],
)
async def test_a_missing_or_malformed_token_is_refused(
    gateway: httpx.AsyncClient, headers: dict[str, str], reason: str
) -> None:
    response = await gateway.get(URL, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert reason in response.json()["detail"]


async def test_an_expired_token_is_refused(gateway: httpx.AsyncClient, mint: TokenMinter) -> None:
    response = await gateway.get(URL, headers=mint.headers("NO-HUB", READ, ttl_s=-120))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"extra_claims": {"iss": "someone-else"}}, "issuer"),
        ({"extra_claims": {"aud": "another-api"}}, "audience"),
        ({"extra_claims": {"org": ""}}, "organisation"),
    ],
)
async def test_a_token_for_another_issuer_audience_or_without_organisation_is_refused(
    gateway: httpx.AsyncClient, mint: TokenMinter, claims: dict, reason: str
) -> None:
    response = await gateway.get(
        URL, headers={"Authorization": f"Bearer {mint('NO', READ, **claims)}"}
    )
    assert response.status_code == 401
    assert reason in response.json()["detail"].lower()


async def test_a_token_signed_by_an_unknown_key_is_refused(
    gateway: httpx.AsyncClient, tmp_path: Path
) -> None:
    token = other_key_token(tmp_path)
    response = await gateway.get(URL, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "unknown key" in response.json()["detail"]


async def test_a_token_with_a_forged_signature_is_refused(
    gateway: httpx.AsyncClient, mint: TokenMinter
) -> None:
    header, payload, signature = mint("NO-HUB", READ).split(".")
    forged = ".".join([header, payload, signature[::-1]])
    response = await gateway.get(URL, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_a_signed_token_that_is_not_an_access_token_is_refused(
    gateway: httpx.AsyncClient, signing_keys: tuple[Path, Path]
) -> None:
    from shared.auth import key_id

    now = int(time.time())
    claims = {
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": "x",
        "org": "NO",
        "iat": now,
        "exp": now + 60,
        "scope": READ,
    }
    kid = key_id(signing_keys[1].read_bytes())
    id_token = jwt.encode(
        claims, signing_keys[0].read_bytes(), "RS256", headers={"kid": kid, "typ": "JWT"}
    )
    response = await gateway.get(URL, headers={"Authorization": f"Bearer {id_token}"})
    assert response.status_code == 401
    assert "at+jwt" in response.json()["detail"]


async def test_health_docs_and_openapi_need_no_token(gateway: httpx.AsyncClient) -> None:
    for path in ("/livez", "/readyz", "/docs", "/openapi.json"):
        assert (await gateway.get(path)).status_code == 200, path


def staff_idp_key(tmp_path: Path) -> tuple[rsa.RSAPrivateKey, Path]:
    """A staff identity provider's key, published as a JWKS file."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "staff-jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "staff-2026", "use": "sig"}]}))
    return key, jwks


def staff_token(
    key: rsa.RSAPrivateKey, *, kid: str = "staff-2026", issuer: str = "https://staff-idp.example"
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": TEST_AUDIENCE,
        "sub": "jane.doe",
        "org": "DEMO-HUB",
        "scope": "referrals:read",
        "iat": now,
        "exp": now + 300,
    }
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwt.encode(claims, pem, "RS256", headers={"kid": kid, "typ": "JWT"})


async def test_tokens_of_the_staff_identity_provider_are_accepted_by_its_jwks(
    gateway_settings: Settings, tmp_path: Path
) -> None:
    key, jwks = staff_idp_key(tmp_path)
    settings = gateway_settings.model_copy(
        update={
            "auth_external_issuer": "https://staff-idp.example",
            "auth_external_jwks": str(jwks),
        }
    )
    async with running_app(create_app(settings)) as gateway:
        accepted = await gateway.get(URL, headers={"Authorization": f"Bearer {staff_token(key)}"})
        unknown_kid = await gateway.get(
            URL, headers={"Authorization": f"Bearer {staff_token(key, kid='other')}"}
        )
        wrong_issuer = await gateway.get(
            URL, headers={"Authorization": f"Bearer {staff_token(key, issuer='https://evil')}"}
        )
    assert accepted.status_code == 200, accepted.text
    assert unknown_kid.status_code == 401
    assert wrong_issuer.status_code == 401
    assert "issuer" in wrong_issuer.json()["detail"]


async def test_the_staff_jwks_is_fetched_from_a_url_and_cached(
    gateway_settings: Settings, tmp_path: Path
) -> None:
    key, jwks = staff_idp_key(tmp_path)
    idp = StubUpstream("idp", openapi=json.loads(jwks.read_text()))
    await idp.start()
    settings = gateway_settings.model_copy(
        update={
            "auth_external_issuer": "https://staff-idp.example",
            "auth_external_jwks": idp.url + "/openapi.json",
        }
    )
    try:
        async with running_app(create_app(settings)) as gateway:
            headers = {"Authorization": f"Bearer {staff_token(key)}"}
            first = await gateway.get(URL, headers=headers)
            await idp.stop()
            second = await gateway.get(URL + "/2", headers=headers)
    finally:
        await idp.stop()
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text

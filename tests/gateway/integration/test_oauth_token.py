"""Client credentials: partner systems exchange id + secret for a short-lived RFC 9068 token."""

import base64
from urllib.parse import quote_plus

import httpx
import jwt
import pytest

from services.gateway import clients
from services.gateway.main import create_app
from shared.db import create_engine, create_session_factory

pytestmark = pytest.mark.integration


async def register(database_url: str, scopes: str = "referrals:read referrals:write", **kw):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await clients.create_client(
                session, name="Police RMS", organisation="CLEVELAND-POLICE", scopes=scopes, **kw
            )
    finally:
        await engine.dispose()


async def change(database_url: str, action, client_id: str):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await action(session, client_id=client_id)
    finally:
        await engine.dispose()


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def token_response(gateway: httpx.AsyncClient, form: dict, headers=None) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await gateway.post("/oauth/token", data=form, headers=headers or {})


async def test_a_client_gets_a_short_lived_at_jwt_with_its_organisation_and_scopes(
    gateway: httpx.AsyncClient, sqlite_url: str
) -> None:
    issued = await register(sqlite_url)
    response = await token_response(
        gateway, {"grant_type": "client_credentials"}, basic(issued.client.client_id, issued.secret)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "referrals:read referrals:write"
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["org"] == "CLEVELAND-POLICE"
    assert claims["client_id"] == claims["sub"] == issued.client.client_id
    assert claims["exp"] - claims["iat"] == 900

    created = await gateway.post(
        "/api/v1/referrals", json={}, headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert created.status_code == 201


async def test_credentials_in_the_form_body_work_too_and_scopes_can_be_narrowed(
    gateway: httpx.AsyncClient, sqlite_url: str
) -> None:
    issued = await register(sqlite_url)
    form = {
        "grant_type": "client_credentials",
        "client_id": issued.client.client_id,
        "client_secret": issued.secret,
        "scope": "referrals:read",
    }
    response = await token_response(gateway, form)
    assert response.status_code == 200
    assert response.json()["scope"] == "referrals:read"
    token = response.json()["access_token"]
    refused = await gateway.post(
        "/api/v1/referrals", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403


async def test_a_wrong_secret_or_unknown_client_is_invalid_client(
    gateway: httpx.AsyncClient, sqlite_url: str
) -> None:
    issued = await register(sqlite_url)
    grant = {"grant_type": "client_credentials"}
    wrong = await token_response(gateway, grant, basic(issued.client.client_id, "guess"))
    unknown = await token_response(gateway, grant, basic("lh_nobody", issued.secret))
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"scope": "referrals:read"}, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "admin"}, "invalid_scope"),
    ],
)
async def test_bad_grant_requests_get_rfc_6749_errors(
    gateway: httpx.AsyncClient, sqlite_url: str, form: dict, error: str
) -> None:
    issued = await register(sqlite_url)
    response = await token_response(gateway, form, basic(issued.client.client_id, issued.secret))
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_basic_and_form_credentials_together_are_an_invalid_request(
    gateway: httpx.AsyncClient, sqlite_url: str
) -> None:
    issued = await register(sqlite_url)
    form = {
        "grant_type": "client_credentials",
        "client_id": issued.client.client_id,
        "client_secret": issued.secret,
    }
    response = await token_response(gateway, form, basic(issued.client.client_id, issued.secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_a_json_body_is_an_invalid_request(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_after_rotation_only_the_new_secret_works(
    gateway: httpx.AsyncClient, sqlite_url: str
) -> None:
    issued = await register(sqlite_url)
    rotated = await change(sqlite_url, clients.rotate_secret, issued.client.client_id)
    grant = {"grant_type": "client_credentials"}
    old = await token_response(gateway, grant, basic(issued.client.client_id, issued.secret))
    new = await token_response(gateway, grant, basic(issued.client.client_id, rotated.secret))
    assert old.status_code == 401
    assert new.status_code == 200


async def test_a_revoked_client_gets_no_token_and_its_tokens_stop_working(
    gateway: httpx.AsyncClient, sqlite_url: str
) -> None:
    issued = await register(sqlite_url)
    grant = {"grant_type": "client_credentials"}
    credentials = basic(issued.client.client_id, issued.secret)
    token = (await token_response(gateway, grant, credentials)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await gateway.get("/api/v1/referrals", headers=bearer)).status_code == 200

    await change(sqlite_url, clients.revoke_client, issued.client.client_id)
    assert (await token_response(gateway, grant, credentials)).status_code == 401
    from tests.harness import wait_until

    async def refused() -> bool:
        return (await gateway.get("/api/v1/referrals", headers=bearer)).status_code == 401

    await wait_until(refused, timeout_s=5)


async def test_clients_are_stored_on_postgresql_too(
    gateway_settings,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    from tests.harness import running_app

    settings = gateway_settings.model_copy(update={"database_url": database_url})
    async with running_app(create_app(settings)) as gateway:
        issued = await register(database_url)
        response = await token_response(
            gateway,
            {"grant_type": "client_credentials"},
            basic(issued.client.client_id, issued.secret),
        )
        ready = await gateway.get("/readyz")
    assert response.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


async def test_token_requests_from_one_address_are_rate_limited(
    gateway_settings,
    sqlite_url: str,  # type: ignore[no-untyped-def]
) -> None:
    from tests.harness import running_app

    settings = gateway_settings.model_copy(
        update={"token_attempts_quota": 2, "token_attempts_window_s": 60}
    )
    async with running_app(create_app(settings)) as gateway:
        grant = {"grant_type": "client_credentials"}
        statuses = []
        for _ in range(3):
            response = await token_response(gateway, grant, basic("lh_guess", "guess"))
            statuses.append(response.status_code)
    assert statuses == [401, 401, 429]
    assert response.headers["retry-after"] == "30"
    assert response.headers["content-type"] == "application/problem+json"

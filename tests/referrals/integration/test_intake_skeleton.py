"""Intake over HTTP: stored, evented through the outbox, bad input refused without a trace."""

import pytest
from httpx import AsyncClient

from tests.event_waits import event_matching, wait_for_events
from tests.harness import TokenMinter, wait_until

pytestmark = pytest.mark.integration

WRITE = "referrals:read referrals:write"


def referral(**overrides: object) -> dict:
    body = {
        "locality_code": "NO",
        "channel": "phone",
        "category_codes": ["anti_social_behaviour"],
        "summary": "Noise and youths gathering outside the shop",
    }
    body.update(overrides)
    return body


async def test_a_received_referral_is_stored_with_a_readable_reference(
    referrals: AsyncClient, mint: TokenMinter
) -> None:
    headers = mint.headers("NO-HUB", WRITE)
    created = await referrals.post("/api/v1/referrals", json=referral(), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["reference"].startswith("NO-")
    assert body["reference"].endswith("-000001")
    assert body["status"] == "received"

    read = await referrals.get(f"/api/v1/referrals/{body['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json()["summary"] == "Noise and youths gathering outside the shop"


async def test_a_received_referral_emits_an_event_without_personal_text(
    referrals: AsyncClient, mint: TokenMinter, kafka: str
) -> None:
    created = await referrals.post(
        "/api/v1/referrals",
        json=referral(locality_code="NP"),
        headers=mint.headers("NP-HUB", WRITE),
    )
    referral_id = created.json()["id"]

    mine = await wait_for_events(
        kafka, "referrals.referral", match=event_matching(subject=referral_id)
    )
    assert [e.type for e in mine] == ["referrals.referral.received.v1"]
    assert mine[0].data["locality_code"] == "NP"
    assert "summary" not in mine[0].data


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (referral(locality_code="XX"), "locality_code"),
        (referral(channel="carrier_pigeon"), "channel"),
        (referral(category_codes="asb"), "category_codes"),
        (referral(summary=None), "summary"),
        ({k: v for k, v in referral().items() if k != "summary"}, "summary"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(
    referrals: AsyncClient, mint: TokenMinter, body: dict, field: str
) -> None:
    headers = mint.headers("NO-HUB", WRITE)
    response = await referrals.post("/api/v1/referrals", json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]

    created = await referrals.post("/api/v1/referrals", json=referral(), headers=headers)
    assert created.json()["reference"].endswith("-000001")  # the refused one took no number


async def test_malformed_json_is_a_400_problem(referrals: AsyncClient, mint: TokenMinter) -> None:
    response = await referrals.post(
        "/api/v1/referrals",
        content=b'{"locality_code": "NO",',
        headers={**mint.headers("NO-HUB", WRITE), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Malformed JSON"


async def test_calls_without_a_valid_token_are_refused(
    referrals: AsyncClient, mint: TokenMinter
) -> None:
    assert (await referrals.post("/api/v1/referrals", json=referral())).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert (
        await referrals.post("/api/v1/referrals", json=referral(), headers=bad)
    ).status_code == 401
    read_only = mint.headers("NO-HUB", "referrals:read")
    response = await referrals.post("/api/v1/referrals", json=referral(), headers=read_only)
    assert response.status_code == 403


async def test_health_needs_no_token_and_readiness_checks_database_and_kafka(
    referrals: AsyncClient,
) -> None:
    assert (await referrals.get("/livez")).json() == {"status": "ok"}

    async def ready() -> dict | None:
        body = (await referrals.get("/readyz")).json()
        return body if body["status"] == "ready" else None

    assert (await wait_until(ready))["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "kafka": "ok",
        "consumers": "ok",
    }

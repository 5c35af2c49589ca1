"""gateway -> referrals -> outbox -> Kafka -> metrics -> gateway, on real processes."""

import time
import uuid

import httpx
import pytest

from deploy.local.system import LocalSystem

pytestmark = pytest.mark.e2e

SCOPES = "referrals:read referrals:write metrics:read"


def count_for(client: httpx.Client, locality: str) -> int:
    response = client.get("/api/v1/derived/referrals-received", params={"locality": locality})
    response.raise_for_status()
    items = response.json()["items"]
    return items[0]["referrals_received"] if items else 0


def create_referral(client: httpx.Client, locality: str) -> httpx.Response:
    return client.post(
        "/api/v1/referrals",
        json={
            "locality_code": locality,
            "channel": "partner_system",
            "category_codes": ["anti_social_behaviour"],
            "summary": "Reported by the police partner system",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )


def wait_for_count(
    client: httpx.Client, locality: str, expected: int, timeout_s: float = 60
) -> int:
    deadline = time.monotonic() + timeout_s
    seen = count_for(client, locality)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = count_for(client, locality)
    return seen


@pytest.fixture
def client(system: LocalSystem) -> httpx.Client:
    token = system.mint_token("CLEVELAND-POLICE", SCOPES)
    with httpx.Client(
        base_url=system.gateway_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def test_a_referral_made_through_the_gateway_is_counted_by_metrics(client: httpx.Client) -> None:
    before = count_for(client, "NP")
    created = create_referral(client, "NP")
    assert created.status_code == 201, created.text

    assert wait_for_count(client, "NP", before + 1) == before + 1


def test_referrals_made_while_the_broker_is_down_are_each_counted_once_after_it_returns(
    system: LocalSystem, client: httpx.Client
) -> None:
    before = count_for(client, "DNE")
    assert system.broker is not None
    system.broker.stop()
    try:
        for _ in range(3):
            assert (
                create_referral(client, "DNE").status_code == 201
            )  # stored; event waits in outbox
        time.sleep(1)
        assert count_for(client, "DNE") == before
    finally:
        system.broker.start()

    assert wait_for_count(client, "DNE", before + 3, timeout_s=90) == before + 3
    time.sleep(3)  # anything counted twice would show up by now
    assert count_for(client, "DNE") == before + 3

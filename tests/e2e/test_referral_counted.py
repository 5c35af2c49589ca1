"""gateway -> referrals -> outbox -> Kafka -> metrics -> gateway, on real processes."""

import asyncio
import time
import uuid

import httpx
import pytest

from deploy.local.system import LocalSystem
from tests.event_waits import wait_for_events

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
    client: httpx.Client,
    locality: str,
    expected: int,
    timeout_s: float = 60,
    *,
    at_least: bool = False,
) -> int:
    """Poll until the count is `expected` (or more, `at_least`); the deadline bounds failure."""
    deadline = time.monotonic() + timeout_s
    seen = count_for(client, locality)
    while not (seen >= expected if at_least else seen == expected):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
        seen = count_for(client, locality)
    return seen


def gateway_client(system: LocalSystem) -> httpx.Client:
    token = system.mint_token("CLEVELAND-POLICE", SCOPES)
    return httpx.Client(
        base_url=system.gateway_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


def test_a_referral_made_through_the_gateway_is_counted_by_metrics(system: LocalSystem) -> None:
    with gateway_client(system) as client:
        before = count_for(client, "NP")
        created = create_referral(client, "NP")
        assert created.status_code == 201, created.text
        referral_id = created.json()["id"]
        # Other tests count NP referrals too, so the wait is for this referral's event first.
        [received] = asyncio.run(
            wait_for_events(
                system.kafka_bootstrap_servers,
                "referrals.referral",
                match=lambda e: e.subject == referral_id,
            )
        )
        assert received.type == "referrals.referral.received.v1"
        assert wait_for_count(client, "NP", before + 1, at_least=True) >= before + 1

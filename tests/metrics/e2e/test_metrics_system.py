"""The whole system as the runner starts it: demo metrics through the gateway, events via Kafka."""

import asyncio
import csv
import io
import uuid

import httpx
import pytest

from deploy.local import demo_metrics
from deploy.local.system import LocalSystem
from shared.auth import ALL_SCOPES
from shared.contracts import referrals
from shared.events import new_event
from tests.event_waits import wait_for_events
from tests.harness import publish, wait_until

pytestmark = pytest.mark.e2e

NEWPORT_DAY = {31.18, 35.49, 68.65}  # feeling safe by day, Newport, from the seed documents
TEST_WEEK = "2001-03-05"  # a Monday


def received_in_test_week(client: httpx.Client) -> int | None:
    """Referrals received in Doncaster East in the test's week, once one is counted."""
    response = client.get(
        "/api/v1/derived/referrals_received",
        params={"locality": "DNE", "granularity": "week", "from": TEST_WEEK, "to": "2001-03-11"},
    )
    response.raise_for_status()
    items = response.json()["items"]
    return int(items[0]["series"][0]["value"]) if items else None


def test_demo_metrics_load_through_the_gateway_and_the_scorecard_reads_as_the_reports(
    system: LocalSystem,
) -> None:
    kafka = system.kafka_bootstrap_servers
    token = system.mint_token("DEMO-HUB", ALL_SCOPES)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=system.gateway_url, headers=headers, timeout=30) as client:
        demo_metrics.load(
            client,
            lambda org: {"Authorization": f"Bearer {system.mint_token(org, ALL_SCOPES)}"},
        )
        exported = client.get("/api/v1/localities/NP/scorecard", headers={"Accept": "text/csv"})
        areas = client.get("/api/v1/areas/MBRO").json()
        report = client.get("/api/v1/localities/NP/report", headers={"Accept": "text/html"})

        # A configured locality (an unknown one is a 404) in a week no other test uses.
        received = referrals.ReferralReceivedV1(
            referral_id=f"DNE-{uuid.uuid4().hex}",
            reference="DNE-2001-000001",
            locality_code="DNE",
            organisation="MBC",
            channel="walk_in",
            category_codes=["anti_social_behaviour"],
            received_at=f"{TEST_WEEK}T10:00:00Z",
        )
        event = new_event(
            referrals.SOURCE, referrals.REFERRAL_RECEIVED_V1, received.referral_id, received
        )
        asyncio.run(publish(kafka, event, event))
        counted = asyncio.run(wait_until(lambda: received_in_test_week(client), timeout_s=60))

    rows = {row["indicator_code"]: row for row in csv.DictReader(io.StringIO(exported.text))}
    day = rows["feel_safe_day"]
    assert (day["baseline_value"], day["latest_value"], day["status"]) == (
        "31.18",
        "68.65",
        "improving",
    )
    assert rows["asb_incidents"]["status"] == "improving"
    assert areas["gss_code"] == "E06000002"
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "Latest 68.7% (Wave 3 (Oct 2021)); baseline 31.2% (Wave 1 (Sep 2020))" in report.text
    assert counted == 1

    recorded = asyncio.run(
        wait_for_events(
            kafka,
            "metrics.observation",
            match=lambda e: (
                (e.data["indicator_code"], e.data["area_code"]) == ("feel_safe_day", "NP")
                and e.data["value"] in NEWPORT_DAY
            ),
            count=len(NEWPORT_DAY),
        )
    )
    assert {e.data["value"] for e in recorded} == NEWPORT_DAY

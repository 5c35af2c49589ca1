"""The whole system as the runner starts it: demo metrics through the gateway, events via Kafka."""

import asyncio
import csv
import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.local import demo_metrics
from deploy.local.system import LocalSystem, SystemConfig
from shared.auth import ALL_SCOPES
from shared.contracts import referrals
from shared.events import new_event
from tests.harness import publish, read_events

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def system(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    data_dir = Path(tmp_path_factory.mktemp("metrics-system"))
    config = SystemConfig.on_free_ports(data_dir, kafka_bootstrap_servers=kafka)
    started = LocalSystem(config).start()
    try:
        yield started
    finally:
        started.stop()


def test_demo_metrics_load_through_the_gateway_and_the_scorecard_reads_as_the_reports(
    system: LocalSystem, kafka: str
) -> None:
    token = system.mint_token("DEMO-HUB", ALL_SCOPES)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=system.gateway_url, headers=headers, timeout=30) as client:
        demo_metrics.load(client)
        exported = client.get("/api/v1/localities/NP/scorecard", headers={"Accept": "text/csv"})
        areas = client.get("/api/v1/areas/MBRO").json()

        locality = "T" + uuid.uuid4().hex[:6].upper()
        received = referrals.ReferralReceivedV1(
            referral_id=f"{locality}-1",
            reference="NP-2026-000001",
            locality_code=locality,
            organisation="MBC",
            channel="walk_in",
            category_codes=["anti_social_behaviour"],
            received_at="2026-03-02T10:00:00Z",
        )
        event = new_event(
            referrals.SOURCE, referrals.REFERRAL_RECEIVED_V1, received.referral_id, received
        )
        asyncio.run(publish(kafka, event, event))
        counted = None
        for _ in range(100):
            response = client.get(f"/api/v1/derived/referrals-received?locality={locality}")
            if response.json()["items"]:
                counted = response.json()["items"][0]["referrals_received"]
                break
            time.sleep(0.2)

    rows = {row["indicator_code"]: row for row in csv.DictReader(io.StringIO(exported.text))}
    day = rows["feel_safe_day"]
    assert (day["baseline_value"], day["latest_value"], day["status"]) == (
        "31.18",
        "68.65",
        "improving",
    )
    assert rows["asb_incidents"]["status"] == "improving"
    assert areas["gss_code"] == "E06000002"
    assert counted == 1

    recorded = asyncio.run(read_events(kafka, "metrics.observation", count=10_000, timeout_s=3))
    newport_day = [
        e.data["value"]
        for e in recorded
        if e.data["indicator_code"] == "feel_safe_day" and e.data["area_code"] == "NP"
    ]
    assert {31.18, 35.49, 68.65} <= set(newport_day)

"""What an operator sees of a domain service: JSON log lines, request ids on errors,
personal data kept out of logs, readiness that degrades rather than fails, /metrics."""

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from services.referrals.config import Settings
from services.referrals.main import create_app
from shared.logs import JsonFormatter
from tests import harness
from tests.harness import TokenMinter, running_app, wait_until
from tests.referrals.workflow import Hub, referral_body

pytestmark = pytest.mark.integration

PERSONAL = {
    "referrer_name": "Sarah Leeworthy",
    "contact": "sarah.leeworthy@example.org",
    "subject_name": "Tenants of 12 Derwent St",
    "address": "12 Derwent Street, North Ormesby",
    "postcode": "TS3 6LA",
    "description": "Eight tenants, two bins, rats seen",
}


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line of the process at DEBUG, formatted as the services write them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


async def test_personal_data_never_reaches_a_log_line(hub: Hub, log_lines: io.StringIO) -> None:
    body = referral_body(
        description=PERSONAL["description"],
        referrer={
            "name": PERSONAL["referrer_name"],
            "organisation": "Cleveland Police",
            "contact": PERSONAL["contact"],
        },
        subject={
            "person": {"kind": "household", "name": PERSONAL["subject_name"]},
            "place": {"address": PERSONAL["address"], "postcode": PERSONAL["postcode"]},
        },
    )
    created = await hub.client.post(
        "/api/v1/referrals", json=body, headers=hub.as_("NO-HUB", "referrals:write")
    )
    assert created.status_code == 201, created.text
    read = await hub.read(created.json()["id"])
    assert read.status_code == 200
    assert PERSONAL["address"] in read.text  # the answer has it; the log must not
    invalid = await hub.client.post(
        "/api/v1/referrals",
        json={**body, "channel": PERSONAL["referrer_name"]},
        headers=hub.as_("NO-HUB", "referrals:write"),
    )
    assert invalid.status_code == 422
    written = log_lines.getvalue()
    assert written, "nothing was logged: the test would prove nothing"
    for value in PERSONAL.values():
        assert value not in written


async def test_every_line_is_json_with_the_request_id_and_the_caller(
    hub: Hub, log_lines: io.StringIO
) -> None:
    response = await hub.client.post(
        "/api/v1/referrals",
        json=referral_body(),
        headers={**hub.as_("NO-HUB", "referrals:write"), "X-Request-ID": "ops-check-1"},
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "ops-check-1"
    lines = [line for line in parsed(log_lines) if line.get("request_id") == "ops-check-1"]
    access = [line for line in lines if line["logger"] == "access"]
    assert len(access) == 1
    assert access[0]["http_route"] == "/api/v1/referrals"
    assert access[0]["http_status"] == 201
    assert access[0]["level"] == "INFO"
    assert access[0]["organisation"] == "NO-HUB"
    assert access[0]["service"] == "referrals"
    assert len(access[0]["trace_id"]) == 32
    assert len(access[0]["span_id"]) == 16


async def test_health_checks_are_not_logged_at_info(hub: Hub, log_lines: io.StringIO) -> None:
    await hub.client.get("/livez")
    await hub.client.get("/readyz")
    health = [line for line in parsed(log_lines) if line["logger"] == "access"]
    assert {line["level"] for line in health} == {"DEBUG"}


async def test_a_500_carries_the_request_id_in_header_body_and_the_logged_traceback(
    hub: Hub, log_lines: io.StringIO
) -> None:
    async def fail() -> None:
        raise RuntimeError("disk on fire")

    hub.app.router.add_api_route("/boom", fail)
    response = await hub.client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "boom-1"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == "boom-1"
    errors = [line for line in parsed(log_lines) if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "boom-1"
    assert "RuntimeError: disk on fire" in errors[0]["exception"]


@pytest.fixture
def broker_down_settings(sqlite_url: str, public_key: Path, tmp_path: Path) -> Settings:
    return Settings(
        **harness.test_settings_values(tmp_path, sqlite_url, "127.0.0.1:9", public_key),
        overdue_check_interval_s=0,
    )


async def test_with_the_broker_down_the_service_is_ready_but_degraded_and_keeps_events(
    broker_down_settings: Settings, mint: TokenMinter
) -> None:
    async with running_app(create_app(broker_down_settings)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"] == {
            "database": "ok",
            "migrations": "ok",
            "kafka": "failing",
            "consumers": "ok",
        }
        created = await client.post(
            "/api/v1/referrals",
            json=referral_body(),
            headers=mint.headers("NO-HUB", "referrals:write"),
        )
        assert created.status_code == 201
        scrape = (await client.get("/metrics")).text
    assert 'dependency_up{dependency="kafka",service="referrals"} 0.0' in scrape
    assert 'outbox_unpublished_events{service="referrals"} 1.0' in scrape
    assert "outbox_oldest_unpublished_age_seconds" in scrape


async def test_a_schema_behind_the_code_makes_the_service_not_ready(
    referrals_settings: Settings,
) -> None:
    app = create_app(referrals_settings)
    async with running_app(app) as client:

        async def migrations_ok() -> bool:
            return (await client.get("/readyz")).json()["checks"]["migrations"] == "ok"

        # The first answer may come while the machine is busy starting the app.
        await wait_until(migrations_ok)
        async with app.state.runtime.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"]["migrations"] == "failing"


async def test_metrics_count_requests_by_route_template_not_by_id(hub: Hub) -> None:
    created = await hub.create()
    await hub.read(created["id"])
    scrape = await hub.client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    text_ = scrape.text
    assert 'route="/api/v1/referrals/{referral_id}"' in text_
    assert created["id"] not in text_
    assert "http_request_duration_seconds_bucket" in text_
    assert "db_pool_connections_in_use" in text_


async def test_published_events_are_counted_per_topic(hub: Hub) -> None:
    async def published() -> bool:
        scrape = (await hub.client.get("/metrics")).text
        return 'outbox_events_published_total{topic="referrals.referral"}' in scrape

    await hub.create()
    assert await wait_until(published)


def overdue_breaches() -> float:
    return (
        REGISTRY.get_sample_value("overdue_clock_breaches_total", {"kind": "referral_clock"}) or 0.0
    )


async def test_each_overdue_clock_is_counted_once_as_a_breach(hub: Hub) -> None:
    late = (await hub.create())["id"]
    await hub.triage(late)
    before = overdue_breaches()
    hub.now += timedelta(hours=8)  # past 17:00 BST: the see-and-solve clock has run out
    checks = [
        await hub.client.post("/api/v1/referrals/overdue-checks", headers=hub.as_("NO-HUB"))
        for _ in range(2)
    ]
    assert [check.json()["notified"] for check in checks] == [1, 0]
    assert overdue_breaches() == before + 1

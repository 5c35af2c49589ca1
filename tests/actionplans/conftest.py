from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.actionplans.config import Settings
from services.actionplans.main import SPEC, create_app
from services.actionplans.models import ProcessedEvent
from services.actionplans.service.live_status import HANDLERS
from shared.contracts.metrics import OBSERVATION_RECORDED_V1, ObservationRecordedV1, subject_key
from shared.contracts.metrics import SOURCE as METRICS_SOURCE
from shared.events import EventEnvelope, new_event
from shared.inbox import claim_event
from tests.harness import TokenMinter, running_app, test_settings_values

POLICE = "CLEVELAND-POLICE"
COUNCIL = "MIDDLESBROUGH-COUNCIL"
HOUSING = "THIRTEEN-HOUSING"
OUTSIDER = "DONCASTER-COUNCIL"
READ_WRITE = "actionplans:read actionplans:write"


@pytest.fixture
def database_schema() -> Path:
    """Databases start at the actionplans schema's head (a copy, migrated once per run)."""
    return SPEC.migrations_dir


@pytest.fixture
def actionplans_settings(
    database_url: str, kafka: str, public_key: Path, tmp_path: Path
) -> Settings:
    # A consumer group per test: each test's service reads the shared topics from the start.
    return Settings(
        **test_settings_values(tmp_path, database_url, kafka, public_key),
        consumer_group=f"actionplans-{tmp_path.name}",
        overdue_check_interval_s=3600,
    )


@pytest.fixture
async def actionplans_app(actionplans_settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(actionplans_settings)
    async with running_app(app) as client:
        app.state.client = client
        yield app


@pytest.fixture
def actionplans(actionplans_app: FastAPI) -> httpx.AsyncClient:
    """The actionplans service running in-process on a fresh database (SQLite and PostgreSQL)."""
    return actionplans_app.state.client


@pytest.fixture
def police(mint: TokenMinter) -> dict[str, str]:
    return mint.headers(POLICE, READ_WRITE)


def plan_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "People feel safe",
        "locality_code": "NP",
        "objective_codes": ["people_feel_safe"],
        "lead_person": "Neighbourhood Inspector, Newport",
        "lead_organisation": POLICE,
        "member_organisations": [COUNCIL],
        "status": "active",
    }
    return body | overrides


def target_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "indicator_code": "feel_safe_day",
        "baseline_value": 31.18,
        "baseline_period": "Sept 2020",
        "baseline_on": "2020-09-30",
        "target_value": 60.0,
        "target_date": "2022-03-31",
        "amber_tolerance": 5.0,
        "desired_direction": "up",
    }
    return body | overrides


async def create_plan(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/action-plans", json=plan_body(**overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def create_target(
    client: httpx.AsyncClient, headers: dict[str, str], plan_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/action-plans/{plan_id}/targets", json=target_body(**overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def iso(day: date) -> str:
    return day.isoformat()


def observation(
    indicator_code: str,
    area_code: str,
    value: float,
    period_end: date,
    *,
    direction: str = "up",
    unit: str = "percent",
    revision: int = 1,
    label: str | None = None,
) -> EventEnvelope:
    """A metrics observation event, built with the shared contract as the metrics service does."""
    payload = ObservationRecordedV1(
        observation_id=f"{indicator_code}:{area_code}:{period_end}:{revision}",
        indicator_code=indicator_code,
        area_code=area_code,
        period_start=period_end.replace(day=1),
        period_end=period_end,
        period_label=label or period_end.strftime("%b %Y"),
        value=value,
        unit=unit,
        desired_direction=direction,
        revision=revision,
        recorded_at=datetime.now(UTC),
    )
    return new_event(
        METRICS_SOURCE, OBSERVATION_RECORDED_V1, subject_key(indicator_code, area_code), payload
    )


async def deliver(app: FastAPI, envelope: EventEnvelope) -> None:
    """Apply an incoming event the way the consumer does: handler and inbox in one transaction."""
    runtime = app.state.runtime
    async with runtime.sessions() as session, session.begin():
        if await claim_event(session, ProcessedEvent, runtime.settings.consumer_group, envelope):
            await HANDLERS[envelope.type](session, envelope)

"""Concurrent changes naming one ETag: exactly one wins, the rest get 412, and only the winner
leaves a history row and an event (compare-and-set inside the write, SQLite and PostgreSQL)."""

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.actionplans.models import OutboxEvent
from shared.contracts.actionplans import PLAN_STATUS_CHANGED_V1
from tests.actionplans.conftest import create_plan, create_target

pytestmark = pytest.mark.integration

ROUNDS = 20
RACERS = 8


async def _race(
    client: httpx.AsyncClient, method: str, url: str, bodies: list[Any], headers: dict[str, str]
) -> Counter[int]:
    """Send every body at once with the ETag read just before; count the statuses."""
    read_url = url.removesuffix("/versions")
    if_match = (await client.get(read_url, headers=headers)).headers["ETag"]
    responses = await asyncio.gather(
        *(
            client.request(method, url, json=body, headers=headers | {"If-Match": if_match})
            for body in bodies
        )
    )
    unexpected = [r.text for r in responses if r.status_code not in (200, 201, 412)]
    assert not unexpected, unexpected
    return Counter(412 if r.status_code == 412 else 200 for r in responses)


async def _history(client: httpx.AsyncClient, plan_id: str, headers: dict[str, str]) -> Counter:
    response = await client.get(
        f"/api/v1/action-plans/{plan_id}/history", params={"limit": 100}, headers=headers
    )
    assert response.status_code == 200, response.text
    return Counter(entry["change"] for entry in response.json()["items"])


async def _events(app: FastAPI) -> Counter[str]:
    async with app.state.runtime.sessions() as session:
        rows = await session.execute(
            select(OutboxEvent.event_type, func.count()).group_by(OutboxEvent.event_type)
        )
        return Counter({event_type: count for event_type, count in rows.all()})


async def test_of_eight_concurrent_plan_and_target_changes_exactly_one_wins(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    for round_number in range(ROUNDS):
        plan = await create_plan(actionplans, police, status="draft")
        plan_url = f"/api/v1/action-plans/{plan['id']}"
        # An indicator of this test alone: the service reads the shared topics from the start, and
        # another test's observation of a shared indicator would bump the target mid-race.
        target = await create_target(
            actionplans, police, plan["id"], indicator_code=f"race_{uuid.uuid4().hex[:12]}"
        )
        target_url = f"{plan_url}/targets/{target['id']}"

        history_before = await _history(actionplans, plan["id"], police)
        events_before = await _events(actionplans_app)
        rebaselines = [
            {"baseline_value": 30.0 + n, "baseline_period": f"Round {n}", "reason": f"Recount {n}"}
            for n in range(RACERS)
        ]
        statuses = await _race(actionplans, "POST", f"{target_url}/versions", rebaselines, police)
        assert statuses == Counter({200: 1, 412: RACERS - 1}), (round_number, statuses)
        history = await _history(actionplans, plan["id"], police) - history_before
        assert history == Counter({"target.rebaselined": 1}), (round_number, history)
        new_events = await _events(actionplans_app) - events_before
        assert all(count == 1 for count in new_events.values()), (round_number, new_events)

        events_before = await _events(actionplans_app)
        changes = [
            {"title": f"Change {n}", "status": "active" if n % 2 else "closed"}
            for n in range(RACERS)
        ]
        statuses = await _race(actionplans, "PATCH", plan_url, changes, police)
        assert statuses == Counter({200: 1, 412: RACERS - 1}), (round_number, statuses)
        updates = (await _history(actionplans, plan["id"], police))["plan.updated"]
        assert updates == 1, (round_number, updates)
        new_events = await _events(actionplans_app) - events_before
        assert new_events[PLAN_STATUS_CHANGED_V1] == 1, (round_number, new_events)
        assert all(count == 1 for count in new_events.values()), (round_number, new_events)

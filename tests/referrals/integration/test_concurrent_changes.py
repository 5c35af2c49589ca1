"""Concurrent changes naming one ETag: exactly one wins, the rest get 412, and only the winner
leaves a history row and an event (compare-and-set inside the write, SQLite and PostgreSQL)."""

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.referrals.models import OutboxEvent
from tests.referrals.workflow import TASK_BASIS, Hub

pytestmark = pytest.mark.integration

ROUNDS = 20
RACERS = 8
WARDENS = "STREET-WARDENS"
TRACKS = ["see_and_solve", "multi_agency", "signpost", "escalate_statutory"]


async def _race(
    hub: Hub,
    referral_id: str,
    changes: list[tuple[str, Any]],
    org: str,
    allowed: tuple[int, ...] = (200, 412),
) -> Counter[int]:
    """Fire every (path, body) change at once, all with the ETag read before; count statuses."""
    if_match = await hub.etag(referral_id, org)

    async def one(path: str, body: Any) -> httpx.Response:
        return await hub.act(referral_id, path, body, org=org, if_match=if_match)

    responses = await asyncio.gather(*(one(path, body) for path, body in changes))
    unexpected = [r.text for r in responses if r.status_code not in allowed]
    assert not unexpected, unexpected
    return Counter(r.status_code for r in responses)


async def _history(hub: Hub, referral_id: str) -> Counter:
    response = await hub.client.get(
        f"/api/v1/referrals/{referral_id}/history", headers=hub.as_("NO-HUB")
    )
    assert response.status_code == 200, response.text
    return Counter(entry["action"] for entry in response.json())


async def _events(hub: Hub, referral_id: str) -> Counter:
    async with hub.app.state.runtime.sessions() as session:
        rows = await session.execute(
            select(OutboxEvent.event_type, func.count())
            .where(OutboxEvent.key == referral_id)
            .group_by(OutboxEvent.event_type)
        )
        return Counter({event_type: count for event_type, count in rows.all()})


async def test_of_eight_concurrent_triage_decisions_exactly_one_wins(hub: Hub) -> None:
    for round_number in range(ROUNDS):
        referral_id = (await hub.create())["id"]
        decisions = [
            (
                "triage",
                {
                    "track": TRACKS[n % len(TRACKS)],
                    "rationale": f"Decision {n} of round {round_number}",
                    "lead_organisation": "NO-HUB",
                },
            )
            for n in range(RACERS)
        ]
        statuses = await _race(hub, referral_id, decisions, "NO-HUB")
        assert statuses == Counter({200: 1, 412: RACERS - 1}), (round_number, statuses)
        assert (await _history(hub, referral_id))["triaged"] == 1
        triaged = [t for t in await _events(hub, referral_id) if t.endswith("triaged.v1")]
        assert len(triaged) == 1
        assert (await _events(hub, referral_id))[triaged[0]] == 1


async def test_of_eight_concurrent_task_decisions_exactly_one_wins(hub: Hub) -> None:
    for round_number in range(ROUNDS):
        referral_id = (await hub.create())["id"]
        await hub.triage(referral_id, "multi_agency", lead_organisation="NO-HUB")
        assigned = await hub.act(
            referral_id,
            "tasks",
            {
                "organisation": WARDENS,
                "description": "Patrol",
                "due_at": "2026-06-05T16:00:00Z",
                **TASK_BASIS,
            },
        )
        assert assigned.status_code == 201, assigned.text
        task = f"tasks/{assigned.json()['id']}"
        events_before = await _events(hub, referral_id)

        # Half accept, half decline (each with its own reason): one decision stands.
        decisions: list[tuple[str, Any]] = [(f"{task}/accept", None)] * (RACERS // 2)
        decisions += [
            (f"{task}/decline", {"reason": f"No staff ({n})"}) for n in range(RACERS // 2)
        ]
        statuses = await _race(hub, referral_id, decisions, WARDENS, allowed=(200, 404, 412))
        history = await _history(hub, referral_id)
        assert history["task_accepted"] + history["task_declined"] == 1
        # A winning decline ends the wardens' access to the referral, so a loser that reads
        # it after that commit is told 404, as any later read would be; one that read it
        # before is told 412. Either way exactly one decision stands.
        losing_statuses = {412, 404} if history["task_declined"] else {412}
        assert statuses[200] == 1, (round_number, statuses)
        assert set(statuses) - {200} <= losing_statuses, (round_number, statuses)
        assert statuses.total() == RACERS
        if history["task_accepted"] == 0:
            continue
        outcomes = [
            (f"{task}/complete", {"outcome_code": "resolved", "note": f"Visit {n}"})
            for n in range(RACERS)
        ]
        completes = await _race(hub, referral_id, outcomes, WARDENS)
        assert completes == Counter({200: 1, 412: RACERS - 1}), (round_number, completes)
        assert (await _history(hub, referral_id))["task_completed"] == 1
        new_events = await _events(hub, referral_id) - events_before
        assert all(count == 1 for count in new_events.values()), new_events

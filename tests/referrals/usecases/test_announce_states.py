"""Re-announcing every referral's state: one event per referral, in pages, ids and codes only."""

import argparse
import asyncio
import json
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from services.referrals.domain import Track
from services.referrals.main import SPEC
from services.referrals.models import OutboxEvent
from services.referrals.schemas import ResolveRequest, TriageRequest
from services.referrals.service import casework
from services.referrals.service.announce import announce_referral_states
from shared.cli import add_service_commands
from shared.contracts import referrals as contract
from shared.operator_audit import recent_operator_actions
from shared.ops_cli import add_ops_commands, run_ops_command
from shared.ops_commands import OpsTarget
from tests.referrals.usecases.conftest import Desk, caller

pytestmark = pytest.mark.usecases

STATE = contract.REFERRAL_STATE_ANNOUNCED_V1


async def announced(desk: Desk) -> dict[str, dict]:
    async with desk.sessions() as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == STATE))
        return {row.key: _data(row) for row in rows}


def _data(row: OutboxEvent) -> dict:
    data: dict = orjson.loads(row.payload)
    return data


async def resolve(desk: Desk, referral_id: str) -> None:
    async with desk.sessions() as session:
        await casework.resolve_referral(
            session,
            caller=caller("NO-HUB", "referrals:read referrals:triage"),
            referral_id=referral_id,
            if_match=await desk.etag_of(referral_id),
            request=ResolveRequest(outcome_code="resolved"),
            now=desk.now + timedelta(hours=2),
        )


async def test_every_referral_is_announced_once_with_its_whole_state(desk: Desk) -> None:
    ids = [(await desk.receive(summary=f"Report {n}")).referral_id for n in range(5)]
    await desk.triage(ids[0], TriageRequest(track=Track.SEE_AND_SOLVE, rationale="Quick fix"))
    await resolve(desk, ids[0])

    outcome = await announce_referral_states(desk.sessions, now=lambda: desk.now, page_size=2)

    assert (outcome.referrals, outcome.pages) == (5, 3)
    states = await announced(desk)
    assert sorted(states) == sorted(ids)
    solved = contract.ReferralStateAnnouncedV1.model_validate(states[ids[0]])
    assert (solved.status, solved.track, solved.within_due) == ("resolved", "see_and_solve", True)
    assert solved.resolved_at == desk.now + timedelta(hours=2)
    waiting = contract.ReferralStateAnnouncedV1.model_validate(states[ids[1]])
    assert (waiting.status, waiting.track, waiting.resolved_at) == ("received", None, None)
    # Ids, codes and times only: the summary a person typed never goes on the wire.
    assert not any("Report" in str(value) for state in states.values() for value in state.values())


async def test_announcing_can_be_narrowed_to_a_locality_and_a_start(desk: Desk) -> None:
    await desk.receive(locality_code="NO")
    later = desk.now + timedelta(days=3)
    desk.now = later
    recent = (await desk.receive(locality_code="NO")).referral_id
    await desk.receive(locality_code="NP")

    outcome = await announce_referral_states(
        desk.sessions, now=lambda: later, received_since=later, locality_code="NO"
    )

    assert outcome.referrals == 1
    assert list(await announced(desk)) == [recent]


async def test_the_operator_command_announces_and_puts_itself_on_the_record(
    desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    await desk.receive()
    await desk.receive()
    settings = desk.settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'usecase.sqlite3'}"}
    )
    target = OpsTarget(settings, OutboxEvent, (), SPEC.state_announcer)
    parser = argparse.ArgumentParser()
    add_ops_commands(add_service_commands(parser))

    async def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        args = parser.parse_args(["outbox", "announce-state", *argv, "--json"])
        code = await asyncio.to_thread(run_ops_command, args, target)
        return code, capsys.readouterr().out

    code, out = await run("--reason", "metrics restored from last week's backup")
    assert code == 0
    assert json.loads(out)["announced"] == 2
    assert len(await announced(desk)) == 2
    async with desk.sessions() as session:
        [action] = await recent_operator_actions(session, limit=5)
    assert (action.action, action.reason) == (
        "outbox.announce-state",
        "metrics restored from last week's backup",
    )
    # Nothing matched: exit 1, for scripts.
    assert (await run("--locality", "NP", "--reason", "rebuild Newport"))[0] == 1
    with pytest.raises(SystemExit):  # the reason is required: a usage error, exit 2
        parser.parse_args(["outbox", "announce-state"])

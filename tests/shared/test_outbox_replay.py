"""`outbox republish --since` queues the kept events since a time for the relay again."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from services.referrals.config import Settings
from services.referrals.main import SPEC
from services.referrals.models import OutboxEvent
from shared.cli import run_service_cli
from shared.db import create_engine, create_session_factory
from shared.events import EventEnvelope
from shared.migrations import upgrade_to_head
from shared.outbox import add_event

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def test_republish_since_a_time_requeues_only_the_events_created_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'referrals.sqlite3'}"
    engine = create_engine(url)
    await upgrade_to_head(engine, SPEC.migrations_dir)
    sessions = create_session_factory(engine)
    events = [
        EventEnvelope(
            source="/referrals",
            type="referrals.referral.received.v1",
            subject=f"r{n}",
            time=START + timedelta(minutes=n),
        )
        for n in range(4)
    ]
    async with sessions() as session, session.begin():
        for event in events:
            add_event(session, OutboxEvent, event)
    async with sessions() as session, session.begin():
        await session.execute(update(OutboxEvent).values(published_at=START + timedelta(hours=1)))

    monkeypatch.setenv("REFERRALS_DATABASE_URL", url)
    # The CLI runs its own event loop, as it does from a shell.
    exit_code = await asyncio.to_thread(
        run_service_cli,
        SPEC,
        Settings,
        "services.referrals.main",
        ["outbox", "republish", "--since", "2026-11-23T10:02:00Z", "--reason", "broker lost data"],
    )
    assert exit_code == 0

    async with sessions() as session:
        rows = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))).all()
    await engine.dispose()
    assert [row.published_at is None for row in rows] == [False, False, True, True]

"""The metrics handlers applied as one consumer batch: same facts, queries per batch not event."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.metrics.models import ReferralFact
from services.metrics.service import consumed_batch
from services.metrics.service.consumed import HANDLERS
from shared.contracts import referrals
from shared.events import EventEnvelope, new_event
from tests.usecases import sessions_on_copy

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def lives(count: int) -> list[EventEnvelope]:
    """Received, triaged, resolved for each referral; the first also reopened and overdue."""
    envelopes = []
    for n in range(count):
        common: dict[str, Any] = {
            "referral_id": f"B-{n}",
            "reference": f"NP-2026-{n:06d}",
            "locality_code": "NP",
            "organisation": "MBC",
        }
        at = DAY + timedelta(hours=n)
        events: list[tuple[str, Any]] = [
            (
                referrals.REFERRAL_RECEIVED_V1,
                referrals.ReferralReceivedV1(
                    **common, channel="phone", category_codes=["environmental"], received_at=at
                ),
            ),
            (
                referrals.REFERRAL_TRIAGED_V1,
                referrals.ReferralTriagedV1(
                    **common, track="see_and_solve", received_at=at, triaged_at=at
                ),
            ),
            (
                referrals.REFERRAL_RESOLVED_V1,
                referrals.ReferralResolvedV1(
                    **common,
                    outcome_code="resolved",
                    received_at=at,
                    resolved_at=at + timedelta(hours=3),
                    within_due=True,
                ),
            ),
        ]
        if n == 0:
            events += [
                (
                    referrals.REFERRAL_REOPENED_V1,
                    referrals.ReferralReopenedV1(**common, reopened_at=at + timedelta(days=1)),
                ),
                (
                    referrals.REFERRAL_OVERDUE_V1,
                    referrals.ReferralOverdueV1(
                        **common,
                        clock="see_and_solve",
                        due_at=at,
                        detected_at=at + timedelta(days=2),
                    ),
                ),
            ]
        envelopes += [
            new_event(referrals.SOURCE, kind, common["referral_id"], p) for kind, p in events
        ]
    return envelopes


async def facts(sessions: async_sessionmaker[AsyncSession]) -> list[tuple]:
    async with sessions() as session:
        rows = await session.scalars(select(ReferralFact).order_by(ReferralFact.referral_id))
        return [
            (
                f.referral_id,
                f.locality_code,
                f.channel,
                f.received_at,
                f.track,
                f.triaged_at,
                f.resolved_at,
                f.resolution_days,
                f.within_due,
                f.overdue_at,
            )
            for f in rows
        ]


async def apply_batch(
    sessions: async_sessionmaker[AsyncSession], envelopes: Sequence[EventEnvelope]
) -> list[str]:
    """As the consumer applies a poll with the hooks; returns the SQL the handlers ran."""
    statements: list[str] = []
    engine = sessions.kw["bind"].sync_engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async with sessions() as session, session.begin():
        await consumed_batch.HOOKS.prefetch(session, envelopes)
        event.listen(engine, "before_cursor_execute", record)
        try:
            for envelope in envelopes:
                await HANDLERS[envelope.type](session, envelope)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        await consumed_batch.HOOKS.finish(session)
    return statements


async def test_a_batch_gives_the_facts_of_events_applied_one_by_one_without_a_query_per_event(
    metrics_template: Path, tmp_path: Path
) -> None:
    envelopes = lives(20)
    (tmp_path / "one").mkdir()
    (tmp_path / "batch").mkdir()
    async for one_by_one in sessions_on_copy(metrics_template, tmp_path / "one"):
        for envelope in envelopes:
            async with one_by_one() as session, session.begin():
                await HANDLERS[envelope.type](session, envelope)
        expected = await facts(one_by_one)
    async for batched in sessions_on_copy(metrics_template, tmp_path / "batch"):
        statements = await apply_batch(batched, envelopes)
        got = await facts(batched)

    assert len(expected) == 20
    assert expected[0][6] is None and expected[0][9] is not None  # reopened, then overdue
    assert got == expected
    # Nothing watched in the locality: the facts come from the prefetch, the writes from the
    # one flush in `finish`.
    assert statements == []

"""Rebuilding every derived indicator from 1,000,000 referral facts.

The facts are what the consumer keeps from the referral events (one row per referral id); they
are bulk-inserted here, then timed:
- subject: the service's `derived.rebuild_all` (GROUP BY and window functions in the database);
- reference: the naive way, reading every fact into Python and aggregating in loops.
Both results are compared, so the benchmark also checks the SQL against plain Python.

    python -m bench.metrics_derived                    # SQLite, 1,000,000 facts
    BENCH_FACTS=200000 BENCH_POSTGRES=1 python -m bench.metrics_derived
"""

import asyncio
import os
import random
import sqlite3
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench._metrics_db import POSTGRES_DSN, best_of, engines_to_run, metrics_database
from services.metrics.domain import Granularity
from services.metrics.models import ReferralFact
from services.metrics.service import derived

FACTS = int(os.environ.get("BENCH_FACTS", "1000000"))
LOCALITIES = ("NO", "NP", "DNN", "DNS", "DNE", "DNC")
START = datetime(2024, 1, 1, tzinfo=UTC)
COLUMNS = (
    "referral_id", "locality_code", "channel", "received_at", "track", "triaged_at",
    "resolved_at", "resolution_days", "within_due", "overdue_at",
)  # fmt: skip


def generate(count: int) -> list[tuple]:  # type: ignore[type-arg]
    """Facts spread over two years: 69% see-and-solve, 31% multi-agency (seed 000)."""
    rng = random.Random(1_000_000)
    facts = []
    for number in range(count):
        received = START + timedelta(seconds=rng.randrange(730 * 86400))
        track = "see_and_solve" if rng.random() < 0.69 else "multi_agency"
        triaged = received + timedelta(hours=rng.random() * 4)
        resolved, days, within, overdue = None, None, None, None
        if rng.random() < 0.9:
            days = rng.expovariate(2.0 if track == "see_and_solve" else 0.1)
            resolved = received + timedelta(days=days)
            within = days < 0.5 if track == "see_and_solve" else None
        if rng.random() < 0.05:
            overdue = received + timedelta(days=1)
        facts.append(
            (f"r{number}", rng.choice(LOCALITIES), "phone", received, track, triaged,
             resolved, days, within, overdue)
        )  # fmt: skip
    return facts


def _sqlite_text(value: object) -> object:
    """The text SQLAlchemy stores for a UTC datetime in SQLite."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


async def bulk_insert(engine: AsyncEngine, facts: list[tuple]) -> None:  # type: ignore[type-arg]
    placeholders = ", ".join("?" for _ in COLUMNS)
    if engine.dialect.name == "sqlite":
        connection = sqlite3.connect(str(engine.url.database))
        with connection:
            connection.executemany(
                f"INSERT INTO referral_fact ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                ([_sqlite_text(v) for v in fact] for fact in facts),
            )
        connection.close()
        return
    connection = await asyncpg.connect(f"{POSTGRES_DSN}/{engine.url.database}")
    try:
        await connection.copy_records_to_table("referral_fact", records=facts, columns=COLUMNS)
        await connection.execute("ANALYZE referral_fact")
    finally:
        await connection.close()


async def naive_rebuild(session: AsyncSession) -> dict[str, dict[tuple[str, str], float]]:
    """Every fact into Python, then loops: what the service does not do."""
    rows = await session.execute(
        select(
            ReferralFact.locality_code, ReferralFact.received_at, ReferralFact.track,
            ReferralFact.triaged_at, ReferralFact.resolved_at, ReferralFact.resolution_days,
            ReferralFact.within_due, ReferralFact.overdue_at,
        )
    )  # fmt: skip
    received: dict[tuple[str, str], int] = defaultdict(int)
    triaged: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    within: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    days: dict[tuple[str, str], list[float]] = defaultdict(list)
    overdue: dict[tuple[str, str], int] = defaultdict(int)
    for locality, received_at, track, triaged_at, resolved_at, resolution, done, late in rows:
        received[(locality, f"{received_at:%Y-%m}")] += 1
        if triaged_at is not None and track in ("see_and_solve", "multi_agency"):
            bucket = triaged[(locality, f"{triaged_at:%Y-%m}")]
            bucket[0] += track == "see_and_solve"
            bucket[1] += 1
        if resolved_at is not None and resolution is not None:
            month = (locality, f"{resolved_at:%Y-%m}")
            days[month].append(resolution)
            if track == "see_and_solve" and done is not None:
                within[month][0] += bool(done)
                within[month][1] += 1
        if late is not None:
            overdue[(locality, f"{late:%Y-%m}")] += 1
    return {
        "referrals_received": {k: float(v) for k, v in received.items()},
        "see_and_solve_share": {k: 100.0 * a / n for k, (a, n) in triaged.items()},
        "see_and_solve_within_day": {k: 100.0 * a / n for k, (a, n) in within.items()},
        "median_days_to_resolution": {k: statistics.median(v) for k, v in days.items()},
        "overdue_referrals": {k: float(v) for k, v in overdue.items()},
    }


def flatten(result: dict[str, dict[str, list]]) -> dict[str, dict[tuple[str, str], float]]:  # type: ignore[type-arg]
    return {
        code: {
            (locality, f"{point.period_start:%Y-%m}"): point.value
            for locality, points in per_locality.items()
            for point in points
        }
        for code, per_locality in result.items()
    }


def mismatches(subject: dict, reference: dict) -> list[str]:  # type: ignore[type-arg]
    problems = []
    for code, expected in reference.items():
        got = subject[code]
        if got.keys() != expected.keys():
            problems.append(f"{code}: different periods")
            continue
        worst = max(abs(got[key] - expected[key]) for key in expected)
        if worst > 1e-6:
            problems.append(f"{code}: differs by up to {worst}")
    return problems


async def run(engine_name: str, facts: list[tuple]) -> None:  # type: ignore[type-arg]
    async with metrics_database(engine_name) as engine:
        started = time.perf_counter()
        await bulk_insert(engine, facts)
        insert_s = time.perf_counter() - started
        sessions = async_sessionmaker(engine, expire_on_commit=False)

        async def subject():  # type: ignore[no-untyped-def]
            async with sessions() as session:
                return await derived.rebuild_all(session, Granularity.MONTH)

        async def reference():  # type: ignore[no-untyped-def]
            async with sessions() as session:
                return await naive_rebuild(session)

        subject_s, computed = await best_of(2, subject)
        reference_s, expected = await best_of(1, reference)
        problems = mismatches(flatten(computed), expected)
        print(
            f"[{engine_name}] {len(facts):,} facts (bulk insert {insert_s:.1f} s); rebuild of "
            f"{len(computed)} derived indicators x 6 localities x 24+ months: SQL "
            f"{subject_s:.2f} s, Python loops {reference_s:.2f} s, ratio loops/SQL "
            f"{reference_s / subject_s:.2f}x; results {problems or 'agree'}"
        )


async def main() -> None:
    started = time.perf_counter()
    facts = generate(FACTS)
    print(f"generated {len(facts):,} facts in {time.perf_counter() - started:.1f} s")
    for engine_name in engines_to_run():
        await run(engine_name, facts)


if __name__ == "__main__":
    asyncio.run(main())

"""Scorecard over 50 indicators x 10 years of monthly observations (locality + 2 comparisons).

Subject: the service's scorecard (one query for every series of the locality and its comparison
areas, one for targets, one for derived facts, then the analysis per indicator).
Reference: the naive way, one query per indicator and area (N+1), with the same analysis.
Both run in one process on the same database; the ratio is what matters on a shared machine.

    python -m bench.metrics_scorecard          # SQLite
    BENCH_POSTGRES=1 python -m bench.metrics_scorecard   # SQLite, then PostgreSQL
"""

import asyncio
import random
from datetime import UTC, date, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench._metrics_db import best_of, engines_to_run, metrics_database
from services.metrics.areas import load_areas
from services.metrics.domain import analysis
from services.metrics.models import Indicator, Observation
from services.metrics.service import analysis as analysis_service

INDICATORS = 50
YEARS = 10
AREAS = ("NP", "MBRO", "NO")  # the locality and its comparison areas
RUNS = 5


async def fill(engine: AsyncEngine) -> int:
    now = datetime.now(UTC)
    random.seed(5)
    indicators = [
        {
            "code": f"bench_{number:02d}",
            "name": f"Benchmark indicator {number}",
            "description": "",
            "unit": "percent" if number % 2 else "count",
            "desired_direction": "up" if number % 3 else "down",
            "frequency": "monthly",
            "source": "survey" if number % 2 else "police",
            "no_change_tolerance": 0.05,
            "target_value": 50.0,
            "amber_tolerance": 5.0,
            "created_at": now,
            "updated_at": now,
        }
        for number in range(INDICATORS)
    ]
    observations = []
    for indicator in indicators:
        for area in AREAS:
            for month in range(YEARS * 12):
                start = date(2016 + month // 12, month % 12 + 1, 1)
                observations.append(
                    {
                        "indicator_code": indicator["code"],
                        "area_code": area,
                        "period_start": start,
                        "period_end": start,
                        "period_label": f"{start:%Y-%m}",
                        "value": round(random.uniform(20, 80), 2),
                        "sample_size": 200 if indicator["source"] == "survey" else None,
                        "revision": 1,
                        "recorded_at": now,
                        "recorded_by": "BENCH",
                    }
                )
    async with engine.begin() as connection:
        await connection.execute(insert(Indicator), indicators)
        for offset in range(0, len(observations), 5000):
            await connection.execute(insert(Observation), observations[offset : offset + 5000])
    return len(observations)


async def naive_scorecard(session: AsyncSession) -> int:
    """One query per indicator and area, then the same analysis."""
    indicators = (await session.scalars(select(Indicator).order_by(Indicator.code))).all()
    rows = 0
    for indicator in indicators:
        if indicator.source == "derived":
            continue
        for area in AREAS:
            query = (
                select(Observation)
                .where(
                    Observation.indicator_code == indicator.code,
                    Observation.area_code == area,
                    Observation.superseded_at.is_(None),
                )
                .order_by(Observation.period_start)
            )
            points = [analysis_service.point_from_row(row) for row in await session.scalars(query)]
            if area == AREAS[0]:
                target = analysis_service.target_for(indicator, None)
                analysis.assess_series(analysis_service.profile_of(indicator), points, target)
                rows += 1
    return rows


async def run(engine_name: str) -> None:
    async with metrics_database(engine_name) as engine:
        count = await fill(engine)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        areas = load_areas()

        async def subject() -> int:
            async with sessions() as session:
                card = await analysis_service.scorecard(
                    session, locality_code="NP", areas=areas, as_of=None
                )
                return len(card.lines)

        async def reference() -> int:
            async with sessions() as session:
                return await naive_scorecard(session)

        subject_s, rows = await best_of(RUNS, subject)
        reference_s, _ = await best_of(RUNS, reference)
        print(
            f"[{engine_name}] {count} observations, scorecard of {rows} indicators: "
            f"service {subject_s * 1000:.1f} ms, naive N+1 {reference_s * 1000:.1f} ms, "
            f"ratio naive/service {reference_s / subject_s:.2f}x (best of {RUNS})"
        )


async def main() -> None:
    for engine_name in engines_to_run():
        await run(engine_name)


if __name__ == "__main__":
    asyncio.run(main())

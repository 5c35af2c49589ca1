"""The locality summary against a plain page of plans: what the RAG and action counts cost.

Subject: `locality_summary` (a page of plans plus two grouped count queries).
Reference: `list_plans` for the same page (the plans alone).
Both run on one SQLite file with 300 plans, 7 targets and 6 actions each, in the same process.
"""

import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from services.actionplans import domain
from services.actionplans.config import Settings
from services.actionplans.main import SPEC
from services.actionplans.models import Action, Plan, Target
from services.actionplans.service import plans
from shared.db import create_engine, create_session_factory
from shared.migrations import upgrade_to_head

PLANS, TARGETS_PER_PLAN, ACTIONS_PER_PLAN, PAGE, ROUNDS = 300, 7, 6, 50, 30


def seed_rows(now: datetime) -> list[object]:
    rows: list[object] = []
    for number in range(PLANS):
        plan_id = str(uuid.uuid4())
        rows.append(
            Plan(
                id=plan_id,
                title=f"Plan {number}",
                locality_code="NP",
                objective_codes=["people_feel_safe"],
                lead_person="Lead",
                lead_organisation="CLEVELAND-POLICE",
                member_organisations=[],
                status="active",
                review_cadence="monthly",
                next_review_on=date.today(),
                created_at=now + timedelta(microseconds=number),
                updated_at=now,
            )
        )
        rows += [
            Target(
                id=str(uuid.uuid4()),
                plan_id=plan_id,
                indicator_code=f"i{t}",
                area_code="NP",
                desired_direction="up",
                direction_source="indicator",
                current_version=1,
                rag=("red", "amber", "green", None)[t % 4],
                created_at=now,
            )
            for t in range(TARGETS_PER_PLAN)
        ]
        rows += [
            Action(
                id=str(uuid.uuid4()),
                plan_id=plan_id,
                description="a",
                owner_organisation="CLEVELAND-POLICE",
                due_on=date.today() + timedelta(days=a - 3),
                status=("in_progress", "done")[a % 2],
                referral_ids=[],
                created_at=now,
                updated_at=now,
            )
            for a in range(ACTIONS_PER_PLAN)
        ]
    return rows


async def timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'bench.sqlite3'}"
        settings = Settings(database_url=url, data_dir=Path(scratch))
        engine = create_engine(url)
        await upgrade_to_head(engine, SPEC.migrations_dir)
        sessions = create_session_factory(engine)
        rows = seed_rows(datetime.now(UTC))
        async with sessions() as session, session.begin():
            session.add_all([row for row in rows if isinstance(row, Plan)])
            await session.flush()  # no ORM relationships: parents go first explicitly
            session.add_all([row for row in rows if not isinstance(row, Plan)])
        where = domain.PlanFilter(locality_code="NP")

        async def summary() -> None:
            async with sessions() as session:
                await plans.locality_summary(
                    session,
                    now=datetime.now(UTC),
                    settings=settings,
                    locality_code="NP",
                    where=domain.PlanFilter(),
                    cursor=None,
                    limit=PAGE,
                )

        async def plain_list() -> None:
            async with sessions() as session:
                await plans.list_plans(session, where=where, cursor=None, limit=PAGE)

        subject, reference = [], []
        for _ in range(ROUNDS):  # interleaved, so machine noise hits both alike
            subject.append(await timed(summary))
            reference.append(await timed(plain_list))
        await engine.dispose()
    s, r = statistics.median(subject), statistics.median(reference)
    print(
        f"page of {PAGE} plans ({PLANS} plans, {TARGETS_PER_PLAN} targets and "
        f"{ACTIONS_PER_PLAN} actions each), median of {ROUNDS}"
    )
    print(f"  summary    {s * 1000:8.2f} ms")
    print(f"  plain list {r * 1000:8.2f} ms")
    print(f"  ratio summary / plain list: {s / r:.2f}")


if __name__ == "__main__":
    asyncio.run(main())

"""Periodic jobs (shared/periodic.py): each round reads the injected clock; a failing round does
not stop the job; the service stopping does; an interval of 0 turns a job off."""

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from shared.periodic import PeriodicJob, run_periodically

pytestmark = pytest.mark.unit

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def test_rounds_read_the_clock_survive_a_failure_and_end_when_the_service_stops() -> None:
    stopping = asyncio.Event()
    seen: list[datetime] = []

    async def one_round(sessions: Any, settings: Any, now: datetime) -> int:
        seen.append(now)
        if len(seen) == 2:
            raise RuntimeError("the database blinked")
        if len(seen) == 3:
            stopping.set()
        return 1

    job = PeriodicJob("test job", one_round, "every_s")
    settings = SimpleNamespace(every_s=0.001)
    await asyncio.wait_for(run_periodically(job, None, settings, lambda: NOON, stopping), 10)  # type: ignore[arg-type]
    assert seen == [NOON, NOON, NOON]


async def test_an_interval_of_zero_turns_the_job_off() -> None:
    async def one_round(sessions: Any, settings: Any, now: datetime) -> int:
        raise AssertionError("must not run")

    job = PeriodicJob("off", one_round, "every_s")
    settings = SimpleNamespace(every_s=0)
    await run_periodically(job, None, settings, lambda: NOON, asyncio.Event())  # type: ignore[arg-type]

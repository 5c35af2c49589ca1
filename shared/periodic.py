"""Periodic jobs a service declares on its ServiceSpec (e.g. the overdue checks).

A job is a use case run every `interval_s` seconds with the service's sessions and the time
from the app's clock; shared/app.py starts one task per job with the service and stops it
with the service. A failing round is logged and the job tries again next round.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock

log = logging.getLogger(__name__)

# (sessions, settings, now) -> how many things the round did (logged when not zero).
JobRound = Callable[[async_sessionmaker[AsyncSession], Any, datetime], Awaitable[int]]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: JobRound
    # The name of the setting that holds the interval in seconds; 0 or less: never runs.
    interval_setting: str


async def run_periodically(
    job: PeriodicJob,
    sessions: async_sessionmaker[AsyncSession],
    settings: Any,
    clock: Clock,
    stopping: asyncio.Event,
) -> None:
    interval_s = float(getattr(settings, job.interval_setting))
    if interval_s <= 0:
        return
    while not stopping.is_set():
        try:
            count = await job.run(sessions, settings, clock())
            if count:
                log.info("%s: %d", job.name, count)
        except Exception:
            log.exception("%s failed; trying again next round", job.name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_s)

"""The periodic check that announces actions passing their due date (runs in the lifespan)."""

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.actionplans.service.actions import announce_overdue_actions
from services.actionplans.service.guards import local_today

log = logging.getLogger(__name__)


class OverdueChecker:
    """Every `interval_s`, emits `action.overdue` for actions that passed their due date."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, timezone: str, interval_s: float
    ) -> None:
        self._sessions = sessions
        self._timezone = timezone
        self._interval_s = interval_s
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                count = await announce_overdue_actions(
                    self._sessions, today=local_today(self._timezone)
                )
                if count:
                    log.info("announced %d overdue actions", count)
            except Exception:
                log.exception("overdue check failed; trying again next round")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)

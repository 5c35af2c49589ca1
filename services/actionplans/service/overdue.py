"""The periodic check that announces actions passing their due date (a PeriodicJob)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.actionplans.config import Settings
from services.actionplans.service.actions import announce_overdue_actions
from services.actionplans.service.guards import local_today


async def check_overdue_actions(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """One round: `action.overdue` for open actions due before today (in the service's zone)."""
    return await announce_overdue_actions(
        sessions, now=now, today=local_today(settings.timezone, now)
    )

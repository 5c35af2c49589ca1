"""Actionplans use cases on a real SQLite file: settings, callers and a session factory."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.actionplans.config import Settings
from services.actionplans.main import SPEC
from shared.auth import Caller
from tests.usecases import migrated_template, sessions_on_copy

WRITE = frozenset({"actionplans:read", "actionplans:write"})


def caller(organisation: str) -> Caller:
    return Caller(subject=f"user@{organisation.lower()}", organisation=organisation, scopes=WRITE)


@pytest.fixture(scope="session")
async def actionplans_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return await migrated_template(tmp_path_factory, "actionplans", SPEC.migrations_dir)


@pytest.fixture
async def sessions(
    actionplans_template: Path, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async for factory in sessions_on_copy(actionplans_template, tmp_path):
        yield factory


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path)

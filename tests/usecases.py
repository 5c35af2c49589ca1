"""The use-case tier: service functions on a real, migrated SQLite file; no HTTP, no broker.

Migrating takes most of a second, so each service is migrated once per run into a template
file and every test gets a byte copy of it.
"""

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import create_engine, create_session_factory
from shared.migrations import upgrade_to_head


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def migrated_template(
    tmp_path_factory: pytest.TempPathFactory, name: str, migrations_dir: Path
) -> Path:
    """An SQLite file at the service's head revision, made once per test run."""
    path = tmp_path_factory.mktemp(f"{name}-template") / "template.sqlite3"
    engine = create_engine(sqlite_url(path))
    try:
        await upgrade_to_head(engine, migrations_dir)
    finally:
        await engine.dispose()
    return path


async def sessions_on_copy(
    template: Path, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh copy of the template; the engine is disposed afterwards."""
    path = tmp_path / "usecase.sqlite3"
    shutil.copyfile(template, path)
    engine = create_engine(sqlite_url(path))
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()

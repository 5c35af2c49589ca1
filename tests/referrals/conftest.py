from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from services.referrals.config import Settings
from services.referrals.main import SPEC, create_app
from tests.harness import TokenMinter, running_app, test_settings_values
from tests.referrals.workflow import Hub


@pytest.fixture
def database_schema() -> Path:
    """Databases start at the referrals schema's head (a copy, migrated once per run)."""
    return SPEC.migrations_dir


@pytest.fixture
def referrals_settings(database_url: str, kafka: str, public_key: Path, tmp_path: Path) -> Settings:
    # The periodic overdue check is off: tests call the check themselves at chosen times.
    # A consumer group per test: each test's service reads the shared topics from the start.
    return Settings(
        **test_settings_values(tmp_path, database_url, kafka, public_key),
        consumer_group=f"referrals-{tmp_path.name}",
        overdue_check_interval_s=0,
    )


@pytest.fixture
async def referrals(referrals_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The referrals service running in-process on a fresh database (SQLite and PostgreSQL)."""
    async with running_app(create_app(referrals_settings)) as client:
        yield client


async def _running_hub(settings: Settings, mint: TokenMinter) -> AsyncIterator[Hub]:
    app = create_app(settings)
    app.state.clock = lambda: hub.now
    async with running_app(app) as client:
        hub = Hub(app, client, mint, datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
        yield hub


@pytest.fixture
async def hub(referrals_settings: Settings, mint: TokenMinter) -> AsyncIterator[Hub]:
    """The service with a settable clock (Monday 1 June 2026, 10:00 BST) and a client for it."""
    async for running in _running_hub(referrals_settings, mint):
        yield running


@pytest.fixture
async def sqlite_hub(
    sqlite_url: str, kafka: str, public_key: Path, tmp_path: Path, mint: TokenMinter
) -> AsyncIterator[Hub]:
    """The same on SQLite only, for rules the database engine cannot change (validation)."""
    settings = Settings(
        **test_settings_values(tmp_path, sqlite_url, kafka, public_key),
        overdue_check_interval_s=0,
    )
    async for running in _running_hub(settings, mint):
        yield running

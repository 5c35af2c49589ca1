from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.referrals.config import Settings
from services.referrals.main import create_app
from tests.harness import running_app, test_settings_values


@pytest.fixture
def referrals_settings(database_url: str, kafka: str, public_key: Path, tmp_path: Path) -> Settings:
    return Settings(**test_settings_values(tmp_path, database_url, kafka, public_key))


@pytest.fixture
async def referrals(referrals_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The referrals service running in-process on a fresh database (SQLite and PostgreSQL)."""
    async with running_app(create_app(referrals_settings)) as client:
        yield client

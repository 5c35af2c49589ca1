from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.metrics.config import Settings
from services.metrics.main import SPEC, create_app
from tests.harness import running_app, test_settings_values


@pytest.fixture
def database_schema() -> Path:
    """Databases start at the metrics schema's head (a copy, migrated once per run)."""
    return SPEC.migrations_dir


@pytest.fixture
def metrics_settings(database_url: str, kafka: str, public_key: Path, tmp_path: Path) -> Settings:
    # A consumer group per test: each test's service reads the shared topics from the start.
    return Settings(
        **test_settings_values(tmp_path, database_url, kafka, public_key),
        consumer_group=f"metrics-{tmp_path.name}",
    )


@pytest.fixture
async def metrics(metrics_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The metrics service running in-process on a fresh database (SQLite and PostgreSQL)."""
    app = create_app(metrics_settings)
    async with running_app(app) as client:
        for consumer in app.state.runtime.consumers:
            await consumer.started.wait()
        yield client

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.metrics.config import Settings
from services.metrics.main import SPEC, create_app
from shared.localities import DEFAULT_LOCALITIES_FILE
from tests.harness import running_app, test_settings_values


@pytest.fixture
def database_schema() -> Path:
    """Databases start at the metrics schema's head (a copy, migrated once per run)."""
    return SPEC.migrations_dir


@pytest.fixture
def unique_locality() -> str:
    """A locality code of this test alone (the topics are shared by every test), configured
    in the metrics service of a test that asks for it, as a deployment configures its own."""
    return "T" + uuid.uuid4().hex[:6].upper()


def localities_with(directory: Path, code: str) -> Path:
    """The configured localities plus `code`, as a localities file in `directory`."""
    document = json.loads(DEFAULT_LOCALITIES_FILE.read_text())
    document["localities"].append({"code": code, "name": f"Test {code}", "authority": "Test"})
    path = directory / "localities-with-test.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def metrics_settings(
    database_url: str, kafka: str, public_key: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Settings:
    # A consumer group per test: each test's service reads the shared topics from the start.
    extra = {}
    if "unique_locality" in request.fixturenames:
        code = request.getfixturevalue("unique_locality")
        extra["localities_file"] = localities_with(tmp_path, code)
    return Settings(
        **test_settings_values(tmp_path, database_url, kafka, public_key),
        consumer_group=f"metrics-{tmp_path.name}",
        **extra,
    )


@pytest.fixture
async def metrics(metrics_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The metrics service running in-process on a fresh database (SQLite and PostgreSQL)."""
    app = create_app(metrics_settings)
    async with running_app(app) as client:
        for consumer in app.state.runtime.consumers:
            await consumer.started.wait()
        yield client

"""Metrics use cases on a real SQLite file: a migrated template copied per database."""

from pathlib import Path

import pytest

from services.metrics.main import SPEC
from tests.usecases import migrated_template


@pytest.fixture(scope="session")
async def metrics_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return await migrated_template(tmp_path_factory, "metrics", SPEC.migrations_dir)

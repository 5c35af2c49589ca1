"""Fixtures for every tier: a real broker, signing keys, databases on SQLite and PostgreSQL."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from deploy.local.broker import TansuBroker
from shared.auth import ensure_signing_keypair
from tests.harness import TokenMinter, fresh_postgres_database, postgres_available

# Log lines go straight into pytest's capture, not into a buffer flushed after the summary.
os.environ.setdefault("LOG_FLUSH_EVERY_S", "0")


@pytest.fixture(scope="session")
def kafka() -> Iterator[str]:
    """Bootstrap servers of a real Kafka-protocol broker (Tansu unless one is given)."""
    given = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    broker = TansuBroker().start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ensure_signing_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def public_key(signing_keys: tuple[Path, Path]) -> Path:
    return signing_keys[1]


@pytest.fixture(scope="session")
def mint(signing_keys: tuple[Path, Path]) -> TokenMinter:
    return TokenMinter(signing_keys[0].read_bytes())


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database per test, on each engine the service supports."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if not postgres_available():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (REQUIRE_POSTGRES=1) but not answering")
        pytest.skip("PostgreSQL is not running")
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database, for tests where the engine does not matter."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"

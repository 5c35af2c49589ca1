"""Fixtures for every tier: a real broker, signing keys, databases on SQLite and PostgreSQL."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from deploy.local.broker import TansuBroker
from deploy.local.system import LocalSystem, SystemConfig
from shared.auth import ensure_signing_keypair
from tests.harness import (
    MigratedSchemas,
    TokenMinter,
    fresh_postgres_database,
    postgres_available,
)

# Properties run the same examples on every run (a failure reproduces as it was seen) and have
# no per-example deadline, which a loaded machine would miss. HYPOTHESIS_PROFILE=explore
# searches fresh examples instead.
settings.register_profile("repeatable", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

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
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    """One whole system for every e2e test, started the way `make run` starts it.

    Its own broker and SQLite files; started once per run (five processes take seconds each
    on a loaded machine). Tests share it, so each uses ids and localities of its own.
    """
    data_dir = tmp_path_factory.mktemp("system")
    config = SystemConfig.on_free_ports(data_dir, extra_env={"KAFKA_SESSION_TIMEOUT_MS": "2000"})
    running = LocalSystem(config).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ensure_signing_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def public_key(signing_keys: tuple[Path, Path]) -> Path:
    return signing_keys[1]


@pytest.fixture(scope="session")
def mint(signing_keys: tuple[Path, Path]) -> TokenMinter:
    return TokenMinter(signing_keys[0].read_bytes())


@pytest.fixture(scope="session")
async def migrated_schemas(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[MigratedSchemas]:
    schemas = MigratedSchemas(tmp_path_factory.mktemp("schemas"))
    try:
        yield schemas
    finally:
        await schemas.drop()


@pytest.fixture
def database_schema() -> Path | None:
    """The migrations a test's database starts at the head of; None: an empty database.

    A service's conftest names its own, so its tests start on a copy of a database migrated
    once per run rather than migrating one each.
    """
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    database_schema: Path | None,
    migrated_schemas: MigratedSchemas,
) -> AsyncIterator[str]:
    """A fresh database per test, on each engine the service supports."""
    if request.param == "sqlite":
        yield await _sqlite_database(tmp_path, database_schema, migrated_schemas)
        return
    if not postgres_available():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (REQUIRE_POSTGRES=1) but not answering")
        pytest.skip("PostgreSQL is not running")
    template = None
    if database_schema is not None:
        template = await migrated_schemas.postgres_template(database_schema)
    async with fresh_postgres_database(template) as url:
        yield url


@pytest.fixture
async def sqlite_url(
    tmp_path: Path, database_schema: Path | None, migrated_schemas: MigratedSchemas
) -> str:
    """A fresh SQLite database, for tests where the engine does not matter."""
    return await _sqlite_database(tmp_path, database_schema, migrated_schemas)


async def _sqlite_database(
    tmp_path: Path, schema: Path | None, migrated_schemas: MigratedSchemas
) -> str:
    path = tmp_path / "test.sqlite3"
    if schema is None:
        return f"sqlite+aiosqlite:///{path}"
    return await migrated_schemas.sqlite_copy(schema, path)


TIERS = ("unit", "usecases", "integration", "e2e", "faults")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test belongs to exactly one tier: its own marker, or else its folder's name.

    `pytest -m unit` (and so on) then selects a whole tier; a test in no tier is an error
    rather than a test that no tier run would ever select.
    """
    root = Path(__file__).parent
    for item in items:
        marked = [tier for tier in TIERS if item.get_closest_marker(tier)]
        if not marked:
            folders = Path(item.path).relative_to(root).parts[:-1]
            marked = [tier for tier in TIERS if tier in folders]
            for tier in marked:
                item.add_marker(tier)
        if len(marked) != 1:
            raise pytest.UsageError(
                f"{item.nodeid}: in tiers {marked or 'none'}; mark it with one of {TIERS}"
            )

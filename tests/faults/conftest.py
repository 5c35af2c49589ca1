"""Fixtures of the fault suite: a broker of its own per test (it gets stopped), databases."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from deploy.local.broker import TansuBroker
from tests.harness import fresh_postgres_database, postgres_available


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    """A Tansu broker this test may stop and restart (it forgets everything when it stops)."""
    broker = TansuBroker(log_file=tmp_path / "broker.log").start()
    try:
        yield broker
    finally:
        broker.stop()


def require_postgres() -> None:
    if not postgres_available():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (REQUIRE_POSTGRES=1) but not answering")
        pytest.skip("PostgreSQL is not running")


@pytest.fixture
async def postgres_databases() -> AsyncIterator[dict[str, str]]:
    """A fresh PostgreSQL database for referrals and one for metrics."""
    require_postgres()
    async with fresh_postgres_database() as referrals, fresh_postgres_database() as metrics:
        yield {"referrals": referrals, "metrics": metrics}


@pytest.fixture(params=["sqlite", "postgresql"])
async def databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, str]]:
    """Databases for referrals and metrics, on each engine."""
    if request.param == "sqlite":
        yield {
            name: f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite3'}"
            for name in ("referrals", "metrics")
        }
        return
    require_postgres()
    async with fresh_postgres_database() as referrals, fresh_postgres_database() as metrics:
        yield {"referrals": referrals, "metrics": metrics}

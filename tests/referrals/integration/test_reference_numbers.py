"""Readable references come from blocks reserved outside the intake's transaction."""

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.referrals.config import Settings
from services.referrals.service.references import BLOCK_SIZE
from shared.settings import normalise_database_url
from tests.referrals.workflow import Hub


async def test_intakes_do_not_wait_for_the_reference_counter_row(
    hub: Hub, referrals_settings: Settings
) -> None:
    url = normalise_database_url(referrals_settings.database_url or "")
    if not url.startswith("postgresql"):
        pytest.skip("row locks are a PostgreSQL matter; SQLite has one writer at a time")
    assert (await hub.create())["reference"] == "NO-2026-000001"  # reserves a block
    engine = create_async_engine(url)
    try:
        async with engine.connect() as other, other.begin():
            # Another transaction holds the counter row for as long as it likes.
            await other.execute(
                text("SELECT * FROM reference_counter WHERE locality_code = 'NO' FOR UPDATE")
            )
            created = await asyncio.wait_for(hub.create(), timeout=10)
            assert created["reference"] == "NO-2026-000002"
    finally:
        await engine.dispose()


async def test_references_stay_unique_and_readable_across_blocks(hub: Hub) -> None:
    created = await asyncio.gather(*(hub.create() for _ in range(BLOCK_SIZE + 5)))
    references = sorted(body["reference"] for body in created)
    assert references == [f"NO-2026-{n:06d}" for n in range(1, BLOCK_SIZE + 6)]

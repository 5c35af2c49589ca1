"""Concurrent writers on SQLite take turns inside the process instead of meeting a locked file."""

import asyncio
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy import event, text

from shared.db import create_engine

pytestmark = pytest.mark.integration


async def test_concurrent_write_transactions_never_find_the_database_locked(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'writes.sqlite3'}")

    # No busy handler: any writer that found another's transaction open would fail at once.
    @event.listens_for(engine.sync_engine, "connect")
    def no_busy_wait(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.cursor().execute("PRAGMA busy_timeout=0")

    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE tally (id INTEGER PRIMARY KEY, n INTEGER)"))
        await connection.execute(text("INSERT INTO tally (id, n) VALUES (1, 0)"))

    async def writer(number: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO tally (n) VALUES (:n)"), {"n": number})
            await asyncio.sleep(0.001)  # others run while this transaction is open
            await connection.execute(text("UPDATE tally SET n = n + 1 WHERE id = 1"))

    try:
        await asyncio.gather(*(writer(number) for number in range(64)))
        async with engine.connect() as connection:
            assert (await connection.scalar(text("SELECT n FROM tally WHERE id = 1"))) == 64
            assert (await connection.scalar(text("SELECT count(*) FROM tally"))) == 65
    finally:
        await engine.dispose()


async def test_a_rolled_back_writer_gives_the_turn_to_the_next(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'writes.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY)"))

    async def failing_writer() -> None:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO item (id) VALUES (1)"))
            raise RuntimeError("the use case failed")

    try:
        for _ in range(3):
            with suppress(RuntimeError):
                await failing_writer()
        async with engine.begin() as connection:  # would wait for the turn forever otherwise
            await asyncio.wait_for(
                connection.execute(text("INSERT INTO item (id) VALUES (2)")), timeout=5
            )
    finally:
        await engine.dispose()

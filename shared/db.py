"""Async engine and sessions for a service's own database (SQLite file or PostgreSQL)."""

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.sqlite_writes import serialise_writes

# How long a write waits for its turn on SQLite before failing (a request, not a hang).
SQLITE_WRITE_WAIT_S = 10.0

# Stable constraint names make migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A MetaData with the project's naming convention; one per service."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the engine; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pre-ping: it costs a round trip per checkout, and a connection the server dropped
        # fails one statement and invalidates the pool anyway. At most 30 connections, all
        # kept once opened: with overflow ones (20 + 10 before) the pool closed and reopened
        # connections all the time under 32 concurrent requests (py-spy: connects in the
        # profile of a steady load), since one returned to a full pool is closed.
        return create_async_engine(
            url, echo=echo, pool_size=30, max_overflow=0, json_deserializer=orjson.loads
        )
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url, echo=echo, connect_args={"timeout": 30}, json_deserializer=orjson.loads
    )
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    serialise_writes(engine, wait_s=SQLITE_WRITE_WAIT_S)
    return engine


def _configure_sqlite_connection(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def dialect_name(session: AsyncSession) -> str:
    """'sqlite' or 'postgresql': for the few statements that differ between the engines."""
    return session.get_bind().dialect.name


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def check_database(engine: AsyncEngine) -> None:
    """Raise if the database cannot answer a trivial query."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session per request; the use case commits, anything left open is rolled back."""
    async with factory() as session:
        yield session

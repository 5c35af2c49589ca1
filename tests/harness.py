"""Test building blocks: databases on both engines, tokens, in-process apps, raw topic reads."""

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from fastapi import FastAPI

from shared.auth import mint_token
from shared.db import create_engine
from shared.events import EventEnvelope, encode_data, to_kafka_headers
from shared.migrations import upgrade_to_head

POSTGRES_HOST = os.environ.get("POSTGRES_HOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("POSTGRES_PORT", "5432"))
POSTGRES_USER = os.environ.get("POSTGRES_USER", "postgres")
TEST_ISSUER = "locality-hub-test"
TEST_AUDIENCE = "locality-hub-api"


def postgres_available() -> bool:
    try:
        with socket.create_connection((POSTGRES_HOST, POSTGRES_PORT), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_url(name: str) -> str:
    return f"postgresql+asyncpg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"


async def _postgres_admin() -> asyncpg.Connection:
    return await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres"
    )


async def create_postgres_database(name: str, template: str | None = None) -> None:
    """CREATE DATABASE, as a copy of `template` when given.

    A copy needs the template to have no session: one just closed may still be ending on the
    server, so "being accessed by other users" is waited out (up to a generous deadline).
    """
    statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    admin = await _postgres_admin()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            try:
                await admin.execute(statement)
                return
            except asyncpg.ObjectInUseError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)
    finally:
        await admin.close()


async def drop_postgres_database(name: str) -> None:
    admin = await _postgres_admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def fresh_postgres_database(template: str | None = None) -> AsyncIterator[str]:
    """A new PostgreSQL database for one test (empty, or a copy of `template`); dropped after."""
    name = f"lh_test_{uuid.uuid4().hex[:16]}"
    await create_postgres_database(name, template)
    try:
        yield postgres_url(name)
    finally:
        await drop_postgres_database(name)


class MigratedSchemas:
    """Each service's schema at head, migrated once per run on each engine, for copying.

    Migrating takes a good part of a second per test (more on PostgreSQL); a copy of a migrated
    SQLite file or a PostgreSQL database made from a migrated template takes milliseconds. The
    service still runs its migrations at start-up and finds them applied.
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sqlite: dict[Path, Path] = {}
        self._postgres: dict[Path, str] = {}

    async def sqlite_copy(self, migrations_dir: Path, path: Path) -> str:
        """A copy of the migrated SQLite file at `path`; returns its URL."""
        if migrations_dir not in self._sqlite:
            template = self._folder / f"{migrations_dir.parent.name}.sqlite3"
            await _migrate(f"sqlite+aiosqlite:///{template}", migrations_dir)
            self._sqlite[migrations_dir] = template
        shutil.copyfile(self._sqlite[migrations_dir], path)
        return f"sqlite+aiosqlite:///{path}"

    async def postgres_template(self, migrations_dir: Path) -> str:
        """The name of a migrated PostgreSQL database to make copies of (made on first use)."""
        if migrations_dir not in self._postgres:
            name = f"lh_template_{migrations_dir.parent.name}_{uuid.uuid4().hex[:12]}"
            await create_postgres_database(name)
            self._postgres[migrations_dir] = name
            await _migrate(postgres_url(name), migrations_dir)
        return self._postgres[migrations_dir]

    async def drop(self) -> None:
        for name in self._postgres.values():
            await drop_postgres_database(name)
        self._postgres.clear()


async def _migrate(database_url: str, migrations_dir: Path) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_to_head(engine, migrations_dir)
    finally:
        await engine.dispose()


class TokenMinter:
    """Mints access tokens signed by the test key, as the gateway would issue them."""

    def __init__(self, private_key_pem: bytes) -> None:
        self._key = private_key_pem

    def __call__(self, organisation: str, scopes: str | list[str], **kwargs: Any) -> str:
        return mint_token(
            self._key,
            organisation=organisation,
            scopes=scopes,
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
            **kwargs,
        )

    def headers(self, organisation: str, scopes: str | list[str], **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self(organisation, scopes, **kwargs)}"}


def test_settings_values(
    data_dir: Path, database_url: str, kafka: str, public_key: Path
) -> dict[str, Any]:
    """Keyword arguments for any service's Settings in tests."""
    return {
        "environment": "test",
        "data_dir": data_dir,
        "database_url": database_url,
        "kafka_bootstrap_servers": kafka,
        "kafka_session_timeout_ms": 2000,
        "auth_public_key_file": public_key,
        "auth_issuer": TEST_ISSUER,
        "auth_audience": TEST_AUDIENCE,
        "outbox_poll_interval_s": 0.1,
    }


@asynccontextmanager
async def running_app(
    app: FastAPI, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (migrations, relay, consumers) and give an ASGI client to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


async def wait_until(
    predicate: Callable[[], Any], *, timeout_s: float = 20.0, interval_s: float = 0.1
) -> Any:
    """Poll an async or sync predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(interval_s)


async def read_topic(
    bootstrap: str, topic: str, *, count: int, timeout_s: float = 30.0
) -> list[ConsumerRecord]:
    """The first `count` raw records of a topic of the test's own (e.g. its dead letters).

    Fails at the deadline rather than returning fewer: this is a wait for records that must
    come, not a window. For events on shared topics use tests.event_waits, which names them.
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(records) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{len(records)} of {count} records on {topic} in {timeout_s}s"
                )
            batches = await consumer.getmany(timeout_ms=100)
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def publish(kafka: str, *envelopes: EventEnvelope) -> None:
    """Send each envelope to its topic keyed by its subject, in order, as a relay does."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                envelope.topic,
                value=encode_data(envelope),
                key=(envelope.subject or "").encode(),
                headers=to_kafka_headers(envelope),
            )
    finally:
        await producer.stop()

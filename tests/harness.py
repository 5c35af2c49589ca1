"""Test building blocks: databases on both engines, tokens, in-process apps, raw topic reads."""

import asyncio
import os
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
from shared.events import EventEnvelope, encode_data, to_kafka_headers

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


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"lh_test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres"
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        admin = await asyncpg.connect(
            host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres"
        )
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


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

"""Databases for the metrics benchmarks: a migrated SQLite file, or PostgreSQL when asked."""

import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics.main import SPEC
from shared.db import create_engine
from shared.migrations import upgrade_to_head

POSTGRES_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432")


@asynccontextmanager
async def metrics_database(engine_name: str) -> AsyncIterator[AsyncEngine]:
    """A fresh, migrated metrics database on `sqlite` or `postgresql`, removed afterwards."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}")
            try:
                await upgrade_to_head(engine, SPEC.migrations_dir)
                yield engine
            finally:
                await engine.dispose()
        return
    name = f"lh_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{POSTGRES_DSN}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"{POSTGRES_DSN.replace('postgresql:', 'postgresql+asyncpg:')}/{name}")
    try:
        await upgrade_to_head(engine, SPEC.migrations_dir)
        yield engine
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def best_of(runs: int, action: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """The fastest of `runs` timed calls (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = await action()
        best = min(best, time.perf_counter() - started)
    return best, result


def engines_to_run() -> list[str]:
    """SQLite always; PostgreSQL too when BENCH_POSTGRES=1."""
    return ["sqlite", "postgresql"] if os.environ.get("BENCH_POSTGRES") == "1" else ["sqlite"]

"""Liveness and readiness, with one meaning everywhere (README, "Probes").

- `/livez`: the process answers. Nothing else, so a restart is only ever asked of a process
  that is really stuck.
- `/readyz`: 503 only when *this instance* cannot serve its own routes: its own database does
  not answer, or its schema is not at the migrations' head. A dependency it can work without
  for a while (the broker: the outbox keeps events; another service) makes it 200 "degraded",
  named in the body and in the `dependency_up` metric, so one Kafka blip never takes every
  instance out of rotation at once.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import metrics
from shared.db import check_database
from shared.migrations import alembic_config

CHECK_TIMEOUT_S = 2.0

Check = Callable[[], Awaitable[bool]]


async def passes(check: Check) -> bool:
    """Run one check with a time limit; an error or a timeout counts as failing."""
    try:
        return bool(await asyncio.wait_for(check(), CHECK_TIMEOUT_S))
    except Exception:
        return False


async def readiness_response(
    service: str,
    required: Mapping[str, Check],
    optional: Mapping[str, Check],
    **extra: object,
) -> JSONResponse:
    """200 "ready", 200 "degraded" (an optional dependency fails) or 503 "not ready"."""
    checks = {**required, **optional}
    results = await asyncio.gather(*(passes(check) for check in checks.values()))
    outcome = dict(zip(checks, results, strict=True))
    for name, ok in outcome.items():
        metrics.DEPENDENCY_UP.labels(service, name).set(1 if ok else 0)
    if not all(outcome[name] for name in required):
        status, code = "not ready", 503
    elif not all(outcome[name] for name in optional):
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    body = {
        "status": status,
        "checks": {name: "ok" if ok else "failing" for name, ok in outcome.items()},
        "degraded": [name for name in optional if not outcome[name]],
        **extra,
    }
    return JSONResponse(body, status_code=code)


def database_answers(engine: AsyncEngine) -> Check:
    async def check() -> bool:
        await check_database(engine)
        return True

    return check


def migrations_at_head(engine: AsyncEngine, migrations_dir: Path) -> Check:
    """The database's alembic revision is the newest the code knows."""
    # Read the scripts here, not inside the timed check: the first read imports every
    # migration module, which on a loaded machine can outlast the check's time limit.
    head = head_revision(migrations_dir)

    async def check() -> bool:
        async with engine.connect() as connection:
            current = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in current} == {head}

    return check


@cache
def head_revision(migrations_dir: Path) -> str | None:
    script = ScriptDirectory.from_config(alembic_config(migrations_dir, "sqlite://"))
    return script.get_current_head()

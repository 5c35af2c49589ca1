"""The anchor: a minimal FastAPI app doing what a plain service would, on the same PostgreSQL.

`POST /api/v1/referrals` validates the body with the referrals service's own pydantic model and
does one asyncpg INSERT; `GET /api/v1/referrals?locality_code=..&limit=20` does one indexed
select of 20 rows. No auth, no outbox, no ORM: what the service is measured against.
Database from ANCHOR_DATABASE_URL (a plain postgresql:// DSN).
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from services.referrals.schemas import ReferralCreate

SCHEMA = """
CREATE TABLE IF NOT EXISTS anchor_referral (
    id uuid PRIMARY KEY,
    locality_code text NOT NULL,
    received_at timestamptz NOT NULL,
    summary text NOT NULL,
    body jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_anchor_referral_locality_received
    ON anchor_referral (locality_code, received_at DESC, id DESC);
"""


def create_app() -> FastAPI:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(os.environ["ANCHOR_DATABASE_URL"], max_size=10)
        async with pool.acquire() as connection:
            await connection.execute(SCHEMA)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/api/v1/referrals", status_code=201)
    async def create(body: ReferralCreate) -> Response:
        assert pool is not None
        row_id, now = uuid.uuid4(), datetime.now(UTC)
        document = body.model_dump(mode="json")
        await pool.execute(
            "INSERT INTO anchor_referral (id, locality_code, received_at, summary, body)"
            " VALUES ($1, $2, $3, $4, $5)",
            row_id,
            body.locality_code,
            now,
            body.summary,
            orjson.dumps(document).decode(),
        )
        answer = {"id": str(row_id), "received_at": now.isoformat(), **document}
        return Response(orjson.dumps(answer), status_code=201, media_type="application/json")

    @app.get("/api/v1/referrals")
    async def list_referrals(request: Request, locality_code: str, limit: int = 20) -> Response:
        assert pool is not None
        rows = await pool.fetch(
            "SELECT id, locality_code, received_at, summary FROM anchor_referral"
            " WHERE locality_code = $1 ORDER BY received_at DESC, id DESC LIMIT $2",
            locality_code,
            limit,
        )
        items = [
            {
                "id": str(row["id"]),
                "locality_code": row["locality_code"],
                "received_at": row["received_at"].isoformat(),
                "summary": row["summary"],
            }
            for row in rows
        ]
        return Response(orjson.dumps({"items": items}), media_type="application/json")

    return app

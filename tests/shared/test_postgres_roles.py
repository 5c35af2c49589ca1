"""Least privilege on PostgreSQL: the owner role migrates, the app role only reads and writes
rows; it cannot switch off the audit trail. And N replicas migrating at once are safe."""

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL

from shared.db import create_engine
from shared.migrations import upgrade_to_head
from shared.settings import REPO_ROOT
from tests.harness import (
    POSTGRES_HOST,
    POSTGRES_PORT,
    POSTGRES_USER,
    fresh_postgres_database,
    postgres_available,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

ROLES_SQL = REPO_ROOT / "deploy" / "postgres" / "service-roles.sql"
REFERRALS_MIGRATIONS = REPO_ROOT / "services" / "referrals" / "migrations"


@pytest.fixture(autouse=True)
def require_postgres() -> None:
    if postgres_available() and shutil.which("psql"):
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("PostgreSQL and psql are required (REQUIRE_POSTGRES=1)")
    pytest.skip("PostgreSQL or psql is not available")


def url_for(database: str, user: str, password: str) -> str:
    url = URL.create("postgresql+asyncpg", user, password, POSTGRES_HOST, POSTGRES_PORT, database)
    return url.render_as_string(hide_password=False)


@pytest.fixture
async def service_database() -> AsyncIterator[str]:
    """A database provisioned by deploy/postgres/service-roles.sql; dropped with its roles."""
    name = f"lh_roles_{uuid.uuid4().hex[:12]}"
    command = [
        "psql", "-X", "-q", "-h", POSTGRES_HOST, "-p", str(POSTGRES_PORT), "-U", POSTGRES_USER,
        "-d", "postgres", "-v", f"service={name}", "-v", "owner_password=owner pw@:/",
        "-v", "app_password=app pw%#", "-f", str(ROLES_SQL),
    ]  # fmt: skip
    await asyncio.to_thread(subprocess.run, command, check=True, capture_output=True, timeout=60)
    try:
        yield name
    finally:
        admin = await asyncpg.connect(
            host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres"
        )
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}_app"')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}_owner"')
        finally:
            await admin.close()


async def connect_as(database: str, role: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=POSTGRES_HOST, port=POSTGRES_PORT, user=role, database=database
    )


async def test_the_app_role_writes_rows_but_cannot_touch_the_audit_triggers(
    service_database: str,
) -> None:
    owner_engine = create_engine(url_for(service_database, f"{service_database}_owner", "x"))
    try:
        await upgrade_to_head(owner_engine, REFERRALS_MIGRATIONS)
    finally:
        await owner_engine.dispose()

    app = await connect_as(service_database, f"{service_database}_app")
    try:
        await app.execute(
            "INSERT INTO audit_record (at, actor_subject, actor_organisation, referral_id, "
            "action, purpose) VALUES (now(), 'u', 'NP-HUB', 'r-1', 'read', 'case_work')"
        )
        assert await app.fetchval("SELECT count(*) FROM audit_record") == 1
        assert await app.fetchval("SELECT count(*) FROM alembic_version") == 1
        with pytest.raises(asyncpg.RaiseError, match="cannot be changed"):
            await app.execute("UPDATE audit_record SET purpose = 'tampered'")
        with pytest.raises(asyncpg.RaiseError, match="cannot be changed"):
            await app.execute("DELETE FROM audit_record")
        for statement in (
            "ALTER TABLE audit_record DISABLE TRIGGER audit_record_append_only",
            "ALTER TABLE audit_record DISABLE TRIGGER ALL",
            "DROP TRIGGER audit_record_append_only ON audit_record",
            "CREATE OR REPLACE FUNCTION audit_record_is_append_only() RETURNS trigger "
            "AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
            "TRUNCATE audit_record",
            "CREATE TABLE shadow (id int)",
        ):
            with pytest.raises(asyncpg.PostgresError) as refused:
                await app.execute(statement)
            assert isinstance(
                refused.value, asyncpg.InsufficientPrivilegeError | asyncpg.RaiseError
            ), statement
        assert await app.fetchval("SELECT purpose FROM audit_record") == "case_work"
    finally:
        await app.close()


async def test_several_replicas_migrating_at_once_all_succeed_with_one_schema() -> None:
    async with fresh_postgres_database() as url:
        engines = [create_engine(url) for _ in range(4)]
        try:
            # Without the lock the replicas deadlock or collide: the deadline makes that a failure.
            async with asyncio.timeout(120):
                results = await asyncio.gather(
                    *(upgrade_to_head(engine, REFERRALS_MIGRATIONS) for engine in engines),
                    return_exceptions=True,
                )
            assert [r for r in results if isinstance(r, BaseException)] == []
            async with engines[0].connect() as connection:
                versions = (await connection.exec_driver_sql("SELECT * FROM alembic_version")).all()
            assert len(versions) == 1
        finally:
            for engine in engines:
                await engine.dispose()


async def test_the_compose_init_script_creates_each_service_database_and_roles(
    tmp_path: Path,
) -> None:
    name = f"lh_init_{uuid.uuid4().hex[:12]}"
    for role in ("owner", "app"):
        (tmp_path / f"{name}_{role}_password").write_text(f"{role}-secret-from-the-volume")
    environment = {
        **os.environ,
        "POSTGRES_USER": POSTGRES_USER,
        "PGHOST": POSTGRES_HOST,
        "PGPORT": str(POSTGRES_PORT),
        "HUB_SERVICES": name,
        "HUB_SECRETS_DIR": str(tmp_path),
        "HUB_ROLES_SQL": str(ROLES_SQL),
    }
    script = str(REPO_ROOT / "deploy" / "postgres" / "init-roles.sh")
    try:
        await asyncio.to_thread(
            subprocess.run, ["sh", script], env=environment, check=True, timeout=60
        )
        app = await connect_as(name, f"{name}_app")
        try:
            assert await app.fetchval("SELECT current_database()") == name
        finally:
            await app.close()
    finally:
        admin = await asyncpg.connect(
            host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres"
        )
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}_app"')
            await admin.execute(f'DROP ROLE IF EXISTS "{name}_owner"')
        finally:
            await admin.close()

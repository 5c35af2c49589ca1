"""Alembic plumbing shared by the services: one env.py body, programmatic upgrade, a CLI."""

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_engine_from_config


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    """An Alembic config pointing at a service's migrations folder; no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade_to_head(engine: AsyncEngine, migrations_dir: Path) -> None:
    """Apply every pending migration on the service's own engine (used at start-up)."""
    config = alembic_config(migrations_dir, engine.url.render_as_string(hide_password=False))

    def upgrade(connection: Connection) -> None:
        lock_migrations(connection, migrations_dir)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


def lock_migrations(connection: Connection, migrations_dir: Path) -> None:
    """Several replicas (or migration Jobs) starting together: on PostgreSQL one migrates while
    the others wait here, then find the database at head. The lock is released at commit."""
    if connection.dialect.name == "postgresql":
        key = f"locality-hub:migrations:{migrations_dir.resolve().parent.name}"
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def run_migrations(target_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode, async drivers, batch for SQLite)."""
    config = context.config
    given = config.attributes.get("connection")
    if given is not None:
        _configure_and_run(given, target_metadata)
        return
    asyncio.run(_run_with_own_engine(config, target_metadata))


async def _run_with_own_engine(config: Config, target_metadata: MetaData) -> None:
    engine = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with engine.begin() as connection:
        await connection.run_sync(_configure_and_run, target_metadata)
    await engine.dispose()


def _configure_and_run(connection: Connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()

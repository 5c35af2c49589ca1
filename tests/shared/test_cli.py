"""The service CLI: `migrate` builds the schema; `revision` finds no drift from the models."""

import argparse
import shutil
import sqlite3
from pathlib import Path

import pytest

from shared.cli import run_service_command

pytestmark = pytest.mark.integration

SERVICES = ("referrals", "actionplans", "metrics", "gateway")


def settings_for(service: str, database: Path):  # type: ignore[no-untyped-def]
    module = __import__(f"services.{service}.config", fromlist=["Settings"])
    return module.Settings(database_url=f"sqlite+aiosqlite:///{database}")


@pytest.mark.parametrize("service", SERVICES)
def test_migrate_applies_every_migration(service: str, tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    handled = run_service_command(
        argparse.Namespace(command="migrate"),
        settings_for(service, database),
        app_path=f"services.{service}.main",
        migrations_dir=Path("services") / service / "migrations",
    )
    assert handled
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "alembic_version" in tables
    assert len(tables) > 2


@pytest.mark.parametrize("service", SERVICES)
def test_models_and_migrations_agree(service: str, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    shutil.copytree(Path("services") / service / "migrations", migrations)
    before = set((migrations / "versions").glob("*.py"))
    run_service_command(
        argparse.Namespace(command="revision", message="drift check"),
        settings_for(service, tmp_path / "unused.sqlite3"),
        app_path=f"services.{service}.main",
        migrations_dir=migrations,
    )
    (new,) = set((migrations / "versions").glob("*.py")) - before
    text = new.read_text()
    upgrade = text[text.index("def upgrade()") : text.index("def downgrade()")]
    assert "op." not in upgrade, f"models differ from migrations:\n{upgrade}"


def test_an_unknown_command_is_left_to_the_caller() -> None:
    assert not run_service_command(
        argparse.Namespace(command="clients"),
        settings_for("gateway", Path("x")),
        app_path="services.gateway.main",
        migrations_dir=Path("services/gateway/migrations"),
    )

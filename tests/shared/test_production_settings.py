"""ENVIRONMENT=production refuses what is only fit for development (no I/O beyond tmp files)."""

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from services.gateway.config import Settings as GatewaySettings
from services.referrals.config import Settings as ReferralsSettings
from shared.settings import ServiceSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def real_keys(tmp_path: Path) -> tuple[Path, Path]:
    keys = tmp_path / "secrets"
    keys.mkdir()
    (keys / "private.pem").write_text("private")
    (keys / "public.pem").write_text("public")
    return keys / "private.pem", keys / "public.pem"


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "db-password"
    path.write_text("s3cr3t@with:odd/chars%#?\n")
    return path


def production(tmp_path: Path, real_keys: tuple[Path, Path], password_file: Path, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "environment": "production",
        "data_dir": tmp_path / "data",
        "database_host": "db.internal",
        "database_user": "referrals_app",
        "database_password_file": password_file,
        "auth_public_key_file": real_keys[1],
        "forwarded_allow_ips": "10.0.0.0/8",
        **overrides,
    }
    return ReferralsSettings(**values)


def refusal(**kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as error:
        production(**kwargs)
    return str(error.value)


@pytest.mark.parametrize("name", ["Production", "staging", "prod", ""])
def test_an_unknown_environment_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="environment"):
        ServiceSettings(environment=name)


def test_a_complete_production_configuration_is_accepted(
    tmp_path: Path, real_keys: tuple[Path, Path], password_file: Path
) -> None:
    settings = production(tmp_path, real_keys, password_file)
    assert settings.environment == "production"


def test_production_refuses_sqlite_and_a_missing_database(
    tmp_path: Path, real_keys: tuple[Path, Path], password_file: Path
) -> None:
    sqlite = f"sqlite:///{tmp_path}/x.sqlite3"
    assert "SQLite is for development" in refusal(
        tmp_path=tmp_path, real_keys=real_keys, password_file=password_file,
        database_host=None, database_password_file=None, database_url=sqlite,
    )  # fmt: skip
    assert "PostgreSQL is required (REFERRALS_DATABASE_HOST" in refusal(
        tmp_path=tmp_path, real_keys=real_keys, password_file=password_file,
        database_host=None, database_password_file=None,
    )  # fmt: skip


@pytest.mark.parametrize("password", ["changeme", "", "postgres"])
def test_production_refuses_a_placeholder_database_password(
    tmp_path: Path, real_keys: tuple[Path, Path], password: str
) -> None:
    placeholder = tmp_path / "placeholder"
    placeholder.write_text(password)
    assert "password is empty or a placeholder" in refusal(
        tmp_path=tmp_path, real_keys=real_keys, password_file=placeholder
    )


def test_production_refuses_the_generated_development_key(
    tmp_path: Path, real_keys: tuple[Path, Path], password_file: Path
) -> None:
    development_key = tmp_path / "data" / "keys" / "signing-key.pub.pem"
    development_key.parent.mkdir(parents=True)
    development_key.write_text("generated")
    message = refusal(
        tmp_path=tmp_path, real_keys=real_keys, password_file=password_file,
        auth_public_key_file=development_key,
    )  # fmt: skip
    assert "generated development key" in message
    assert "AUTH_PUBLIC_KEY_FILE is required" in refusal(
        tmp_path=tmp_path, real_keys=real_keys, password_file=password_file,
        auth_public_key_file=None,
    )  # fmt: skip


def test_production_refuses_half_a_tls_configuration_and_trusting_every_proxy(
    tmp_path: Path, real_keys: tuple[Path, Path], password_file: Path
) -> None:
    message = refusal(
        tmp_path=tmp_path, real_keys=real_keys, password_file=password_file,
        tls_certificate_file=real_keys[1],
    )  # fmt: skip
    assert "TLS_CERTIFICATE_FILE and TLS_PRIVATE_KEY_FILE go together" in message
    assert "FORWARDED_ALLOW_IPS=* trusts every caller" in refusal(
        tmp_path=tmp_path, real_keys=real_keys, password_file=password_file,
        forwarded_allow_ips="*",
    )  # fmt: skip


def test_development_accepts_what_production_refuses(tmp_path: Path) -> None:
    settings = ReferralsSettings(environment="development", data_dir=tmp_path)
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")


def test_database_credentials_are_escaped_into_the_url(
    tmp_path: Path, real_keys: tuple[Path, Path], password_file: Path
) -> None:
    settings = production(tmp_path, real_keys, password_file)
    url = make_url(settings.resolved_database_url)
    assert url.password == "s3cr3t@with:odd/chars%#?"
    assert (url.host, url.port, url.database, url.username) == (
        "db.internal", 5432, "referrals", "referrals_app",
    )  # fmt: skip


def test_the_gateway_refuses_redis_without_a_password_and_a_development_private_key(
    tmp_path: Path, real_keys: tuple[Path, Path], password_file: Path
) -> None:
    values = {
        "environment": "production",
        "data_dir": tmp_path / "data",
        "database_host": "db.internal",
        "database_user": "gateway_app",
        "database_password_file": password_file,
        "auth_public_key_file": real_keys[1],
        "auth_private_key_file": real_keys[0],
        "forwarded_allow_ips": "10.0.0.0/8",
    }
    assert GatewaySettings(**values).redis_password() is None
    with pytest.raises(ValidationError, match="Redis needs a password"):
        GatewaySettings(**values, redis_url="redis://redis:6379/0")
    redis_password = tmp_path / "redis-password"
    redis_password.write_text("a-long-random-one\n")
    settings = GatewaySettings(
        **values, redis_url="redis://redis:6379/0", redis_password_file=redis_password
    )
    assert settings.redis_password() == "a-long-random-one"
    with pytest.raises(ValidationError, match="AUTH_PRIVATE_KEY_FILE is required"):
        GatewaySettings(**{**values, "auth_private_key_file": None})

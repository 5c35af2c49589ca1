"""What production refuses: the checks behind `ENVIRONMENT=production`.

Pure rules over a settings object, so each refusal is a one-line test. Development and tests
may use SQLite, a generated key and a trusting proxy setup; production may not.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from shared.settings import ServiceSettings


def production_problems(settings: "ServiceSettings") -> list[str]:
    """Every reason these settings are unsafe in production (empty when they are fine)."""
    return [
        *_database_problems(settings),
        *_verification_key_problems(settings),
        *tls_problems(settings),
    ]


def _database_problems(settings: "ServiceSettings") -> list[str]:
    prefix = settings.model_config.get("env_prefix", "") or ""
    if not settings.database_url and not settings.database_host:
        return [f"PostgreSQL is required ({prefix}DATABASE_HOST or {prefix}DATABASE_URL)"]
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        return ["SQLite is for development and tests: give a PostgreSQL database"]
    if is_placeholder(url.password):
        return ["the database password is empty or a placeholder"]
    return []


def _verification_key_problems(settings: "ServiceSettings") -> list[str]:
    """Keys come from the gateway (AUTH_GATEWAY_URL) or from a public key file."""
    if settings.auth_gateway_url:
        return []
    return signing_key_problems(settings, settings.auth_public_key_file, "AUTH_PUBLIC_KEY_FILE")


def signing_key_problems(
    settings: "ServiceSettings", key_file: Path | None, name: str
) -> list[str]:
    """A signing key must be given, exist, and not be the generated development key."""
    if key_file is None:
        return [f"{name} is required"]
    development_keys = (settings.data_dir / "keys").resolve()
    if key_file.resolve().is_relative_to(development_keys):
        return [f"{name} is the generated development key ({development_keys}); make a real one"]
    if not key_file.is_file():
        return [f"{name} ({key_file}) does not exist"]
    return []


def tls_problems(settings: "ServiceSettings") -> list[str]:
    """TLS served by the process needs both files; trusting every proxy lets callers spoof."""
    problems = []
    given = [settings.tls_certificate_file, settings.tls_private_key_file]
    if any(given) and not all(given):
        problems.append("TLS_CERTIFICATE_FILE and TLS_PRIVATE_KEY_FILE go together")
    problems += [f"TLS file {path} does not exist" for path in given if path and not path.is_file()]
    if "*" in settings.forwarded_allow_ips.split(","):
        # Any caller could then claim any address in X-Forwarded-For and dodge per-caller limits.
        problems.append("FORWARDED_ALLOW_IPS=* trusts every caller: list the proxies' addresses")
    return problems


def is_placeholder(secret: str | None) -> bool:
    from shared.settings import PLACEHOLDER_SECRETS

    return secret is None or secret.strip().lower() in PLACEHOLDER_SECRETS

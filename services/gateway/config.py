"""Settings of the gateway (environment prefix GATEWAY_; shared AUTH_*, REDIS_URL, DATA_DIR)."""

from datetime import timedelta
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.localities import DEFAULT_LOCALITIES_FILE
from shared.production import is_placeholder, signing_key_problems
from shared.settings import ServiceSettings, _global

# Path patterns (segments, `*` matches one) to the service that owns them; longest match wins.
# The one list of prefixes: the scopes come from the services' documents, and a test checks
# that every operation a service documents is routed to it.
DEFAULT_ROUTES: dict[str, list[str]] = {
    "referrals": [
        "/api/v1/referrals",
        "/api/v1/audit",
        "/api/v1/referral-categories",
        "/api/v1/webhooks",
    ],
    "actionplans": [
        "/api/v1/action-plans",
        "/api/v1/objectives",
        "/api/v1/localities/*/action-plans",
    ],
    "metrics": [
        "/api/v1/indicators",
        "/api/v1/observations",
        "/api/v1/areas",
        "/api/v1/derived",
        "/api/v1/localities/*/scorecard",
        "/api/v1/localities/*/report",
        "/api/v1/localities/*/areas",
        "/api/v1/localities/*/roll-up",
        "/api/v1/authorities",
    ],
}


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    service_name: str = "gateway"
    referrals_url: str = "http://127.0.0.1:8001"
    actionplans_url: str = "http://127.0.0.1:8002"
    metrics_url: str = "http://127.0.0.1:8003"
    routes: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_ROUTES))
    # The localities an Open311 report may name (attribute[locality_code] or jurisdiction_id).
    localities_file: Path = DEFAULT_LOCALITIES_FILE

    connect_timeout_s: float = 2.0
    read_timeout_s: float = 15.0
    max_connections: int = 200
    max_body_bytes: int = 10 * 1024 * 1024
    breaker_failure_threshold: int = 5
    breaker_open_s: float = 10.0

    # The first signing key, imported into the database on first start (`keys rotate` makes
    # the next ones there); without it a development key is used or one is generated.
    auth_private_key_file: Path | None = Field(
        None, validation_alias=_global("AUTH_PRIVATE_KEY_FILE")
    )
    access_token_ttl_s: int = 900
    # A verified token is remembered this long (never past its expiry) to skip the RSA check.
    verified_token_cache_s: float = 30.0
    # How often the signing keys are re-read from the database (a rotation by another process).
    signing_keys_refresh_s: float = 5.0
    # How often client revocations and per-client limits are re-read from the database.
    client_refresh_s: float = 5.0

    rate_limit_quota: int = 600
    rate_limit_window_s: int = 60
    # POST /oauth/token attempts per caller address (whatever the outcome).
    token_attempts_quota: int = 60
    token_attempts_window_s: int = 60
    redis_url: str | None = Field(None, validation_alias=_global("REDIS_URL"))
    # Kept out of REDIS_URL, like the database password (a password in the URL wins).
    redis_password_file: Path | None = Field(None, validation_alias=_global("REDIS_PASSWORD_FILE"))

    # `token mint` (operators' tokens outside OAuth): the longest lifetime it may give.
    token_mint_max_ttl_s: int = 8 * 3600

    # How long the merged document is kept, and how often the services' documents (and so
    # the scope rules) are read again.
    openapi_cache_s: float = 60.0

    @model_validator(mode="after")
    def _signing_key_and_redis_password_in_production(self) -> "Settings":
        if self.environment != "production":
            return self
        problems = signing_key_problems(self, self.auth_private_key_file, "AUTH_PRIVATE_KEY_FILE")
        if self.redis_url and is_placeholder(self.redis_password()):
            problems.append("Redis needs a password (REDIS_PASSWORD_FILE)")
        if problems:
            raise ValueError("gateway refuses to start in production: " + "; ".join(problems))
        return self

    def redis_password(self) -> str | None:
        if self.redis_password_file is not None:
            return self.redis_password_file.read_text().rstrip("\r\n")
        return redis_url_password(self.redis_url)

    @property
    def longest_token_lifetime(self) -> timedelta:
        """How long any token the gateway signs may be accepted: a retired key stays published,
        and a revoked client stays listed, this long."""
        longest = max(self.access_token_ttl_s, self.token_mint_max_ttl_s)
        return timedelta(seconds=longest + self.auth_leeway_s)

    @property
    def resolved_private_key_file(self) -> Path:
        return self.auth_private_key_file or self.data_dir / "keys" / "signing-key.pem"

    def upstreams(self) -> dict[str, str]:
        return {
            "referrals": self.referrals_url.rstrip("/"),
            "actionplans": self.actionplans_url.rstrip("/"),
            "metrics": self.metrics_url.rstrip("/"),
        }


def redis_url_password(url: str | None) -> str | None:
    from urllib.parse import unquote, urlsplit

    password = urlsplit(url).password if url else None
    return unquote(password) if password else None

"""Settings base shared by every service; each service subclasses it with its own env prefix."""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / ".data"
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "password", "postgres"}
# Anything else (`Production`, `staging`) is refused at start rather than silently treated as
# development.
Environment = Literal["development", "test", "production"]


def _global(name: str) -> AliasChoices:
    """Read a setting from an unprefixed variable that all services share (e.g. KAFKA_*)."""
    return AliasChoices(name.lower(), name)


class ServiceSettings(BaseSettings):
    """What every service needs: where its data lives, the broker, and how to verify callers."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "service"
    environment: Environment = Field("development", validation_alias=_global("ENVIRONMENT"))
    data_dir: Path = Field(DEFAULT_DATA_DIR, validation_alias=_global("DATA_DIR"))
    database_url: str | None = None
    # PostgreSQL credentials as separate settings, so a password never sits in a URL (and may
    # hold any character); the password preferably from a secret file.
    database_host: str | None = None
    database_port: int = 5432
    database_name: str | None = None
    database_user: str | None = None
    database_password: SecretStr | None = None
    database_password_file: Path | None = None
    migrate_on_startup: bool = True
    sql_echo: bool = False

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias=_global("KAFKA_BOOTSTRAP_SERVERS")
    )
    # Tansu (the local broker) rejects the idempotent producer; event ids make retries safe.
    kafka_enable_idempotence: bool = Field(
        False, validation_alias=_global("KAFKA_ENABLE_IDEMPOTENCE")
    )
    # Tansu holds a JoinGroup for half the session timeout: tests shorten it.
    kafka_session_timeout_ms: int = Field(
        10_000, validation_alias=_global("KAFKA_SESSION_TIMEOUT_MS")
    )
    kafka_request_timeout_ms: int = Field(
        10_000, validation_alias=_global("KAFKA_REQUEST_TIMEOUT_MS")
    )
    kafka_topic_partitions: int = Field(3, validation_alias=_global("KAFKA_TOPIC_PARTITIONS"))
    kafka_replication_factor: int = Field(1, validation_alias=_global("KAFKA_REPLICATION_FACTOR"))
    kafka_consumer_max_attempts: int = 3
    # How long the broker may hold a fetch with no new records: the floor of consumer latency
    # on a broker that does not answer early, as Tansu does not. bench.event_path at 100
    # referrals/s: 201 -> metric p99 309 ms at aiokafka's default 500, 183 ms at 250, 119 ms
    # at 100; each halving costs a consumer about 0.2-0.5% of a core while idle (more fetches).
    kafka_fetch_max_wait_ms: int = Field(250, validation_alias=_global("KAFKA_FETCH_MAX_WAIT_MS"))
    # A consumer retrying or not progressing on a backlog this long reports itself stalled.
    kafka_consumer_stall_after_s: float = 30.0
    # The longest wait between two tries after a transient failure (the consumer, its dead
    # letters, the relay): at most this long after a database or broker outage ends the
    # service notices. The fault tests shorten it (a 20 s outage then ends within a second).
    retry_max_delay_s: float = Field(10.0, gt=0)
    # Apply the records of one poll in one transaction (falls back to one by one on failure).
    kafka_consumer_batch: bool = True
    # Processed event ids are kept longer than the broker keeps records (7 days by default),
    # so no redelivery can outlive the memory of having handled it.
    inbox_retention_hours: int = 14 * 24
    outbox_poll_interval_s: float = 0.5
    outbox_batch_size: int = 200
    # Published rows are kept this long so `outbox republish --since` can re-announce them.
    outbox_retention_hours: int = 72
    # A row the broker refuses this many times is parked (with its reason) so others go on.
    outbox_max_attempts: int = 5

    auth_issuer: str = Field("locality-hub", validation_alias=_global("AUTH_ISSUER"))
    auth_audience: str = Field("locality-hub-api", validation_alias=_global("AUTH_AUDIENCE"))
    auth_public_key_file: Path | None = Field(
        None, validation_alias=_global("AUTH_PUBLIC_KEY_FILE")
    )
    auth_leeway_s: int = Field(30, validation_alias=_global("AUTH_LEEWAY_S"))
    # A staff identity provider whose tokens are accepted too: its `iss` and its JWKS (URL or file).
    auth_external_issuer: str | None = Field(None, validation_alias=_global("AUTH_EXTERNAL_ISSUER"))
    auth_external_jwks: str | None = Field(None, validation_alias=_global("AUTH_EXTERNAL_JWKS"))
    auth_external_audience: str | None = Field(
        None, validation_alias=_global("AUTH_EXTERNAL_AUDIENCE")
    )
    auth_jwks_cache_s: int = Field(300, validation_alias=_global("AUTH_JWKS_CACHE_S"))
    # The gateway whose signing keys (JWKS) and revoked clients this service follows; when
    # unset, tokens are verified with AUTH_PUBLIC_KEY_FILE and revocation is the gateway's alone.
    auth_gateway_url: str | None = Field(None, validation_alias=_global("AUTH_GATEWAY_URL"))
    # How often the revoked clients are read from the gateway (how soon a revocation bites).
    auth_revocation_poll_s: float = Field(5.0, validation_alias=_global("AUTH_REVOCATION_POLL_S"))
    # A token naming an unknown key fetches the keys again at most this often.
    auth_jwks_min_refresh_s: float = Field(
        10.0, validation_alias=_global("AUTH_JWKS_MIN_REFRESH_S")
    )

    # Serving: TLS when the process terminates it itself (both files), and the proxies whose
    # X-Forwarded-For/-Proto uvicorn believes (comma-separated addresses or networks).
    tls_certificate_file: Path | None = Field(
        None, validation_alias=_global("TLS_CERTIFICATE_FILE")
    )
    tls_private_key_file: Path | None = Field(
        None, validation_alias=_global("TLS_PRIVATE_KEY_FILE")
    )
    forwarded_allow_ips: str = Field("127.0.0.1", validation_alias=_global("FORWARDED_ALLOW_IPS"))

    @model_validator(mode="after")
    def _refuse_unsafe_production_configuration(self) -> "ServiceSettings":
        if self.environment != "production":
            return self
        from shared.production import production_problems

        problems = production_problems(self)
        if problems:
            raise ValueError(
                f"{self.service_name} refuses to start in production: " + "; ".join(problems)
            )
        return self

    @model_validator(mode="after")
    def _one_way_to_name_the_database(self) -> "ServiceSettings":
        if self.database_url and self.database_host:
            raise ValueError("set either the database URL or the database host, not both")
        if self.database_password and self.database_password_file:
            raise ValueError("set either the database password or its file, not both")
        return self

    @model_validator(mode="after")
    def _external_issuer_needs_keys(self) -> "ServiceSettings":
        if bool(self.auth_external_issuer) != bool(self.auth_external_jwks):
            raise ValueError("set AUTH_EXTERNAL_ISSUER and AUTH_EXTERNAL_JWKS together")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or a SQLite file in the data folder (the embedded default)."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        if self.database_host:
            return self.database_url_from_parts().render_as_string(hide_password=False)
        return f"sqlite+aiosqlite:///{self.data_dir / f'{self.service_name}.sqlite3'}"

    def database_url_from_parts(self) -> URL:
        """PostgreSQL URL built from host, name, user and password; URL.create escapes each."""
        return URL.create(
            "postgresql+asyncpg",
            username=self.database_user,
            password=self.database_password_value(),
            host=self.database_host,
            port=self.database_port,
            database=self.database_name or self.service_name,
        )

    def database_password_value(self) -> str | None:
        """The password from its file (trailing newline dropped) or the setting."""
        if self.database_password_file is not None:
            return self.database_password_file.read_text().rstrip("\r\n")
        return self.database_password.get_secret_value() if self.database_password else None

    @property
    def resolved_public_key_file(self) -> Path:
        return self.auth_public_key_file or self.data_dir / "keys" / "signing-key.pub.pem"


def normalise_database_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite://` URLs and pick the async drivers for them."""
    for prefix, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url

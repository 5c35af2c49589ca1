"""Settings of the gateway (environment prefix GATEWAY_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Path patterns (segments, `*` matches one) to the service that owns them; longest match wins.
DEFAULT_ROUTES: dict[str, list[str]] = {
    "referrals": ["/api/v1/referrals", "/api/v1/audit", "/api/v1/referral-categories"],
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
    ],
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    referrals_url: str = "http://127.0.0.1:8001"
    actionplans_url: str = "http://127.0.0.1:8002"
    metrics_url: str = "http://127.0.0.1:8003"
    routes: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_ROUTES))
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 15.0
    max_connections: int = 200

    def upstreams(self) -> dict[str, str]:
        return {
            "referrals": self.referrals_url.rstrip("/"),
            "actionplans": self.actionplans_url.rstrip("/"),
            "metrics": self.metrics_url.rstrip("/"),
        }

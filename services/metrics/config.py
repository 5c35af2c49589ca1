"""Settings of the metrics service (environment prefix METRICS_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore", populate_by_name=True)

    service_name: str = "metrics"
    consumer_group: str = "metrics"

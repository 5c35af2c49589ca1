"""Settings of the actionplans service (environment prefix ACTIONPLANS_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ACTIONPLANS_", extra="ignore", populate_by_name=True
    )

    service_name: str = "actionplans"
    consumer_group: str = "actionplans"

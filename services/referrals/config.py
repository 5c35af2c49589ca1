"""Settings of the referrals service (environment prefix REFERRALS_)."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.localities import DEFAULT_LOCALITIES_FILE
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="REFERRALS_", extra="ignore", populate_by_name=True
    )

    service_name: str = "referrals"
    localities_file: Path = DEFAULT_LOCALITIES_FILE

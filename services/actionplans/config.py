"""Settings of the actionplans service (environment prefix ACTIONPLANS_)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.localities import DEFAULT_LOCALITIES_FILE
from shared.objectives import DEFAULT_OBJECTIVES_FILE
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ACTIONPLANS_", extra="ignore", populate_by_name=True
    )

    service_name: str = "actionplans"
    consumer_group: str = "actionplans"
    localities_file: Path = DEFAULT_LOCALITIES_FILE
    objectives_file: Path = DEFAULT_OBJECTIVES_FILE
    # Action due dates are calendar dates in the councils' time zone.
    timezone: str = "Europe/London"
    overdue_check_interval_s: float = Field(60.0, gt=0)

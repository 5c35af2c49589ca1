"""Settings of the metrics service (environment prefix METRICS_)."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.metrics.areas import DEFAULT_AREAS_FILE
from services.metrics.writers import DEFAULT_WRITERS_FILE
from shared.localities import DEFAULT_LOCALITIES_FILE
from shared.objectives import DEFAULT_OBJECTIVES_FILE
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore", populate_by_name=True)

    service_name: str = "metrics"
    consumer_group: str = "metrics"
    areas_file: Path = DEFAULT_AREAS_FILE
    # Which organisations may write which figures (403 for the others).
    writers_file: Path = DEFAULT_WRITERS_FILE
    localities_file: Path = DEFAULT_LOCALITIES_FILE
    # The objectives plans serve (the same file as actionplans'): the report prints their titles.
    objectives_file: Path = DEFAULT_OBJECTIVES_FILE
    import_max_bytes: int = 5_000_000  # a bulk CSV import larger than this is refused (413)

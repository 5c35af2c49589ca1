"""Settings of the referrals service (environment prefix REFERRALS_) and its rule documents."""

import json
from datetime import time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from services.referrals.domain.clocks import WorkingCalendar, parse_bank_holidays
from services.referrals.domain.taxonomy import Taxonomy
from services.referrals.domain.triage import TriagePolicy
from services.referrals.domain.webhooks import TargetPolicy
from shared.localities import DEFAULT_LOCALITIES_FILE
from shared.settings import ServiceSettings

RULES_DIR = Path(__file__).parent / "rules"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="REFERRALS_", extra="ignore", populate_by_name=True
    )

    service_name: str = "referrals"
    consumer_group: str = "referrals"
    localities_file: Path = DEFAULT_LOCALITIES_FILE
    taxonomy_file: Path = RULES_DIR / "taxonomy.json"
    triage_rules_file: Path = RULES_DIR / "triage_rules.json"
    working_calendar_file: Path = RULES_DIR / "working_calendar.json"
    # Override the calendar document's working hours without copying it.
    working_day_starts: time | None = None
    working_day_ends: time | None = None
    # How often the service looks for clocks that have passed their due time (0 = never).
    overdue_check_interval_s: float = 60.0
    # Why a read of personal fields happened, when the caller does not say.
    default_read_purpose: str = "case_work"
    default_page_size: int = 50
    max_page_size: int = 200
    # Webhooks (docs/webhooks.md). Unset: HTTPS and public addresses only, except in
    # development and tests, where partners' test receivers run on this machine.
    webhooks_require_https: bool | None = None
    webhooks_allow_private_targets: bool | None = None
    webhooks_worker: bool = True  # deliver from this instance
    webhooks_timeout_s: float = 10.0
    # The longest the worker sleeps with nothing due, in case a wake-up was missed.
    webhooks_idle_poll_s: float = 5.0

    @model_validator(mode="after")
    def _webhooks_stay_safe_in_production(self) -> "Settings":
        if self.environment == "production" and (
            self.webhooks_require_https is False or self.webhooks_allow_private_targets
        ):
            raise ValueError(
                "referrals refuses to start in production with webhooks to plain http or to "
                "private addresses (REFERRALS_WEBHOOKS_REQUIRE_HTTPS, "
                "REFERRALS_WEBHOOKS_ALLOW_PRIVATE_TARGETS)"
            )
        return self

    def webhook_target_policy(self) -> TargetPolicy:
        relaxed = self.environment in ("development", "test")
        return TargetPolicy(
            require_https=(
                self.webhooks_require_https
                if self.webhooks_require_https is not None
                else not relaxed
            ),
            allow_private=(
                self.webhooks_allow_private_targets
                if self.webhooks_allow_private_targets is not None
                else relaxed
            ),
        )

    def taxonomy(self) -> Taxonomy:
        return load_taxonomy(self.taxonomy_file)

    def triage_policy(self) -> TriagePolicy:
        return load_triage_policy(self.triage_rules_file)

    def calendar(self) -> WorkingCalendar:
        return load_calendar(
            self.working_calendar_file, self.working_day_starts, self.working_day_ends
        )


@lru_cache(maxsize=8)
def load_taxonomy(path: Path) -> Taxonomy:
    return Taxonomy.from_document(json.loads(path.read_text()))


@lru_cache(maxsize=8)
def load_triage_policy(path: Path) -> TriagePolicy:
    return TriagePolicy.from_document(json.loads(path.read_text()))


@lru_cache(maxsize=8)
def load_calendar(
    path: Path, day_starts: time | None = None, day_ends: time | None = None
) -> WorkingCalendar:
    document = json.loads(path.read_text())
    return WorkingCalendar(
        timezone=ZoneInfo(document.get("timezone", "Europe/London")),
        day_starts=day_starts or time.fromisoformat(document.get("day_starts", "09:00")),
        day_ends=day_ends or time.fromisoformat(document.get("day_ends", "17:00")),
        weekdays=frozenset(
            WEEKDAYS.index(name.lower()) for name in document.get("working_weekdays", WEEKDAYS[:5])
        ),
        bank_holidays=parse_bank_holidays(document.get("bank_holidays", [])),
    )

"""Events produced by the metrics service.

Topics: `metrics.observation` (key = "<indicator_code>:<area_code>") and `metrics.indicator`
(key = "<indicator_code>:<area_code>"). The actionplans service consumes both to keep each
SMART target's current value and RAG.
"""

from datetime import date, datetime

from shared.contracts import EventPayload, period_code

__all__ = ["period_code"]

SOURCE = "/services/metrics"
# The record key (and ce_subject) of each topic; deploy/asyncapi.py publishes it.
KEYS = {
    "metrics.observation": "<indicator_code>:<area_code>",
    "metrics.indicator": "<indicator_code>:<area_code>",
}

OBSERVATION_RECORDED_V1 = "metrics.observation.recorded.v1"
INDICATOR_STATUS_CHANGED_V1 = "metrics.indicator.status_changed.v1"

STATUSES = ("improving", "worsening", "no_clear_change")
RAGS = ("red", "amber", "green")


def subject_key(indicator_code: str, area_code: str) -> str:
    return f"{indicator_code}:{area_code}"


class ObservationRecordedV1(EventPayload):
    """A value was recorded (or revised) for an indicator, area and period."""

    observation_id: str
    indicator_code: str
    area_code: str  # a locality ("NP"), comparison area, or ward/LSOA GSS code ("E05...")
    period_start: date
    period_end: date
    period_label: str  # a code: "2021-Q3", "2021-10", or "2021-10-01/2021-10-31" (period_code)
    value: float
    unit: str
    desired_direction: str  # "up" | "down"
    numerator: float | None = None
    denominator: float | None = None
    sample_size: int | None = None
    revision: int = 1  # 2+ means an earlier value for this period was revised
    recorded_at: datetime


class IndicatorStatusChangedV1(EventPayload):
    """An indicator's direction-aware status or RAG flipped for an area."""

    indicator_code: str
    area_code: str
    period_label: str  # a code (period_code)
    latest_value: float
    previous_status: str | None = None
    status: str  # one of STATUSES
    previous_rag: str | None = None
    rag: str | None = None  # one of RAGS, or None when no target applies
    target_id: str | None = None  # the actionplans target the RAG was measured against
    changed_at: datetime

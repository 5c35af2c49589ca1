"""Events the metrics service publishes, staged in the use case's transaction (outbox)."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.analysis import Assessment
from services.metrics.models import Indicator, IndicatorStatus, Observation, OutboxEvent
from shared.contracts import metrics as contract
from shared.events import new_event
from shared.outbox import add_event


def stage_observation_recorded(
    session: AsyncSession, indicator: Indicator, row: Observation
) -> None:
    """Stage `metrics.observation.recorded.v1` in the caller's transaction."""
    payload = contract.ObservationRecordedV1(
        observation_id=str(row.id),
        indicator_code=row.indicator_code,
        area_code=row.area_code,
        period_start=row.period_start,
        period_end=row.period_end,
        period_label=contract.period_code(row.period_label, row.period_start, row.period_end),
        value=row.value,
        unit=indicator.unit,
        desired_direction=indicator.desired_direction,
        numerator=row.numerator,
        denominator=row.denominator,
        sample_size=row.sample_size,
        revision=row.revision,
        recorded_at=row.recorded_at,
    )
    key = contract.subject_key(row.indicator_code, row.area_code)
    add_event(
        session,
        OutboxEvent,
        new_event(contract.SOURCE, contract.OBSERVATION_RECORDED_V1, key, payload),
    )


def stage_status_changed(
    session: AsyncSession,
    indicator: Indicator,
    area_code: str,
    result: Assessment,
    before: IndicatorStatus | None,
    changed_at: datetime,
) -> None:
    """Stage `metrics.indicator.status_changed.v1` in the caller's transaction."""
    payload = contract.IndicatorStatusChangedV1(
        indicator_code=indicator.code,
        area_code=area_code,
        period_label=contract.period_code(
            result.latest.period_label, result.latest.period_start, result.latest.period_end
        ),
        latest_value=result.latest.value,
        previous_status=before.status if before else None,
        status=result.status.status,
        previous_rag=before.rag if before else None,
        rag=result.rag,
        target_id=result.target.target_id if result.target else None,
        changed_at=changed_at,
    )
    key = contract.subject_key(indicator.code, area_code)
    add_event(
        session,
        OutboxEvent,
        new_event(contract.SOURCE, contract.INDICATOR_STATUS_CHANGED_V1, key, payload),
    )

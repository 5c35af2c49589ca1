"""Live status of targets: the metrics service's events keep each target's value and RAG.

`metrics.observation.recorded.v1` teaches this service each indicator's desired direction and
unit (the metrics service owns indicator definitions) and gives the latest value per area;
`metrics.indicator.status_changed.v1` gives the trend. RAG itself is computed here, against the
plan's own trajectory (domain.Trajectory), so the off-track event follows the plan's numbers.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.actionplans import domain, events, repository
from services.actionplans.models import (
    Indicator,
    LatestObservation,
    OutboxEvent,
    Plan,
    Target,
    TargetVersion,
)
from services.actionplans.service.guards import record_change
from shared.clock import system_clock
from shared.consumer import EventHandler
from shared.contracts.metrics import (
    INDICATOR_STATUS_CHANGED_V1,
    OBSERVATION_RECORDED_V1,
    IndicatorStatusChangedV1,
    ObservationRecordedV1,
)
from shared.events import EventEnvelope
from shared.outbox import add_event


def trajectory(target: Target, version: TargetVersion) -> domain.Trajectory:
    """The straight line the target is measured against (see domain.Trajectory)."""
    return domain.Trajectory(
        direction=domain.Direction(target.desired_direction),
        baseline_value=version.baseline_value,
        target_value=version.target_value,
        starts_on=version.baseline_on or version.set_at.date(),
        ends_on=version.target_date,
        amber_tolerance=version.amber_tolerance,
    )


def refresh_target(
    session: AsyncSession,
    plan: Plan,
    target: Target,
    version: TargetVersion,
    observation: LatestObservation | None,
    *,
    at: datetime,
) -> None:
    """Set the target's value and RAG from the latest observation; emit off-track on red."""
    if observation is None:
        return
    previous_rag = target.rag
    target.current_value = observation.value
    target.current_period_label = observation.period_label
    target.current_period_end = observation.period_end
    if observation.trend is not None:  # the status event may arrive before the observation
        target.trend = observation.trend
    rag = trajectory(target, version).rag(observation.value, observation.period_end)
    target.rag = rag.value
    if rag.value == previous_rag:
        return
    target.rag_changed_at = at
    record_change(
        session,
        plan,
        change="target.rag_changed",
        entity_id=target.id,
        caller=None,
        at=at,
        details={
            "from": previous_rag,
            "to": rag.value,
            "value": observation.value,
            "period": observation.period_label,
        },
    )
    # Only an active plan is followed by the strategic group; drafts and closed plans stay quiet.
    if domain.turned_red(previous_rag, rag.value) and plan.status == domain.PlanStatus.ACTIVE:
        add_event(session, OutboxEvent, events.target_off_track(plan, target, at))


async def on_observation_recorded(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Learn the indicator, keep the latest value per area, re-rate the targets it measures."""
    payload = ObservationRecordedV1.model_validate(envelope.data)
    now = system_clock()  # a consumer has no request: the event is handled now
    await _learn_indicator(session, payload, now)
    observation = await repository.get_latest_observation(
        session, payload.indicator_code, payload.area_code
    )
    known = (
        domain.ObservationPoint(observation.period_end, observation.revision)
        if observation
        else None
    )
    newer = domain.supersedes(domain.ObservationPoint(payload.period_end, payload.revision), known)
    if newer:
        observation = await _store_observation(session, observation, payload)
    await _refresh_targets_on(session, payload, observation, newer=newer, at=now)


async def _learn_indicator(
    session: AsyncSession, payload: ObservationRecordedV1, now: datetime
) -> None:
    """Record the indicator's direction and unit, as the metrics service last published them."""
    indicator = await repository.get_indicator(session, payload.indicator_code)
    if indicator is None:
        repository.add(
            session,
            Indicator(
                code=payload.indicator_code,
                desired_direction=payload.desired_direction,
                unit=payload.unit,
                seen_at=now,
            ),
        )
        return
    indicator.desired_direction = payload.desired_direction
    indicator.unit = payload.unit
    indicator.seen_at = now


async def _store_observation(
    session: AsyncSession, row: LatestObservation | None, payload: ObservationRecordedV1
) -> LatestObservation:
    if row is None:
        row = LatestObservation(indicator_code=payload.indicator_code, area_code=payload.area_code)
        repository.add(session, row)
    row.observation_id = payload.observation_id
    row.period_end = payload.period_end
    row.period_label = payload.period_label
    row.value = payload.value
    row.revision = payload.revision
    row.recorded_at = payload.recorded_at
    return row


async def _refresh_targets_on(
    session: AsyncSession,
    payload: ObservationRecordedV1,
    observation: LatestObservation | None,
    *,
    newer: bool,
    at: datetime,
) -> None:
    """Re-rate the targets the observation measures, and any whose direction just changed."""
    targets = await repository.targets_measured_by(session, payload.indicator_code)
    versions = await repository.current_versions(session, targets)
    for target in targets:
        redirected = _adopt_indicator_direction(target, payload.desired_direction)
        if target.area_code == payload.area_code:
            if not (newer or redirected):
                continue  # an older period arrived late: the current value stands
            latest = observation
        elif redirected:
            latest = await repository.get_latest_observation(
                session, target.indicator_code, target.area_code
            )
        else:
            continue
        plan = await repository.get_plan(session, target.plan_id)
        assert plan is not None
        refresh_target(session, plan, target, versions[target.id], latest, at=at)


def _adopt_indicator_direction(target: Target, direction: str) -> bool:
    """The indicator's own direction replaces one a caller gave; True if the RAG may change."""
    target.direction_source = domain.DirectionSource.INDICATOR.value
    if target.desired_direction == direction:
        return False
    target.desired_direction = direction
    return True


async def on_indicator_status_changed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Keep the indicator's trend (improving, worsening, no clear change) on its targets."""
    payload = IndicatorStatusChangedV1.model_validate(envelope.data)
    observation = await repository.get_latest_observation(
        session, payload.indicator_code, payload.area_code
    )
    if observation is not None:
        observation.trend = payload.status
    for target in await repository.targets_measured_by(
        session, payload.indicator_code, payload.area_code
    ):
        target.trend = payload.status


HANDLERS: dict[str, EventHandler] = {
    OBSERVATION_RECORDED_V1: on_observation_recorded,
    INDICATOR_STATUS_CHANGED_V1: on_indicator_status_changed,
}

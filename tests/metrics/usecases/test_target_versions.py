"""The actionplans target events keep every version, so an as-at reading finds the one then."""

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from services.metrics import repository
from services.metrics.models import Target
from services.metrics.service.consumed import HANDLERS
from shared.contracts import actionplans as plans
from shared.events import EventEnvelope, new_event
from tests.usecases import sessions_on_copy

FEBRUARY, APRIL = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def target_set(version: int, value: float, set_at: datetime) -> EventEnvelope:
    payload = plans.TargetSetV1(
        plan_id="plan-1",
        locality_code="NP",
        organisation="MBC",
        target_id="target-1",
        version=version,
        indicator_code="feel_safe_day",
        area_code="NP",
        baseline_value=31.2,
        baseline_period="Wave Sep 2020",
        target_value=value,
        target_date=date(2026, 12, 31),
        amber_tolerance=5,
        set_at=set_at,
    )
    return new_event(plans.SOURCE, plans.TARGET_SET_V1, "plan-1", payload)


async def test_every_target_version_is_kept_once_and_each_answers_for_its_own_time(
    metrics_template: Path, tmp_path: Path
) -> None:
    first, second = target_set(1, 50, FEBRUARY), target_set(2, 60, APRIL)
    async for sessions in sessions_on_copy(metrics_template, tmp_path):
        for envelope in (second, first, second):  # out of order, and redelivered
            async with sessions() as session, session.begin():
                await HANDLERS[envelope.type](session, envelope)
        async with sessions() as session, session.begin():
            kept = (await session.scalars(select(Target.version).order_by(Target.version))).all()
            in_force = {
                as_of: [
                    (t.version, t.target_value)
                    for t in await repository.list_targets(
                        session, indicator_code="feel_safe_day", area_code="NP", as_of=as_of
                    )
                ]
                for as_of in (
                    None,
                    datetime(2026, 3, 1, tzinfo=UTC),
                    datetime(2026, 1, 1, tzinfo=UTC),
                )
            }
    assert kept == [1, 2]
    assert list(in_force.values()) == [[(2, 60.0)], [(1, 50.0)], []]

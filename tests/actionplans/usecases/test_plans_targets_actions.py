"""Plans, targets and actions as use cases: rules and events without HTTP."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.actionplans.config import Settings
from services.actionplans.models import OutboxEvent, Plan
from services.actionplans.schemas import ActionCreate, ActionUpdate, PlanCreate, TargetCreate
from services.actionplans.service import actions, plans, targets
from services.actionplans.service.live_status import HANDLERS
from shared.problems import Conflict, Forbidden, PreconditionFailed, Unprocessable
from tests.actionplans.conftest import (
    COUNCIL,
    HOUSING,
    OUTSIDER,
    POLICE,
    observation,
    plan_body,
    target_body,
)
from tests.actionplans.usecases.conftest import caller

pytestmark = pytest.mark.usecases

Sessions = async_sessionmaker[AsyncSession]
# The use cases read time from their caller; a fixed instant keeps the tests repeatable.
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


async def new_plan(
    sessions: Sessions, settings: Settings, by: str = POLICE, **body: object
) -> Plan:
    async with sessions() as session:
        return await plans.create_plan(
            session,
            now=NOW,
            settings=settings,
            caller=caller(by),
            request=PlanCreate.model_validate(plan_body(**body)),
        )


async def outbox_types(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.seq)))


async def test_a_plan_is_created_with_its_event_and_the_creator_in_the_working_group(
    sessions: Sessions, settings: Settings
) -> None:
    plan = await new_plan(sessions, settings, by="NP-HUB")  # the hub names police as lead

    assert plan.lead_organisation == POLICE
    assert plan.member_organisations == [COUNCIL, "NP-HUB"]
    assert await outbox_types(sessions) == ["actionplans.plan.created.v1"]


async def test_only_the_lead_or_the_hub_may_name_a_plan_s_lead(
    sessions: Sessions, settings: Settings
) -> None:
    with pytest.raises(Forbidden):
        await new_plan(sessions, settings, by=HOUSING)  # naming police as lead
    with pytest.raises(Forbidden):
        await new_plan(sessions, settings, by=COUNCIL)  # even a would-be member
    assert await outbox_types(sessions) == []
    assert (await new_plan(sessions, settings, by="NP-HUB")).lead_organisation == POLICE
    assert (await new_plan(sessions, settings, by=POLICE)).lead_organisation == POLICE


async def test_an_unknown_locality_is_refused_before_anything_is_stored(
    sessions: Sessions, settings: Settings
) -> None:
    with pytest.raises(Unprocessable):
        await new_plan(sessions, settings, locality_code="XX")
    assert await outbox_types(sessions) == []


async def test_a_target_without_a_baseline_names_what_is_missing(
    sessions: Sessions, settings: Settings
) -> None:
    plan = await new_plan(sessions, settings)
    request = TargetCreate.model_validate(target_body(baseline_value=None, baseline_period=None))
    async with sessions() as session:
        with pytest.raises(Unprocessable) as refused:
            await targets.set_target(
                session, now=NOW, caller=caller(POLICE), plan_id=plan.id, request=request
            )
    assert {e["field"] for e in refused.value.errors} == {"baseline_value", "baseline_period"}


async def test_a_target_on_an_indicator_with_data_is_rated_at_once_and_goes_off_track(
    sessions: Sessions, settings: Settings
) -> None:
    plan = await new_plan(sessions, settings)
    # The consumer's handler, applied directly: a low value already known for this indicator.
    event = observation("feel_safe_dark", "NP", 12.9, date(2021, 3, 31))
    async with sessions() as session, session.begin():
        await HANDLERS[event.type](session, event)

    request = TargetCreate.model_validate(
        target_body(
            indicator_code="feel_safe_dark",
            baseline_value=9.68,
            target_value=40.0,
            target_date="2021-09-30",
        )
    )
    async with sessions() as session:
        target = await targets.set_target(
            session, now=NOW, caller=caller(POLICE), plan_id=plan.id, request=request
        )

    assert (target.target.current_value, target.target.rag) == (12.9, "red")
    assert await outbox_types(sessions) == [
        "actionplans.plan.created.v1",
        "actionplans.target.set.v1",
        "actionplans.target.off_track.v1",
    ]


async def test_only_the_working_group_changes_a_plan(
    sessions: Sessions, settings: Settings
) -> None:
    plan = await new_plan(sessions, settings)
    request = ActionCreate(description="Patrol the underpass", owner_organisation=POLICE)
    async with sessions() as session:
        with pytest.raises(Forbidden):
            await actions.create_action(
                session,
                now=NOW,
                settings=settings,
                caller=caller(OUTSIDER),
                plan_id=plan.id,
                request=request,
            )


async def test_an_action_moves_through_its_lifecycle_against_the_version_read(
    sessions: Sessions, settings: Settings
) -> None:
    plan = await new_plan(sessions, settings)
    async with sessions() as session:
        action = await actions.create_action(
            session,
            now=NOW,
            settings=settings,
            caller=caller(COUNCIL),
            plan_id=plan.id,
            request=ActionCreate(description="Clear the alley", owner_organisation=COUNCIL),
        )

    async def update(version: int, **changes: object):  # type: ignore[no-untyped-def]
        async with sessions() as session:
            return await actions.update_action(
                session,
                now=NOW,
                settings=settings,
                caller=caller(COUNCIL),
                plan_id=plan.id,
                action_id=action.id,
                expected_version=version,
                request=ActionUpdate.model_validate(changes),
            )

    started = await update(action.version, status="in_progress")
    assert started.status == "in_progress"
    with pytest.raises(PreconditionFailed):  # a writer who read the first version
        await update(action.version, status="done")
    with pytest.raises(Conflict):  # back to not started is not a move the lifecycle allows
        await update(started.version, status="not_started")
    assert await outbox_types(sessions) == [
        "actionplans.plan.created.v1",
        "actionplans.action.created.v1",
        "actionplans.action.status_changed.v1",
    ]

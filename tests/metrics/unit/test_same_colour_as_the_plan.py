"""A target shows the same colour on the metrics scorecard as on its action plan, as of the same
date: the plan's `actionplans.target.set.v1` event carries the trajectory, both services rate
it with the one rule in shared/rag.py."""

from datetime import UTC, date, datetime

import pytest

from services.actionplans import events as plan_events
from services.actionplans.models import Plan, TargetVersion
from services.actionplans.models import Target as PlanTarget
from services.actionplans.service.live_status import trajectory
from services.metrics.domain import analysis
from services.metrics.models import Indicator
from services.metrics.models import Target as MetricsTarget
from services.metrics.service.analysis import profile_of, target_for
from services.metrics.service.consumed import keep_target
from shared.contracts.actionplans import TargetSetV1

pytestmark = pytest.mark.unit

# Newport "feeling safe during the day", the survey waves of seed 002.
WAVES = [
    (date(2020, 9, 1), date(2020, 9, 30), 31.18),
    (date(2021, 3, 1), date(2021, 3, 31), 35.49),
    (date(2021, 10, 1), date(2021, 10, 31), 68.65),
]


def plan_target(
    baseline_on: date | None, tolerance: float
) -> tuple[Plan, PlanTarget, TargetVersion]:
    plan = Plan(id="p1", locality_code="NP", lead_organisation="CLEVELAND-POLICE")
    target = PlanTarget(
        id="t1",
        plan_id="p1",
        indicator_code="feel_safe_day",
        area_code="NP",
        desired_direction="up",
    )
    version = TargetVersion(
        target_id="t1",
        version=1,
        baseline_value=31.18,
        baseline_period="Sept 2020 survey",
        baseline_on=baseline_on,
        target_value=60.0,
        target_date=date(2022, 3, 31),
        amber_tolerance=tolerance,
        set_at=datetime(2020, 11, 2, 10, tzinfo=UTC),
    )
    return plan, target, version


@pytest.mark.parametrize("baseline_on", [date(2020, 9, 30), None])
@pytest.mark.parametrize("tolerance", [0.0, 3.0, 5.0, 12.0])
def test_scorecard_and_plan_rate_a_target_alike_after_each_wave(
    baseline_on: date | None, tolerance: float
) -> None:
    plan, target, version = plan_target(baseline_on, tolerance)
    event = plan_events.target_set(plan, target, version, "CLEVELAND-POLICE")
    row = MetricsTarget(target_id="t1")
    keep_target(row, TargetSetV1.model_validate(event.data))
    indicator = Indicator(
        code="feel_safe_day",
        unit="percent",
        desired_direction="up",
        source="survey",
        no_change_tolerance=0.05,
    )
    series = [analysis.Point(start, end, end.isoformat(), value) for start, end, value in WAVES]
    for upto in range(1, len(series) + 1):
        assessed = analysis.assess_series(
            profile_of(indicator), series[:upto], target_for(indicator, row)
        )
        latest = series[upto - 1]
        on_plan = trajectory(target, version).rag(latest.value, latest.period_end)
        assert assessed is not None and assessed.rag == on_plan.value, latest

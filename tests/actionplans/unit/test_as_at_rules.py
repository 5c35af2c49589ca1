"""As-at rules: the target version in force, a plan replayed from its history to a moment."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.actionplans.domain import PlanFilter
from services.actionplans.domain.as_at import (
    HistoryRecord,
    plan_as_of,
    version_in_force,
)

pytestmark = pytest.mark.unit

T0 = datetime(2021, 1, 1, 9, 0, tzinfo=UTC)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def test_version_in_force_is_the_highest_set_on_or_before_the_moment() -> None:
    versions = {1: at(0), 2: at(10), 3: at(20)}

    assert version_in_force(versions, at(-1)) is None
    assert version_in_force(versions, at(0)) == 1
    assert version_in_force(versions, at(9)) == 1
    assert version_in_force(versions, at(10)) == 2
    assert version_in_force(versions, at(25)) == 3


@given(st.lists(st.integers(0, 100), min_size=1, unique=True), st.integers(-5, 105))
def test_version_in_force_never_was_set_after_the_moment(days: list[int], moment: int) -> None:
    versions = {number: at(day) for number, day in enumerate(sorted(days), start=1)}
    chosen = version_in_force(versions, at(moment))
    if chosen is None:
        assert all(set_at > at(moment) for set_at in versions.values())
    else:
        assert versions[chosen] <= at(moment)
        assert all(v <= chosen for v, set_at in versions.items() if set_at <= at(moment))


NOW = {
    "title": "People feel safe at night",
    "objective_codes": ["people_feel_safe", "community_cohesion"],
    "lead_person": "Inspector B",
    "lead_organisation": "MIDDLESBROUGH-COUNCIL",
    "member_organisations": ["CLEVELAND-POLICE"],
    "status": "closed",
    "review_cadence": "monthly",
    "next_review_on": date(2021, 3, 15),
}
HISTORY = [
    HistoryRecord("plan.created", at(0), {"review_cadence": "monthly", "next_review_on": None}),
    HistoryRecord("target.set", at(1), {"version": 1}),
    HistoryRecord(
        "plan.updated",
        at(5),
        {
            "title": {"from": "People feel safe", "to": "People feel safe at night"},
            "lead_person": {"from": "Inspector A", "to": "Inspector B"},
        },
    ),
    HistoryRecord(
        "review.recorded",
        at(10),
        {"held_on": "2021-01-11", "next_review_on": "2021-02-11", "escalations": 0},
    ),
    HistoryRecord(
        "plan.updated",
        at(20),
        {
            "lead_organisation": {"from": "CLEVELAND-POLICE", "to": "MIDDLESBROUGH-COUNCIL"},
            "member_organisations": {"from": ["MIDDLESBROUGH-COUNCIL"], "to": ["CLEVELAND-POLICE"]},
            "objective_codes": {
                "from": ["people_feel_safe"],
                "to": ["people_feel_safe", "community_cohesion"],
            },
        },
    ),
    HistoryRecord(
        "review.recorded",
        at(30),
        {
            "held_on": "2021-02-14",
            "next_review_on": "2021-03-15",
            "previous_next_review_on": "2021-02-11",
        },
    ),
    HistoryRecord("plan.updated", at(40), {"status": {"from": "active", "to": "closed"}}),
]
INITIAL = {"next_review_on": date(2021, 2, 1)}


def replay(days: int) -> dict:
    state = plan_as_of(NOW, created_at=T0, history=HISTORY, as_of=at(days), initial=INITIAL)
    return state.fields | {"updated_at": state.updated_at, "version": state.version}


def test_a_plan_replayed_to_now_is_the_plan_now() -> None:
    assert replay(50) == NOW | {"updated_at": at(40), "version": 6}


def test_a_plan_at_creation_has_every_value_it_was_created_with() -> None:
    assert replay(0) == {
        "title": "People feel safe",
        "objective_codes": ["people_feel_safe"],
        "lead_person": "Inspector A",
        "lead_organisation": "CLEVELAND-POLICE",
        "member_organisations": ["MIDDLESBROUGH-COUNCIL"],
        "status": "active",
        "review_cadence": "monthly",
        "next_review_on": date(2021, 2, 1),  # not in the old review row: the creation value
        "updated_at": T0,
        "version": 1,
    }


def test_a_plan_between_changes_has_the_later_changes_undone() -> None:
    between = replay(25)

    assert between["title"] == "People feel safe at night"
    assert between["lead_organisation"] == "MIDDLESBROUGH-COUNCIL"
    assert between["status"] == "active"
    assert between["next_review_on"] == date(2021, 2, 11)  # set by the first review
    assert (between["updated_at"], between["version"]) == (at(20), 4)


def test_a_change_counts_from_the_moment_it_was_made() -> None:
    assert replay(5)["lead_person"] == "Inspector B"
    assert replay(4)["lead_person"] == "Inspector A"


def test_an_unrecorded_earlier_value_falls_back_to_the_creation_value_only_before_any_change() -> (
    None
):
    history = [
        HistoryRecord("review.recorded", at(10), {"next_review_on": "2021-02-11"}),
        HistoryRecord(
            "review.recorded",
            at(30),
            {"next_review_on": "2021-03-15", "previous_next_review_on": "2021-02-11"},
        ),
    ]

    def next_review(days: int) -> date:
        state = plan_as_of(NOW, created_at=T0, history=history, as_of=at(days), initial=INITIAL)
        return state.fields["next_review_on"]

    assert next_review(5) == date(2021, 2, 1)
    assert next_review(15) == date(2021, 2, 11)
    assert next_review(35) == date(2021, 3, 15)


def test_a_plan_filter_admits_on_the_values_given() -> None:
    plan = NOW | {"locality_code": "NP"}

    assert PlanFilter().admits(plan)
    assert PlanFilter(locality_code="NP", status="closed").admits(plan)
    assert PlanFilter(objective_code="community_cohesion").admits(plan)
    assert not PlanFilter(status="active").admits(plan)
    assert not PlanFilter(lead_organisation="CLEVELAND-POLICE").admits(plan)
    assert not PlanFilter(locality_code="NO").admits(plan)

"""The referral state machine."""

import pytest

from services.referrals.domain import ReferralStatus as S
from services.referrals.domain.lifecycle import (
    Action,
    IllegalTransition,
    allowed_actions,
    is_open,
    next_status,
)

pytestmark = pytest.mark.unit


def test_the_whole_path_and_reopen_are_legal() -> None:
    status = S.RECEIVED
    for action, expected in [
        (Action.TRIAGE, S.TRIAGED),
        (Action.START, S.IN_PROGRESS),
        (Action.RESOLVE, S.RESOLVED),
        (Action.CLOSE, S.CLOSED),
        (Action.REOPEN, S.IN_PROGRESS),
        (Action.RESOLVE, S.RESOLVED),
        (Action.REOPEN, S.IN_PROGRESS),
    ]:
        status = next_status(status, action)
        assert status is expected


def test_see_and_solve_can_be_resolved_straight_after_triage() -> None:
    assert next_status(S.TRIAGED, Action.RESOLVE) is S.RESOLVED


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.RECEIVED, Action.RESOLVE),
        (S.RECEIVED, Action.CLOSE),
        (S.RECEIVED, Action.START),
        (S.TRIAGED, Action.TRIAGE),
        (S.IN_PROGRESS, Action.CLOSE),
        (S.IN_PROGRESS, Action.REOPEN),
        (S.CLOSED, Action.RESOLVE),
        (S.CLOSED, Action.CLOSE),
        (S.RESOLVED, Action.TRIAGE),
    ],
)
def test_illegal_moves_are_refused_naming_what_is_allowed(status: S, action: Action) -> None:
    with pytest.raises(IllegalTransition) as raised:
        next_status(status, action)
    assert raised.value.allowed == allowed_actions(status)
    assert status.value in str(raised.value)


def test_only_received_triaged_and_in_progress_referrals_are_open() -> None:
    assert [s for s in S if is_open(s)] == [S.RECEIVED, S.TRIAGED, S.IN_PROGRESS]

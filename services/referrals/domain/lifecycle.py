"""The referral state machine: which moves are legal from which status."""

from enum import StrEnum

from services.referrals.domain import ReferralStatus

S = ReferralStatus


class Action(StrEnum):
    TRIAGE = "triage"
    START = "start"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


# Resolving straight from `triaged` lets see-and-solve and signposting finish within the call
# that handled them; everything else follows received -> triaged -> in_progress -> resolved.
TRANSITIONS: dict[tuple[ReferralStatus, Action], ReferralStatus] = {
    (S.RECEIVED, Action.TRIAGE): S.TRIAGED,
    (S.TRIAGED, Action.START): S.IN_PROGRESS,
    (S.TRIAGED, Action.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, Action.RESOLVE): S.RESOLVED,
    (S.RESOLVED, Action.CLOSE): S.CLOSED,
    (S.RESOLVED, Action.REOPEN): S.IN_PROGRESS,
    (S.CLOSED, Action.REOPEN): S.IN_PROGRESS,
}


class IllegalTransition(Exception):
    def __init__(self, current: ReferralStatus, action: Action) -> None:
        allowed = sorted(a.value for (status, a) in TRANSITIONS if status == current)
        super().__init__(
            f"Cannot {action.value} a referral that is '{current.value}'; "
            f"allowed now: {', '.join(allowed) or 'nothing'}."
        )
        self.current = current
        self.action = action
        self.allowed = allowed


def next_status(current: ReferralStatus, action: Action) -> ReferralStatus:
    """The status after `action`, or IllegalTransition."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise IllegalTransition(current, action) from None


def allowed_actions(current: ReferralStatus) -> list[str]:
    return sorted(action.value for (status, action) in TRANSITIONS if status == current)


def is_open(status: ReferralStatus) -> bool:
    """Work can still be done on the referral (tasks, notes)."""
    return status in (S.RECEIVED, S.TRIAGED, S.IN_PROGRESS)

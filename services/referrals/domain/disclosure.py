"""Who may disclose a referral to another organisation, and which tasks still grant access.

A task is a disclosure: the organisation holding it reads the subject's personal fields.
So, like a share, it is decided by those accountable for the referral (its lead, or the
locality hub that coordinates it), never passed on by a partner that was itself given a
task; and the access it grants lasts only while the task is live or done, not once the
partner declined it or the lead withdrew it.
"""

from collections.abc import Collection

from services.referrals.domain import TaskStatus

# A declined or withdrawn task was never (or is no longer) the partner's work: no access.
TASK_STATUSES_GRANTING_ACCESS = frozenset(
    {TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.COMPLETED}
)
TASK_STATUSES_WITHDRAWABLE = frozenset({TaskStatus.ASSIGNED, TaskStatus.ACCEPTED})


def task_deciders(*, led_by: str | None, coordinated_by: str | None) -> frozenset[str]:
    """The organisations that decide who gets a task: the lead and the coordinating hub."""
    return frozenset(org for org in (led_by, coordinated_by) if org)


def may_assign_task(organisation: str, *, led_by: str | None, coordinated_by: str | None) -> bool:
    """Only the lead or hub assigns; a task holder or share holder may not pass it on."""
    return organisation in task_deciders(led_by=led_by, coordinated_by=coordinated_by)


def audit_is_system_wide(scopes: Collection[str]) -> bool:
    """The whole audit log is for `admin`; `audit:read` alone sees one organisation's part:
    the reads of the referrals it controls (made, leads or coordinates) and its staff's reads."""
    return "admin" in scopes


def task_grants_access(status: str) -> bool:
    return TaskStatus(status) in TASK_STATUSES_GRANTING_ACCESS

"""Who may give a partner a task (a disclosure), and which tasks still grant access."""

import pytest

from services.referrals.domain import TaskStatus
from services.referrals.domain.disclosure import may_assign_task, task_grants_access

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("organisation", "allowed"),
    [("LEAD", True), ("HUB", True), ("CREATOR", False), ("HOLDER", False), ("STRANGER", False)],
)
def test_only_the_lead_or_hub_assigns_tasks(organisation: str, allowed: bool) -> None:
    assert may_assign_task(organisation, led_by="LEAD", coordinated_by="HUB") is allowed


def test_without_a_lead_the_hub_decides_alone() -> None:
    assert may_assign_task("HUB", led_by=None, coordinated_by="HUB")
    assert not may_assign_task("LEAD", led_by=None, coordinated_by="HUB")


@pytest.mark.parametrize(
    ("status", "grants"),
    [
        (TaskStatus.ASSIGNED, True),
        (TaskStatus.ACCEPTED, True),
        (TaskStatus.COMPLETED, True),
        (TaskStatus.DECLINED, False),
        (TaskStatus.WITHDRAWN, False),
    ],
)
def test_declined_and_withdrawn_tasks_grant_no_access(status: TaskStatus, grants: bool) -> None:
    assert task_grants_access(status.value) is grants

"""Which version was in force at an as-at time."""

from datetime import UTC, datetime

import pytest

from services.metrics.domain.as_of import in_force

pytestmark = pytest.mark.unit

JAN, MAR, JUN = (datetime(2026, month, 1, tzinfo=UTC) for month in (1, 3, 6))
VERSIONS = [("up", JAN), ("down", MAR), ("up again", JUN)]


def pick(as_of: datetime | None) -> str | None:
    found = in_force(VERSIONS, as_of, since=lambda version: version[1])
    return found[0] if found else None


def test_the_version_set_most_recently_by_the_as_at_time_is_in_force() -> None:
    assert pick(datetime(2026, 4, 15, tzinfo=UTC)) == "down"
    assert pick(MAR) == "down"  # in force from the moment it was set


def test_without_an_as_at_time_the_latest_version_is_in_force() -> None:
    assert pick(None) == "up again"


def test_nothing_is_in_force_before_the_first_version() -> None:
    assert pick(datetime(2025, 12, 31, tzinfo=UTC)) is None


def test_the_order_versions_come_in_does_not_matter() -> None:
    shuffled = [VERSIONS[2], VERSIONS[0], VERSIONS[1]]
    found = in_force(shuffled, datetime(2026, 5, 1, tzinfo=UTC), since=lambda v: v[1])
    assert found == ("down", MAR)

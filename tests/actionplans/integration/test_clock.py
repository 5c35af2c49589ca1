"""The actionplans use cases read the time from the app's clock (shared/clock.py), so a test can
put the service at any moment instead of waiting for it."""

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from shared.clock import set_clock
from tests.actionplans.conftest import create_plan

pytestmark = pytest.mark.integration

MOMENT = datetime(2021, 1, 31, 10, 0, tzinfo=UTC)


async def test_a_plan_is_created_at_the_clocks_time_and_reviewed_a_cadence_later(
    actionplans_app: FastAPI, actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    set_clock(actionplans_app, lambda: MOMENT)
    created = await create_plan(actionplans, police)
    assert datetime.fromisoformat(created["created_at"]) == MOMENT
    assert created["next_review_on"] == "2021-02-28"  # one month on, clamped to February

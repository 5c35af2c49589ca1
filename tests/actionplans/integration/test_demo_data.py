"""The runner's demo data loads through the API and gives the strategic group a summary."""

import asyncio
from typing import Any

import httpx
import pytest

from deploy.local import demo_actionplans
from shared.auth import ALL_SCOPES
from tests.harness import TokenMinter

pytestmark = pytest.mark.integration


class BlockingClient:
    """The blocking client `load(client)` expects, calling the in-process app from a thread."""

    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self._client = client
        self._loop = loop

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        call = self._client.request(method, url, **kwargs)
        return asyncio.run_coroutine_threadsafe(call, self._loop).result(timeout=30)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)


async def test_demo_loads_seed_plans_for_north_ormesby_and_newport(
    actionplans: httpx.AsyncClient, mint: TokenMinter
) -> None:
    actionplans.headers.update(mint.headers("DEMO-HUB", ALL_SCOPES))
    blocking = BlockingClient(actionplans, asyncio.get_running_loop())

    def act_as(organisation: str) -> dict[str, str]:
        return mint.headers(organisation, ALL_SCOPES)

    await asyncio.to_thread(demo_actionplans.load, blocking, act_as)  # type: ignore[arg-type]

    summaries = {
        code: (await actionplans.get(f"/api/v1/localities/{code}/action-plans")).json()["items"]
        for code in ("NO", "NP")
    }
    for items in summaries.values():
        assert [s["title"] for s in items] == [
            "People feel safe",
            "Drugs and drug-related issues",
            "Better outcomes for children",
        ]
    feel_safe = next(s for s in summaries["NP"] if s["title"] == "People feel safe")
    assert feel_safe["lead_organisation"] == "CLEVELAND-POLICE"
    assert feel_safe["overdue_actions"] == 1
    targets = (
        await actionplans.get(f"/api/v1/action-plans/{feel_safe['plan_id']}/targets")
    ).json()["items"]
    baselines = {t["indicator_code"]: t["current"]["baseline_value"] for t in targets}
    assert baselines["feel_safe_day"] == 31.18
    assert baselines["asb_incidents"] == 523

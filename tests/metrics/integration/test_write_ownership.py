"""Metrics writes belong to the organisations assigned to the area or indicator (writers.json)."""

import pytest
from httpx import AsyncClient

from tests.harness import TokenMinter
from tests.metrics.integration.test_indicators_and_observations import SURVEY, observation

pytestmark = pytest.mark.integration

WRITE = "metrics:read metrics:write"
COUNCIL = "MIDDLESBROUGH-COUNCIL"  # steward, and assigned to MBRO, NO and NP


async def test_only_indicator_stewards_define_indicators(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    police = mint.headers("CLEVELAND-POLICE", WRITE)
    refused = await metrics.post("/api/v1/indicators", json=SURVEY, headers=police)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    created = await metrics.post(
        "/api/v1/indicators", json=SURVEY, headers=mint.headers(COUNCIL, WRITE)
    )
    assert created.status_code == 201
    patched = await metrics.patch(
        "/api/v1/indicators/feel_safe_day", json={"name": "Renamed"}, headers=police
    )
    deleted = await metrics.delete("/api/v1/indicators/feel_safe_day", headers=police)
    assert (patched.status_code, deleted.status_code) == (403, 403)


async def test_observations_are_written_only_for_assigned_areas(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    await metrics.post("/api/v1/indicators", json=SURVEY, headers=mint.headers(COUNCIL, WRITE))
    doncaster = mint.headers("DONCASTER-COUNCIL", WRITE)  # has metrics:write, not for Newport
    refused = await metrics.post("/api/v1/observations", json=observation(31.18), headers=doncaster)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "area_code"
    assert "NP" in refused.json()["errors"][0]["message"]

    police = mint.headers("CLEVELAND-POLICE", WRITE)  # assigned to NP
    accepted = await metrics.post("/api/v1/observations", json=observation(31.18), headers=police)
    assert accepted.status_code == 201, accepted.text

    csv = (
        "indicator_code,area_code,period_start,period_end,value\n"
        "feel_safe_day,NP,2021-09-01,2021-09-30,35.5\n"
    )
    imported = await metrics.post(
        "/api/v1/observations/import",
        content=csv,
        headers=doncaster | {"Content-Type": "text/csv"},
    )
    assert imported.status_code == 403
    assert imported.json()["errors"][0]["line"] == 2
    listed = await metrics.get("/api/v1/observations", headers=police)
    assert [o["value"] for o in listed.json()["items"]] == [31.18]


async def test_an_administrator_passes_as_in_every_service(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    operator = mint.headers("OPS-TEAM", "metrics:read admin")
    created = await metrics.post("/api/v1/indicators", json=SURVEY, headers=operator)
    recorded = await metrics.post("/api/v1/observations", json=observation(31.18), headers=operator)
    assert (created.status_code, recorded.status_code) == (201, 201)

"""Bad input to metrics is a 4xx problem naming the field in `errors[]`, never a 500; every
timestamp it answers with carries its offset."""

import base64
import json
import re
from typing import Any

import pytest
from httpx import AsyncClient

from tests.harness import TokenMinter

pytestmark = pytest.mark.integration

INDICATOR = {
    "code": "feel_safe_night",
    "name": "Feeling safe after dark",
    "unit": "percent",
    "desired_direction": "up",
    "frequency": "survey_wave",
    "source": "survey",
}
OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([value]).encode()).rstrip(b"=").decode()


def _problem_fields(response: Any) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return [error["field"] for error in response.json().get("errors") or []]


def _timestamps(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _timestamps(v)]
    if isinstance(value, list):
        return [t for v in value for t in _timestamps(v)]
    return [value] if isinstance(value, str) and TIMESTAMP.match(value) else []


async def test_a_cursor_beyond_the_integer_range_is_a_400_naming_the_cursor(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    reader = mint.headers("MBC", "metrics:read")
    for cursor in ("99999999999999999999", _cursor(2**64 - 1), _cursor(2**63), _cursor(-1)):
        response = await metrics.get(f"/api/v1/observations?cursor={cursor}", headers=reader)
        assert response.status_code == 400, (cursor, response.text)
        assert _problem_fields(response) == ["cursor"]


async def test_nulling_a_required_indicator_field_is_a_422_naming_it(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    assert (await metrics.post("/api/v1/indicators", json=INDICATOR, headers=writer)).is_success
    for field in ("description", "name", "desired_direction", "no_change_tolerance"):
        response = await metrics.patch(
            f"/api/v1/indicators/{INDICATOR['code']}", json={field: None}, headers=writer
        )
        assert response.status_code == 422, (field, response.text)
        assert _problem_fields(response) == [field]
    cleared = await metrics.patch(
        f"/api/v1/indicators/{INDICATOR['code']}", json={"target_value": None}, headers=writer
    )
    assert cleared.status_code == 200, cleared.text


async def test_every_metrics_error_names_its_field_in_errors(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    missing = await metrics.get("/api/v1/indicators/no_such_thing", headers=writer)
    assert missing.status_code == 404
    assert _problem_fields(missing) == ["code"]
    assert (await metrics.post("/api/v1/indicators", json=INDICATOR, headers=writer)).is_success
    duplicate = await metrics.post("/api/v1/indicators", json=INDICATOR, headers=writer)
    assert duplicate.status_code == 409
    assert _problem_fields(duplicate) == ["code"]


async def test_metrics_timestamps_carry_their_offset(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    created = await metrics.post("/api/v1/indicators", json=INDICATOR, headers=writer)
    changed = await metrics.patch(
        f"/api/v1/indicators/{INDICATOR['code']}", json={"name": "After dark"}, headers=writer
    )
    observed = await metrics.post(
        "/api/v1/observations",
        json={
            "indicator_code": INDICATOR["code"],
            "area_code": "NP",
            "period_start": "2020-09-01",
            "period_end": "2020-09-30",
            "value": 40.0,
            "sample_size": 93,
        },
        headers=writer,
    )
    assert observed.status_code == 201, observed.text
    listed = await metrics.get("/api/v1/observations", headers=writer)
    read = await metrics.get(f"/api/v1/indicators/{INDICATOR['code']}", headers=writer)
    stamps = _timestamps([r.json() for r in (created, changed, observed, listed, read)])
    assert len(stamps) >= 6
    assert [s for s in stamps if not OFFSET.search(s)] == []


async def test_control_characters_and_unknown_query_parameters_are_refused_naming_the_field(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    nul = await metrics.post(
        "/api/v1/indicators", json=INDICATOR | {"name": "Safe\x00"}, headers=writer
    )
    assert nul.status_code == 422, nul.text
    assert _problem_fields(nul) == ["name"]
    misspelt = await metrics.get("/api/v1/observations?indicatr=feel_safe_day", headers=writer)
    assert misspelt.status_code == 400, misspelt.text
    assert _problem_fields(misspelt) == ["indicatr"]
    too_many = await metrics.get(f"/api/v1/observations?limit={10**20}", headers=writer)
    assert too_many.status_code == 422, too_many.text
    assert _problem_fields(too_many) == ["query.limit"]


async def test_an_unknown_area_filter_is_a_404_naming_the_area_and_a_known_one_a_page(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    reader = mint.headers("MBC", "metrics:read")
    for unknown in ("XX", "E05999999"):
        response = await metrics.get(f"/api/v1/observations?area={unknown}", headers=reader)
        assert response.status_code == 404, (unknown, response.text)
        assert _problem_fields(response) == ["area"]
    for known in ("NP", "MBRO"):
        response = await metrics.get(f"/api/v1/observations?area={known}", headers=reader)
        assert response.status_code == 200, (known, response.text)

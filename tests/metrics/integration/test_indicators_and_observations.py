"""Indicator definitions, observations with revisions, and the all-or-nothing CSV import."""

import pytest
from httpx import AsyncClient

from tests.harness import TokenMinter

pytestmark = pytest.mark.integration

SURVEY = {
    "code": "feel_safe_day",
    "name": "Feeling safe during the day",
    "unit": "percent",
    "desired_direction": "up",
    "frequency": "survey_wave",
    "source": "survey",
}
QUARTERLY = {
    "code": "asb_incidents",
    "name": "ASB incidents",
    "unit": "count",
    "desired_direction": "down",
    "frequency": "quarterly",
    "source": "police",
}


def observation(value: float, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "indicator_code": "feel_safe_day",
        "area_code": "NP",
        "period_start": "2020-09-01",
        "period_end": "2020-09-30",
        "value": value,
        "sample_size": 93,
    }
    return body | overrides


async def test_indicators_are_defined_listed_changed_and_deleted_with_scopes(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    reader = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read")

    refused = await metrics.post("/api/v1/indicators", json=SURVEY, headers=reader)
    created = await metrics.post("/api/v1/indicators", json=SURVEY, headers=writer)
    duplicate = await metrics.post("/api/v1/indicators", json=SURVEY, headers=writer)
    rate = SURVEY | {"code": "asb_rate", "unit": "rate_per_1000", "source": "police"}
    unnamed_rate = await metrics.post("/api/v1/indicators", json=rate, headers=writer)
    assert (refused.status_code, created.status_code, duplicate.status_code) == (403, 201, 409)
    assert unnamed_rate.status_code == 422
    assert created.headers["Location"] == "/api/v1/indicators/feel_safe_day"

    first_page = await metrics.get("/api/v1/indicators?limit=3", headers=reader)
    second_page = await metrics.get(
        f"/api/v1/indicators?limit=100&cursor={first_page.json()['next_cursor']}", headers=reader
    )
    codes = [i["code"] for i in first_page.json()["items"] + second_page.json()["items"]]
    assert codes == sorted(codes) and "feel_safe_day" in codes and "overdue_actions" in codes
    assert second_page.json()["next_cursor"] is None

    patched = await metrics.patch(
        "/api/v1/indicators/feel_safe_day",
        json={"target_value": 60, "amber_tolerance": 5},
        headers=writer,
    )
    assert patched.json()["target_value"] == 60
    fixed_unit = await metrics.patch(
        "/api/v1/indicators/feel_safe_day", json={"unit": "count"}, headers=writer
    )
    assert fixed_unit.status_code == 422
    derived = await metrics.delete("/api/v1/indicators/overdue_actions", headers=writer)
    assert derived.status_code == 409
    assert (
        await metrics.delete("/api/v1/indicators/feel_safe_day", headers=writer)
    ).status_code == 204
    assert (
        await metrics.get("/api/v1/indicators/feel_safe_day", headers=reader)
    ).status_code == 404


async def test_a_revision_keeps_the_earlier_value_which_as_of_still_returns(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    await metrics.post("/api/v1/indicators", json=SURVEY, headers=writer)

    first = await metrics.post("/api/v1/observations", json=observation(30.0), headers=writer)
    same = await metrics.post("/api/v1/observations", json=observation(30.0), headers=writer)
    # Metrics has no injectable clock yet; recorded_at has microseconds and each request takes
    # far longer than one, so the revision is recorded strictly after `between` without a sleep.
    between = (
        await metrics.get("/api/v1/observations/" + str(first.json()["id"]), headers=writer)
    ).json()
    revised = await metrics.post("/api/v1/observations", json=observation(31.18), headers=writer)
    assert (first.status_code, same.status_code, revised.status_code) == (201, 200, 201)
    assert revised.json()["revision"] == 2
    assert revised.json()["period_label"] == "Wave Sep 2020"

    current = await metrics.get(
        "/api/v1/observations?indicator=feel_safe_day&area=NP", headers=writer
    )
    earlier = await metrics.get(
        "/api/v1/observations",
        params={"indicator": "feel_safe_day", "as_of": between["recorded_at"]},
        headers=writer,
    )
    history = await metrics.get(
        "/api/v1/observations?indicator=feel_safe_day&include_revisions=true", headers=writer
    )
    assert [o["value"] for o in current.json()["items"]] == [31.18]
    assert [o["value"] for o in earlier.json()["items"]] == [30.0]
    then = await metrics.get(
        "/api/v1/indicators/feel_safe_day/analysis",
        params={"area": "NP", "as_of": between["recorded_at"]},
        headers=writer,
    )
    assert then.json()["latest"]["value"] == 30.0
    assert [(o["value"], o["superseded_at"] is not None) for o in history.json()["items"]] == [
        (30.0, True),
        (31.18, False),
    ]


async def test_an_observation_that_breaks_a_rule_is_refused_naming_the_field(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    await metrics.post("/api/v1/indicators", json=QUARTERLY, headers=writer)
    cases = {
        "period_end": {"period_start": "2020-04-01", "period_end": "2020-05-31"},
        "value": {"value": 12.5},
        "area_code": {"area_code": "ZZZ"},
        "sample_size": {"sample_size": 40},
    }
    for field, change in cases.items():
        body = observation(
            10, indicator_code="asb_incidents", period_start="2020-04-01", period_end="2020-06-30"
        )
        body.pop("sample_size")
        response = await metrics.post("/api/v1/observations", json=body | change, headers=writer)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field
        assert response.headers["content-type"] == "application/problem+json"


async def test_csv_import_reports_every_bad_row_and_writes_nothing_unless_all_are_good(
    metrics: AsyncClient, mint: TokenMinter
) -> None:
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    await metrics.post("/api/v1/indicators", json=QUARTERLY, headers=writer)
    header = "indicator_code,area_code,period_start,period_end,value\n"
    good = (
        "asb_incidents,NP,2020-04-01,2020-06-30,523\nasb_incidents,NP,2020-07-01,2020-09-30,349\n"
    )
    bad = "asb_incidents,XX,2020-10-01,2020-12-31,374\nnope,NP,2021-01-01,2021-03-31,many\n"
    csv_headers = writer | {"Content-Type": "text/csv"}

    refused = await metrics.post(
        "/api/v1/observations/import", content=header + good + bad, headers=csv_headers
    )
    checked = await metrics.post(
        "/api/v1/observations/import?dry_run=true", content=header + good + bad, headers=csv_headers
    )
    nothing = await metrics.get("/api/v1/observations?indicator=asb_incidents", headers=writer)
    assert refused.status_code == 422
    assert [(e["line"], e["field"]) for e in refused.json()["errors"]] == [
        (4, "area_code"),
        (5, "indicator_code"),
        (5, "value"),
    ]
    assert checked.status_code == 200
    assert (checked.json()["created"], len(checked.json()["errors"])) == (2, 3)
    assert nothing.json()["items"] == []

    dry = await metrics.post(
        "/api/v1/observations/import?dry_run=true", content=header + good, headers=csv_headers
    )
    done = await metrics.post(
        "/api/v1/observations/import", content=header + good, headers=csv_headers
    )
    stored = await metrics.get("/api/v1/observations?indicator=asb_incidents", headers=writer)
    assert (dry.json()["created"], dry.json()["dry_run"]) == (2, True)
    assert (done.json()["created"], done.json()["dry_run"]) == (2, False)
    assert [o["period_label"] for o in stored.json()["items"]] == ["2020/21 Q1", "2020/21 Q2"]
    not_csv = await metrics.post("/api/v1/observations/import", json={"x": 1}, headers=writer)
    assert not_csv.status_code == 415


@pytest.mark.parametrize("path", ["/api/v1/indicators", "/api/v1/observations"])
async def test_a_cursor_this_service_did_not_issue_is_a_400_naming_it(
    metrics: AsyncClient, mint: TokenMinter, path: str
) -> None:
    response = await metrics.get(
        path,
        params={"cursor": "feel_safe_day"},
        headers=mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read"),
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "cursor"

"""Input rules: organisation codes, dates of birth, due dates, control characters, unknown query
parameters and page sizes are refused with a problem naming the field, never stored."""

from typing import Any

import pytest

from tests.referrals.workflow import TASK_BASIS, Hub, referral_body

pytestmark = pytest.mark.integration


def person(**fields: Any) -> dict[str, Any]:
    return {"subject": {"person": {"name": "A Person", **fields}}}


def fields_of(response: Any) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (person(date_of_birth="2999-01-01"), "subject.person.date_of_birth"),
        (person(date_of_birth="1899-12-31"), "subject.person.date_of_birth"),
        (person(date_of_birth=0), "subject.person.date_of_birth"),
        ({"summary": "Noise\x00 at night"}, "summary"),
        ({"summary": "Noise \x1b[31m at night"}, "summary"),
        (person(name="A\x07Person"), "subject.person.name"),
    ],
)
async def test_bad_intake_fields_are_refused_and_named(
    sqlite_hub: Hub, overrides: dict, field: str
) -> None:
    response = await sqlite_hub.client.post(
        "/api/v1/referrals", json=referral_body(**overrides), headers=sqlite_hub.as_("NO-HUB")
    )
    assert response.status_code == 422, response.text
    assert field in fields_of(response)


async def test_a_past_date_of_birth_and_plain_line_breaks_are_accepted(sqlite_hub: Hub) -> None:
    body = referral_body(summary="Noise\nat night\tagain", **person(date_of_birth="1960-02-29"))
    response = await sqlite_hub.client.post(
        "/api/v1/referrals", json=body, headers=sqlite_hub.as_("NO-HUB")
    )
    assert response.status_code == 201, response.text


async def test_organisation_codes_follow_the_one_pattern(sqlite_hub: Hub) -> None:
    referral_id = (await sqlite_hub.create())["id"]
    for lead in ("cleveland police", "Cleveland-Police", "-POLICE", "X" * 65):
        response = await sqlite_hub.triage(referral_id, "multi_agency", lead_organisation=lead)
        assert response.status_code == 422, (lead, response.text)
        assert "lead_organisation" in fields_of(response)


async def test_a_task_cannot_fall_due_before_the_referral(sqlite_hub: Hub) -> None:
    referral_id = (await sqlite_hub.create())["id"]
    await sqlite_hub.triage(referral_id, "multi_agency", lead_organisation="NO-HUB")
    task = {"organisation": "STREET-WARDENS", "description": "Patrol", **TASK_BASIS}
    early = await sqlite_hub.act(referral_id, "tasks", task | {"due_at": "1970-01-01T00:00:00Z"})
    assert early.status_code == 422, early.text
    assert fields_of(early) == ["due_at"]
    later = await sqlite_hub.act(referral_id, "tasks", task | {"due_at": "2026-06-05T16:00:00Z"})
    assert later.status_code == 201, later.text


async def test_an_unknown_query_parameter_is_a_400_naming_it(sqlite_hub: Hub) -> None:
    headers = sqlite_hub.as_("NO-HUB")
    response = await sqlite_hub.client.get("/api/v1/referrals?localty_code=NP", headers=headers)
    assert response.status_code == 400, response.text
    assert fields_of(response) == ["localty_code"]
    known = await sqlite_hub.client.get("/api/v1/referrals?locality_code=NO", headers=headers)
    assert known.status_code == 200, known.text


@pytest.mark.parametrize("limit", ["0", "201", str(10**20)])
async def test_a_page_size_out_of_bounds_is_a_422_naming_limit(sqlite_hub: Hub, limit: str) -> None:
    for path in ("/api/v1/referrals", "/api/v1/audit"):
        scopes = "referrals:read audit:read"
        response = await sqlite_hub.client.get(
            f"{path}?limit={limit}", headers=sqlite_hub.as_("NO-HUB", scopes)
        )
        assert response.status_code == 422, (path, response.text)
        assert fields_of(response) == ["query.limit"]

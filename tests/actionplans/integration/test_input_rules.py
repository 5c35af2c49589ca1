"""Input rules in action plans: organisation codes follow the one pattern, text holds no control
characters, and a misspelt query parameter is a 400 rather than an unfiltered list."""

import httpx
import pytest

from tests.actionplans.conftest import plan_body

pytestmark = pytest.mark.integration


def fields_of(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return [error["field"] for error in response.json()["errors"]]


async def test_plans_refuse_free_text_organisations_and_control_characters(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    for overrides, field in (
        ({"member_organisations": ["cleveland police"]}, "member_organisations.0"),
        ({"title": "Safer\x00streets"}, "title"),
    ):
        response = await actionplans.post(
            "/api/v1/action-plans", json=plan_body(**overrides), headers=police
        )
        assert response.status_code == 422, (overrides, response.text)
        assert field in fields_of(response)


async def test_an_unknown_query_parameter_is_a_400_naming_it(
    actionplans: httpx.AsyncClient, police: dict[str, str]
) -> None:
    response = await actionplans.get("/api/v1/action-plans?localty_code=NP", headers=police)
    assert response.status_code == 400, response.text
    assert fields_of(response) == ["localty_code"]
    known = await actionplans.get("/api/v1/action-plans?locality=NP", headers=police)
    assert known.status_code == 200, known.text

"""Every role x every route of a referral: the answers documented in docs/referrals.md.

One referral per case, made by police in North Ormesby (so NO-HUB coordinates it), triaged by
the hub with the council as lead, a task given to housing and a share to the children's centre.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.referrals.workflow import ALL, TASK_BASIS, Hub

pytestmark = pytest.mark.integration

CREATOR = "CLEVELAND-POLICE"
HUB = "NO-HUB"
LEAD = "MIDDLESBROUGH-COUNCIL"
HOLDER = "THIRTEEN-HOUSING"
SHARER = "CHILDRENS-CENTRE"
STRANGER = "DURHAM-POLICE"
ADMIN_ONLY = "OPS-TEAM"
ROLES = {
    "creator": (CREATOR, ALL),
    "lead": (LEAD, ALL),
    "hub": (HUB, ALL),
    "task holder": (HOLDER, ALL),
    "share holder": (SHARER, ALL),
    "stranger": (STRANGER, ALL),
    "admin only": (ADMIN_ONLY, "admin"),
}


@dataclass
class Case:
    referral_id: str
    task_id: str


async def make_case(hub: Hub) -> Case:
    referral_id = (await hub.create(org=CREATOR))["id"]
    triaged = await hub.triage(referral_id, "multi_agency", org=HUB, lead_organisation=LEAD)
    assert triaged.status_code == 200, triaged.text
    task = await hub.act(
        referral_id, "tasks", {"organisation": HOLDER, "description": "Visit", **TASK_BASIS}
    )
    assert task.status_code == 201, task.text
    share = {"organisation": SHARER, "purpose": "Family support", "lawful_basis": "public_task"}
    assert (await hub.act(referral_id, "shares", share)).status_code == 201
    return Case(referral_id, task.json()["id"])


Route = Callable[[Hub, Case, dict[str, str]], Awaitable[httpx.Response]]


def get(path: str) -> Route:
    async def call(hub: Hub, case: Case, headers: dict[str, str]) -> httpx.Response:
        suffix = path.format(task=case.task_id)
        return await hub.client.get(
            f"/api/v1/referrals/{case.referral_id}{suffix}", headers=headers
        )

    return call


def post(path: str, body: dict | None = None) -> Route:
    async def call(hub: Hub, case: Case, headers: dict[str, str]) -> httpx.Response:
        etag = await hub.etag(case.referral_id, HUB)
        return await hub.client.post(
            f"/api/v1/referrals/{case.referral_id}/{path.format(task=case.task_id)}",
            json=body,
            headers=headers | {"If-Match": etag},
        )

    return call


async def listed(hub: Hub, case: Case, headers: dict[str, str]) -> httpx.Response:
    """The list as 200 when the referral is in it, 404 when not (the list itself is 200)."""
    response = await hub.client.get("/api/v1/referrals", headers=headers)
    found = case.referral_id in {item["id"] for item in response.json().get("items", [])}
    return httpx.Response(200 if found else 404)


async def audit(hub: Hub, case: Case, headers: dict[str, str]) -> httpx.Response:
    params = {"referral_id": case.referral_id}
    return await hub.client.get("/api/v1/audit", params=params, headers=headers)


async def revoke_share(hub: Hub, case: Case, headers: dict[str, str]) -> httpx.Response:
    etag = await hub.etag(case.referral_id, HUB)
    return await hub.client.delete(
        f"/api/v1/referrals/{case.referral_id}/shares/{SHARER}",
        headers=headers | {"If-Match": etag},
    )


NEW_TASK = {"organisation": "AGE-UK", "description": "Befriending", **TASK_BASIS}
NEW_SHARE = {"organisation": "GP-PRACTICE", "purpose": "Health", "lawful_basis": "consent"}
ROUTES: dict[str, Route] = {
    "GET /referrals (listed)": listed,
    "GET /referrals/{id}": get(""),
    "GET /status": get("/status"),
    "GET /history": get("/history"),
    "GET /tasks": get("/tasks"),
    "GET /notes": get("/notes"),
    "GET /shares": get("/shares"),
    "GET /audit?referral_id": audit,
    "POST /triage": post("triage", {"track": "see_and_solve", "rationale": "Re-triaged"}),
    "POST /start": post("start"),
    "POST /resolve": post("resolve", {"outcome_code": "resolved"}),
    "POST /close": post("close"),
    "POST /reopen": post("reopen", {"reason": "More came in"}),
    "POST /tasks": post("tasks", NEW_TASK),
    "POST /tasks/{t}/accept": post("tasks/{task}/accept"),
    "POST /tasks/{t}/decline": post("tasks/{task}/decline", {"reason": "Not ours"}),
    "POST /tasks/{t}/complete": post("tasks/{task}/complete", {"outcome_code": "resolved"}),
    "POST /tasks/{t}/withdraw": post("tasks/{task}/withdraw", {"reason": "Not needed"}),
    "POST /notes": post("notes", {"text": "Called round"}),
    "POST /shares": post("shares", NEW_SHARE),
    "DELETE /shares/{org}": revoke_share,
}

# role order: creator, lead, hub, task holder, share holder, stranger, admin only.
# 404 means "as if absent" (no part in the referral); a 409 is the state machine answering
# a caller who may act (the referral is triaged and not resolved; the task is not accepted).
EXPECTED: dict[str, tuple[int, ...]] = {
    "GET /referrals (listed)": (200, 200, 200, 200, 200, 404, 404),
    "GET /referrals/{id}": (200, 200, 200, 200, 200, 404, 404),
    "GET /status": (200, 200, 200, 200, 200, 404, 404),
    "GET /history": (200, 200, 200, 200, 200, 404, 404),
    "GET /tasks": (200, 200, 200, 200, 200, 404, 404),
    "GET /notes": (200, 200, 200, 200, 200, 404, 404),
    "GET /shares": (200, 200, 200, 200, 200, 404, 404),
    "GET /audit?referral_id": (403, 403, 403, 403, 403, 403, 200),
    "POST /triage": (409, 409, 409, 409, 409, 404, 404),
    "POST /start": (200, 200, 200, 200, 200, 404, 404),
    "POST /resolve": (200, 200, 200, 200, 200, 404, 404),
    "POST /close": (409, 409, 409, 409, 409, 404, 404),
    "POST /reopen": (409, 409, 409, 409, 409, 404, 404),
    "POST /tasks": (403, 201, 201, 403, 403, 404, 404),
    "POST /tasks/{t}/accept": (403, 403, 403, 200, 403, 404, 404),
    "POST /tasks/{t}/decline": (403, 403, 403, 200, 403, 404, 404),
    "POST /tasks/{t}/complete": (403, 403, 403, 409, 403, 404, 404),
    "POST /tasks/{t}/withdraw": (403, 200, 200, 403, 403, 404, 404),
    "POST /notes": (201, 201, 201, 201, 201, 404, 404),
    "POST /shares": (201, 201, 201, 403, 403, 404, 404),
    "DELETE /shares/{org}": (204, 204, 204, 403, 403, 404, 404),
}


@pytest.mark.parametrize("route", list(ROUTES))
async def test_every_role_gets_the_documented_answer(sqlite_hub: Hub, route: str) -> None:
    answers = []
    # A change gets a case per role, so no role acts after another's change; a read changes
    # nothing a role's answer depends on, so every role reads the same case.
    read_case = await make_case(sqlite_hub) if route.startswith("GET ") else None
    for organisation, scopes in ROLES.values():
        case = read_case or await make_case(sqlite_hub)
        response = await ROUTES[route](sqlite_hub, case, sqlite_hub.as_(organisation, scopes))
        answers.append(response.status_code)
    assert tuple(answers) == EXPECTED[route], f"{route!r}: {tuple(answers)},"


def test_the_matrix_covers_every_route_of_a_referral(sqlite_hub: Hub) -> None:
    """A new route on one referral needs its row here (and in docs/referrals.md)."""
    on_one_referral = [
        (method, path)
        for path, operations in sqlite_hub.app.openapi()["paths"].items()
        if path.startswith("/api/v1/referrals/{referral_id}")
        for method in operations
    ]
    beyond_one_referral = {"GET /referrals (listed)", "GET /audit?referral_id"}
    assert len(on_one_referral) == len(set(ROUTES) - beyond_one_referral)

"""Every proxied route needs its scope at the gateway: 403 without it, forwarded with it."""

import httpx
import pytest

from services.gateway.scopes import KNOWN_SCOPES
from tests.gateway.stub_upstream import StubUpstream
from tests.harness import TokenMinter

pytestmark = pytest.mark.integration

ROUTES = [
    ("GET", "/api/v1/referrals", "referrals:read", "referrals"),
    ("POST", "/api/v1/referrals", "referrals:write", "referrals"),
    ("GET", "/api/v1/referrals/r1", "referrals:read", "referrals"),
    ("PATCH", "/api/v1/referrals/r1", "referrals:write", "referrals"),
    ("POST", "/api/v1/referrals/r1/triage", "referrals:triage", "referrals"),
    ("POST", "/api/v1/referrals/r1/tasks", "referrals:write", "referrals"),
    ("GET", "/api/v1/audit", "audit:read", "referrals"),
    ("GET", "/api/v1/referral-categories", "referrals:read", "referrals"),
    ("POST", "/api/v1/referral-categories", "admin", "referrals"),
    ("GET", "/api/v1/action-plans", "actionplans:read", "actionplans"),
    ("POST", "/api/v1/action-plans", "actionplans:write", "actionplans"),
    ("PUT", "/api/v1/objectives/o1", "actionplans:write", "actionplans"),
    ("GET", "/api/v1/objectives/o1", "actionplans:read", "actionplans"),
    ("GET", "/api/v1/localities/NO/action-plans", "actionplans:read", "actionplans"),
    ("GET", "/api/v1/indicators", "metrics:read", "metrics"),
    ("POST", "/api/v1/indicators", "metrics:write", "metrics"),
    ("POST", "/api/v1/observations", "metrics:write", "metrics"),
    ("GET", "/api/v1/areas", "metrics:read", "metrics"),
    ("GET", "/api/v1/derived/referrals-received", "metrics:read", "metrics"),
    ("GET", "/api/v1/localities/NO/scorecard", "metrics:read", "metrics"),
]


@pytest.mark.parametrize(("method", "path", "scope", "service"), ROUTES)
async def test_each_route_refuses_a_token_without_its_scope_and_forwards_one_with_it(
    gateway: httpx.AsyncClient,
    mint: TokenMinter,
    upstreams: dict[str, StubUpstream],
    method: str,
    path: str,
    scope: str,
    service: str,
) -> None:
    others = " ".join(sorted(KNOWN_SCOPES - {scope, "admin"}))
    refused = await gateway.request(method, path, headers=mint.headers("NO-HUB", others))
    assert refused.status_code == 403
    assert refused.json()["required_scope"] == scope
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert upstreams[service].received == []

    allowed = await gateway.request(method, path, headers=mint.headers("NO-HUB", scope))
    assert allowed.status_code in (200, 201)
    assert allowed.json()["service"] == service
    assert upstreams[service].received[-1]["path"] == path


async def test_admin_may_use_every_route(gateway: httpx.AsyncClient, mint: TokenMinter) -> None:
    for method, path, _, _ in ROUTES:
        response = await gateway.request(method, path, headers=mint.headers("NO-HUB", "admin"))
        assert response.status_code in (200, 201), (method, path)


async def test_an_unrouted_api_path_is_a_404_problem_after_authentication(
    gateway: httpx.AsyncClient, mint: TokenMinter
) -> None:
    assert (await gateway.get("/api/v1/nowhere")).status_code == 401
    response = await gateway.get("/api/v1/nowhere", headers=mint.headers("NO-HUB", "admin"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"

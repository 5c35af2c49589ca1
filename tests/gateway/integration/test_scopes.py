"""Every proxied route needs, at the gateway, the scope its service declares for it: 403
without it, forwarded with it; the gateway reads the scopes from the services' documents."""

import re

import httpx
import pytest

from services.gateway.scopes import operation_scopes
from shared.auth import KNOWN_SCOPES
from tests.gateway.stub_upstream import StubUpstream
from tests.harness import TokenMinter
from tests.service_documents import SERVICES, service_document

pytestmark = pytest.mark.integration


def documented_routes() -> list[tuple[str, str, str, str]]:
    """(method, a concrete path, scope, service) for every operation the services document."""
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x1", path), scope, service)
        for service in SERVICES
        for path, item in service_document(service)["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
        for scope in operation_scopes(operation)
    ]


ROUTES = documented_routes()


def test_the_contract_covers_every_service_and_the_triage_decisions() -> None:
    assert {service for *_, service in ROUTES} == set(SERVICES)
    for action in ("close", "reopen"):
        assert ("POST", f"/api/v1/referrals/x1/{action}", "referrals:triage", "referrals") in ROUTES
    assert ("POST", "/api/v1/referrals/overdue-checks", "referrals:triage", "referrals") in ROUTES


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

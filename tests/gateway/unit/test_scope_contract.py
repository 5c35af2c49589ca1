"""The gateway's scope for every route is the one the service itself enforces: both come from
the `require_scope` on the route, and the gateway reads it from the service's OpenAPI document."""

import inspect
import re

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from services.gateway.config import DEFAULT_ROUTES
from services.gateway.routing import RouteTable
from services.gateway.scopes import ScopeRules
from tests.service_documents import SERVICES, service_app, service_document

pytestmark = pytest.mark.unit


def enforced_scopes(dependant: Dependant) -> list[str]:
    """The scopes the route's `require_scope` checks really test (read from the check itself)."""
    found = []
    for dependency in dependant.dependencies:
        call = dependency.call
        if getattr(call, "__qualname__", "") == "require_scope.<locals>.check":
            found.append(inspect.getclosurevars(call).nonlocals["scope"])  # type: ignore[arg-type]
        found.extend(enforced_scopes(dependency))
    return found


def concrete(path_template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path_template)


def api_routes(service: str) -> list[tuple[str, str, Dependant]]:
    """(method, path template, dependency tree) of every `/api/` route of the service's app."""
    return [
        (method, route.path, route.dependant)
        for route in iter_route_contexts(service_app(service).routes)
        if route.path and route.path.startswith("/api/")
        for method in sorted(route.methods or ())
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_needs_exactly_the_scope_the_service_enforces_at_the_gateway_too(
    service: str,
) -> None:
    gateway_rules = ScopeRules.from_openapi(service_document(service))
    routes = api_routes(service)
    assert routes
    for method, path, dependant in routes:
        enforced = enforced_scopes(dependant)
        assert len(enforced) == 1, f"{method} {path} must declare one scope, has {enforced}"
        assert gateway_rules.required_scope(method, concrete(path)) == enforced[0], (method, path)


@pytest.mark.parametrize("service", SERVICES)
def test_the_gateway_routes_every_documented_path_to_the_service_that_documents_it(
    service: str,
) -> None:
    table = RouteTable(DEFAULT_ROUTES)
    for _, path, _ in api_routes(service):
        assert table.service_for(concrete(path)) == service, path


@pytest.mark.parametrize("action", ["close", "reopen"])
def test_close_and_reopen_are_triage_decisions_everywhere(action: str) -> None:
    rules = ScopeRules.from_openapi(service_document("referrals"))
    assert rules.required_scope("POST", f"/api/v1/referrals/r1/{action}") == "referrals:triage"


def test_the_overdue_check_is_a_triage_decision_not_a_referral_read() -> None:
    rules = ScopeRules.from_openapi(service_document("referrals"))
    assert rules.required_scope("POST", "/api/v1/referrals/overdue-checks") == "referrals:triage"
    assert rules.required_scope("GET", "/api/v1/referrals/r1") == "referrals:read"

"""The gateway's map from method + path to the scope a request needs."""

import pytest

from services.gateway.scopes import DEFAULT_SCOPE_RULES, ScopeRule, ScopeRules

pytestmark = pytest.mark.unit

RULES = ScopeRules(DEFAULT_SCOPE_RULES)


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/v1/referrals", "referrals:read"),
        ("GET", "/api/v1/referrals/abc", "referrals:read"),
        ("POST", "/api/v1/referrals", "referrals:write"),
        ("PATCH", "/api/v1/referrals/abc", "referrals:write"),
        ("POST", "/api/v1/referrals/abc/triage", "referrals:triage"),
        ("GET", "/api/v1/audit", "audit:read"),
        ("GET", "/api/v1/referral-categories", "referrals:read"),
        ("PUT", "/api/v1/referral-categories/asb", "admin"),
        ("GET", "/api/v1/action-plans/1", "actionplans:read"),
        ("POST", "/api/v1/objectives", "actionplans:write"),
        ("GET", "/api/v1/localities/NO/action-plans", "actionplans:read"),
        ("GET", "/api/v1/localities/NO/scorecard", "metrics:read"),
        ("POST", "/api/v1/observations", "metrics:write"),
        ("GET", "/api/v1/derived/referrals-received", "metrics:read"),
    ],
)
def test_each_route_needs_its_scope(method: str, path: str, scope: str) -> None:
    assert RULES.required_scope(method, path) == scope


def test_an_unmapped_path_needs_only_a_valid_token() -> None:
    assert RULES.required_scope("GET", "/api/v2/unknown") is None


def test_a_rule_naming_the_method_beats_a_wildcard_on_the_same_path() -> None:
    rules = ScopeRules(["* /api/v1/x x:write", "GET /api/v1/x x:read"])
    assert rules.required_scope("GET", "/api/v1/x/1") == "x:read"
    assert rules.required_scope("DELETE", "/api/v1/x/1") == "x:write"


def test_a_malformed_rule_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="METHODS"):
        ScopeRule.parse("GET /api/v1/x")


def test_a_prefix_matches_whole_segments_only() -> None:
    rules = ScopeRules(["GET /api/v1/referrals referrals:read"])
    assert rules.required_scope("GET", "/api/v1/referrals-archive") is None


def test_rules_with_a_wildcard_resource_still_apply_to_every_resource() -> None:
    rules = ScopeRules(["GET /api/* api:any", "GET /api/v1/x x:read"])
    assert rules.required_scope("GET", "/api/v1/x/1") == "x:read"
    assert rules.required_scope("GET", "/api/v1/y") == "api:any"

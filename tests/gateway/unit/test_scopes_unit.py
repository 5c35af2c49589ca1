"""The gateway's map from method + path to scope, derived from an OpenAPI document."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.gateway.scopes import ScopeRule, ScopeRules
from shared.auth import KNOWN_SCOPES

pytestmark = pytest.mark.unit


def document(*operations: tuple[str, str, str]) -> dict:
    paths: dict = {}
    for method, path, scope in operations:
        paths.setdefault(path, {})[method] = {"security": [{"OAuth2": [scope]}]}
    return {"paths": paths}


RULES = ScopeRules.from_openapi(
    document(
        ("get", "/api/v1/referrals", "referrals:read"),
        ("post", "/api/v1/referrals", "referrals:write"),
        ("get", "/api/v1/referrals/{referral_id}", "referrals:read"),
        ("post", "/api/v1/referrals/{referral_id}/triage", "referrals:triage"),
        ("post", "/api/v1/referrals/overdue-checks", "referrals:triage"),
        ("post", "/api/v1/referrals/{referral_id}", "referrals:write"),
        ("get", "/api/v1/localities/{code}/scorecard", "metrics:read"),
    )
)


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/api/v1/referrals", "referrals:read"),
        ("HEAD", "/api/v1/referrals", "referrals:read"),
        ("GET", "/api/v1/referrals/abc", "referrals:read"),
        ("POST", "/api/v1/referrals", "referrals:write"),
        ("POST", "/api/v1/referrals/abc/triage", "referrals:triage"),
        ("POST", "/api/v1/referrals/overdue-checks", "referrals:triage"),
        ("POST", "/api/v1/referrals/abc", "referrals:write"),
        ("GET", "/api/v1/localities/NO/scorecard", "metrics:read"),
    ],
)
def test_each_operation_needs_the_scope_its_document_names(
    method: str, path: str, scope: str
) -> None:
    assert RULES.required_scope(method, path) == scope


def test_a_path_or_method_no_operation_declares_needs_only_a_valid_token() -> None:
    assert RULES.required_scope("GET", "/api/v2/unknown") is None
    assert RULES.required_scope("DELETE", "/api/v1/referrals") is None
    assert RULES.required_scope("GET", "/api/v1/referrals-archive") is None
    assert RULES.required_scope("GET", "/api/v1/referrals/abc/def/ghi") is None


def test_an_operation_without_security_adds_no_rule() -> None:
    rules = ScopeRules.from_openapi({"paths": {"/livez": {"get": {"summary": "up"}}}})
    assert rules.required_scope("GET", "/livez") is None


segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
template_segment = st.one_of(segment, segment.map(lambda name: "{" + name + "}"))


@given(
    templates=st.lists(st.lists(template_segment, min_size=1, max_size=5), min_size=1),
    scopes=st.lists(st.sampled_from(sorted(KNOWN_SCOPES)), min_size=1),
    values=st.lists(segment, min_size=5, max_size=5),
)
def test_a_path_gets_the_scope_of_the_most_literal_template_that_matches_it(
    templates: list[list[str]], scopes: list[str], values: list[str]
) -> None:
    """Every concrete path made from a template needs the scope of a template that matches it,
    and of one with as many literal segments as any matching template."""
    rules = [
        ScopeRule.of("POST", "/" + "/".join(parts), scopes[i % len(scopes)])
        for i, parts in enumerate(templates)
    ]
    table = ScopeRules(rules)
    for parts in templates:
        path_segments = [
            values[i] if part.startswith("{") else part for i, part in enumerate(parts)
        ]
        matching = [rule for rule in rules if rule.matches(path_segments)]
        best = max(rule.literal_segments for rule in matching)
        found = table.required_scope("POST", "/" + "/".join(path_segments))
        assert found in {rule.scope for rule in matching if rule.literal_segments == best}
        assert table.required_scope("GET", "/" + "/".join(path_segments)) is None

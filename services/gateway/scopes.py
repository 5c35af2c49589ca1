"""Which scope a request needs at the gateway, derived from the services' OpenAPI documents.

A service declares each route's scope once, on the route (`shared.auth.require_scope`), and
that declaration is the operation's `security` entry in the service's `/openapi.json`. The
gateway reads those documents (`contracts.ServiceContracts`) and turns every operation into a
rule here, so the gateway and the service cannot disagree: there is no second table to drift.

A rule is a method and a path template; `{name}` matches one segment. The template with the
most literal segments wins (`/referrals/overdue-checks` beats `/referrals/{referral_id}`).
A path no operation matches needs only a valid token here; the service answers 404 or 405.
The services check scopes again: this is the front line, not the only one.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.auth import SECURITY_SCHEME

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True, slots=True)
class ScopeRule:
    method: str
    segments: tuple[str | None, ...]  # None: a `{parameter}`, matching any one segment
    scope: str

    @classmethod
    def of(cls, method: str, template: str, scope: str) -> "ScopeRule":
        segments = tuple(
            None if part.startswith("{") and part.endswith("}") else part
            for part in _segments(template)
        )
        return cls(method.upper(), segments, scope)

    @property
    def literal_segments(self) -> int:
        return sum(segment is not None for segment in self.segments)

    def matches(self, segments: list[str]) -> bool:
        return len(segments) == len(self.segments) and all(
            rule is None or rule == segment
            for rule, segment in zip(self.segments, segments, strict=True)
        )


class ScopeRules:
    """Rules indexed by method and segment count, most literal first: this runs per request."""

    def __init__(self, rules: Iterable[ScopeRule]) -> None:
        self._index: dict[tuple[str, int], list[ScopeRule]] = {}
        for rule in rules:
            self._index.setdefault((rule.method, len(rule.segments)), []).append(rule)
        for candidates in self._index.values():
            candidates.sort(key=lambda rule: rule.literal_segments, reverse=True)

    @classmethod
    def from_openapi(cls, document: Mapping[str, Any]) -> "ScopeRules":
        """One rule per operation that lists a scope under the OAuth2 security scheme."""
        return cls(
            ScopeRule.of(method, path, scope)
            for path, item in document.get("paths", {}).items()
            for method, operation in item.items()
            if method in HTTP_METHODS and isinstance(operation, dict)
            for scope in operation_scopes(operation)
        )

    def required_scope(self, method: str, path: str) -> str | None:
        """The scope this request needs, or None when only a valid token is required."""
        segments = _segments(path)
        # HEAD reads what GET reads; the service answers it (or refuses it) the same way.
        method = "GET" if method == "HEAD" else method
        for rule in self._index.get((method, len(segments)), ()):
            if rule.matches(segments):
                return rule.scope
        return None


def operation_scopes(operation: Mapping[str, Any]) -> list[str]:
    """The scopes an OpenAPI operation requires under the OAuth2 scheme (one per route here)."""
    return [
        scope
        for requirement in operation.get("security", [])
        for scope in requirement.get(SECURITY_SCHEME, [])
    ]


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]

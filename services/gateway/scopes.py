"""Which scope a request needs at the gateway: method + path pattern -> scope, checked first.

A rule reads `"<METHODS> <path pattern> <scope>"`, e.g. `"GET,HEAD /api/v1/referrals
referrals:read"`; `*` as the methods means any method, `*` as a path segment matches one segment.
The most specific pattern (most segments) wins; among those, a rule naming the method beats `*`.
The services check scopes again: this is the front line, not the only one.
"""

from dataclasses import dataclass

READ_METHODS = "GET,HEAD,OPTIONS"


def _read_write(prefixes: list[str], read_scope: str, write_scope: str) -> list[str]:
    rules = []
    for prefix in prefixes:
        rules.append(f"{READ_METHODS} {prefix} {read_scope}")
        rules.append(f"* {prefix} {write_scope}")
    return rules


DEFAULT_SCOPE_RULES: list[str] = [
    *_read_write(["/api/v1/referrals"], "referrals:read", "referrals:write"),
    "POST /api/v1/referrals/*/triage referrals:triage",
    f"{READ_METHODS} /api/v1/referral-categories referrals:read",
    "* /api/v1/referral-categories admin",
    f"{READ_METHODS} /api/v1/audit audit:read",
    "* /api/v1/audit admin",
    *_read_write(
        ["/api/v1/action-plans", "/api/v1/objectives", "/api/v1/localities/*/action-plans"],
        "actionplans:read",
        "actionplans:write",
    ),
    *_read_write(
        [
            "/api/v1/indicators",
            "/api/v1/observations",
            "/api/v1/areas",
            "/api/v1/derived",
            "/api/v1/localities/*/scorecard",
        ],
        "metrics:read",
        "metrics:write",
    ),
]

KNOWN_SCOPES = frozenset(
    {
        "referrals:read",
        "referrals:write",
        "referrals:triage",
        "actionplans:read",
        "actionplans:write",
        "metrics:read",
        "metrics:write",
        "audit:read",
        "admin",
    }
)


@dataclass(frozen=True, slots=True)
class ScopeRule:
    methods: frozenset[str] | None  # None: any method
    segments: tuple[str, ...]
    scope: str

    @classmethod
    def parse(cls, text: str) -> "ScopeRule":
        parts = text.split()
        if len(parts) != 3:
            raise ValueError(f"scope rule {text!r} is not '<METHODS> <path> <scope>'")
        methods, path, scope = parts
        allowed = None if methods == "*" else frozenset(m.upper() for m in methods.split(","))
        return cls(allowed, tuple(s for s in path.split("/") if s), scope)

    def matches(self, method: str, segments: list[str]) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if len(segments) < len(self.segments):
            return False
        return all(p == "*" or p == s for p, s in zip(self.segments, segments, strict=False))


class ScopeRules:
    """The configured map, ordered so the first match is the most specific."""

    def __init__(self, rules: list[str]) -> None:
        parsed = [ScopeRule.parse(rule) for rule in rules]
        self._rules = sorted(
            parsed, key=lambda r: (len(r.segments), r.methods is not None), reverse=True
        )
        # Indexed by the third segment (`/api/v1/<resource>`), so a request scans a few rules,
        # not all of them: this runs on every proxied request.
        self._by_resource: dict[str, list[ScopeRule]] = {}
        for rule in self._rules:
            resource = rule.segments[2] if len(rule.segments) > 2 else "*"
            self._by_resource.setdefault(resource, []).append(rule)
        wildcard = self._by_resource.get("*", [])
        for resource, resource_rules in self._by_resource.items():
            if resource != "*":
                merged = resource_rules + wildcard
                merged.sort(key=self._rules.index)
                self._by_resource[resource] = merged

    def required_scope(self, method: str, path: str) -> str | None:
        """The scope this request needs, or None when only a valid token is required."""
        segments = [s for s in path.split("/") if s]
        resource = segments[2] if len(segments) > 2 else "*"
        candidates = self._by_resource.get(resource) or self._by_resource.get("*", [])
        for rule in candidates:
            if rule.matches(method, segments):
                return rule.scope
        return None

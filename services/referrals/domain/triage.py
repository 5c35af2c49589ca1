"""Track suggestion: ordered rules (data, per locality); the first that matches suggests.

A suggestion is advice for the person triaging: they record their own decision, which may
differ, and both are kept.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.referrals.domain import Track


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    """What the rules may look at: codes and counts, never free text."""

    locality_code: str
    channel: str
    category_codes: frozenset[str]
    risk_flags: frozenset[str]
    repeat_count: int


@dataclass(frozen=True, slots=True)
class SuggestionRule:
    rule_id: str
    suggest: Track
    any_risk_flags: frozenset[str] = frozenset()
    any_categories: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    min_repeats: int = 0

    @classmethod
    def from_document(cls, item: Mapping[str, Any]) -> "SuggestionRule":
        when = item.get("when", {})
        known = {"any_risk_flags", "any_categories", "channels", "min_repeats"}
        unknown = set(when) - known
        if unknown:
            raise ValueError(f"rule {item['id']}: unknown conditions {sorted(unknown)}")
        return cls(
            rule_id=item["id"],
            suggest=Track(item["suggest"]),
            any_risk_flags=frozenset(when.get("any_risk_flags", ())),
            any_categories=frozenset(when.get("any_categories", ())),
            channels=frozenset(when.get("channels", ())),
            min_repeats=int(when.get("min_repeats", 0)),
        )

    def matches(self, facts: ReferralFacts) -> bool:
        """Every condition the rule states holds (a rule with none always matches)."""
        return (
            (not self.any_risk_flags or bool(self.any_risk_flags & facts.risk_flags))
            and (not self.any_categories or bool(self.any_categories & facts.category_codes))
            and (not self.channels or facts.channel in self.channels)
            and facts.repeat_count >= self.min_repeats
        )


@dataclass(frozen=True, slots=True)
class Suggestion:
    track: Track
    rule_id: str


FALLBACK = Suggestion(Track.SEE_AND_SOLVE, "fallback_see_and_solve")


@dataclass(frozen=True)
class LocalityPolicy:
    """Triage settings of one locality."""

    rules: Sequence[SuggestionRule]
    hub_organisation: str
    repeat_window_days: int
    first_contact_working_days: int

    def suggest(self, facts: ReferralFacts) -> Suggestion:
        for rule in self.rules:
            if rule.matches(facts):
                return Suggestion(rule.suggest, rule.rule_id)
        return FALLBACK


@dataclass(frozen=True)
class TriagePolicy:
    """Defaults plus per-locality overrides, as read from the triage rules document."""

    defaults: Mapping[str, Any]
    localities: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "TriagePolicy":
        policy = cls(document["defaults"], document.get("localities", {}))
        for code in [None, *policy.localities]:
            policy.for_locality(code or "XX")  # refuse a broken document at start-up
        return policy

    def for_locality(self, locality_code: str) -> LocalityPolicy:
        merged = {**self.defaults, **self.localities.get(locality_code, {})}
        return LocalityPolicy(
            rules=[SuggestionRule.from_document(item) for item in merged["rules"]],
            hub_organisation=merged["hub_organisation"].format(locality=locality_code),
            repeat_window_days=int(merged["repeat_window_days"]),
            first_contact_working_days=int(merged["first_contact_working_days"]),
        )

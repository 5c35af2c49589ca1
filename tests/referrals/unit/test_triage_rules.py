"""Track suggestion rules are data, tried in order, overridable per locality."""

import pytest

from services.referrals.config import RULES_DIR, load_taxonomy, load_triage_policy
from services.referrals.domain import Track
from services.referrals.domain.triage import FALLBACK, ReferralFacts, TriagePolicy

pytestmark = pytest.mark.unit

POLICY = load_triage_policy(RULES_DIR / "triage_rules.json")
TAXONOMY = load_taxonomy(RULES_DIR / "taxonomy.json")


def facts(
    locality: str = "NO",
    categories: tuple[str, ...] = ("anti_social_behaviour",),
    flags: tuple[str, ...] = (),
    repeats: int = 0,
    channel: str = "phone",
) -> ReferralFacts:
    return ReferralFacts(
        locality_code=locality,
        channel=channel,
        category_codes=frozenset(TAXONOMY.with_parents(categories)),
        risk_flags=frozenset(flags),
        repeat_count=repeats,
    )


def suggest(**kwargs: object):  # type: ignore[no-untyped-def]
    f = facts(**kwargs)  # type: ignore[arg-type]
    return POLICY.for_locality(f.locality_code).suggest(f)


def test_a_safeguarding_flag_suggests_statutory_escalation() -> None:
    suggestion = suggest(flags=("child_safeguarding",), repeats=3)
    assert suggestion.track is Track.ESCALATE_STATUTORY
    assert suggestion.rule_id == "safeguarding_escalates"


def test_a_repeat_address_suggests_multi_agency() -> None:
    suggestion = suggest(categories=("fly_tipping",), repeats=1)
    assert (suggestion.track, suggestion.rule_id) == (
        Track.MULTI_AGENCY,
        "repeat_demand_multi_agency",
    )


def test_a_subcategory_matches_rules_about_it() -> None:
    assert suggest(categories=("hmo",)).rule_id == "complex_needs_multi_agency"


def test_an_everyday_referral_suggests_see_and_solve() -> None:
    assert suggest(categories=("litter",)).track is Track.SEE_AND_SOLVE
    assert suggest(categories=("employment_and_money",)).track is Track.SIGNPOST


def test_a_locality_can_replace_the_rules() -> None:
    assert suggest(locality="DNC", categories=("street_drinking",)).rule_id == (
        "city_centre_asb_multi_agency"
    )
    assert suggest(locality="NO", categories=("street_drinking",)).track is Track.SEE_AND_SOLVE


def test_a_locality_can_override_windows_and_the_hub() -> None:
    assert POLICY.for_locality("NO").repeat_window_days == 120
    assert POLICY.for_locality("NP").repeat_window_days == 90
    assert POLICY.for_locality("DNC").first_contact_working_days == 3
    assert POLICY.for_locality("NP").hub_organisation == "NP-HUB"


def test_without_a_matching_rule_the_fallback_applies() -> None:
    policy = TriagePolicy.from_document(
        {
            "defaults": {
                "hub_organisation": "HUB",
                "repeat_window_days": 90,
                "first_contact_working_days": 2,
                "rules": [
                    {
                        "id": "only_urgent",
                        "when": {"any_risk_flags": ["urgent"]},
                        "suggest": "multi_agency",
                    }
                ],
            }
        }
    )
    assert policy.for_locality("NO").suggest(facts()) == FALLBACK
    assert policy.for_locality("NO").suggest(facts(flags=("urgent",))).rule_id == "only_urgent"


def test_a_rule_with_an_unknown_condition_or_track_is_refused() -> None:
    base = {"hub_organisation": "HUB", "repeat_window_days": 90, "first_contact_working_days": 2}
    with pytest.raises(ValueError):
        TriagePolicy.from_document(
            {
                "defaults": {
                    **base,
                    "rules": [{"id": "x", "when": {"colour": ["red"]}, "suggest": "signpost"}],
                }
            }
        )
    with pytest.raises(ValueError):
        TriagePolicy.from_document(
            {"defaults": {**base, "rules": [{"id": "x", "when": {}, "suggest": "ignore"}]}}
        )


def test_channel_conditions_match_only_their_channels() -> None:
    policy = TriagePolicy.from_document(
        {
            "defaults": {
                "hub_organisation": "HUB",
                "repeat_window_days": 90,
                "first_contact_working_days": 2,
                "rules": [
                    {
                        "id": "councillor",
                        "when": {"channels": ["councillor"]},
                        "suggest": "multi_agency",
                    }
                ],
            }
        }
    )
    assert policy.for_locality("NO").suggest(facts(channel="councillor")).rule_id == "councillor"
    assert policy.for_locality("NO").suggest(facts(channel="phone")) == FALLBACK

"""Who may see a referral, person keys for repeat demand, and the category taxonomy."""

from datetime import date

import pytest

from services.referrals.config import RULES_DIR, load_taxonomy
from services.referrals.domain import OutcomeCode, outcome_needs_reason
from services.referrals.domain.sharing import (
    Involvement,
    may_access,
    normalise_uprn,
    person_key,
)
from services.referrals.domain.taxonomy import UnknownCategories

pytestmark = pytest.mark.unit

INVOLVEMENT = Involvement(
    created_by="CLEVELAND-POLICE",
    coordinated_by="NO-HUB",
    led_by="THIRTEEN-HOUSING",
    task_holders={"STREET-WARDENS"},
    shared_with={"CHILDRENS-CENTRE"},
)


@pytest.mark.parametrize(
    "organisation",
    ["CLEVELAND-POLICE", "NO-HUB", "THIRTEEN-HOUSING", "STREET-WARDENS", "CHILDRENS-CENTRE"],
)
def test_involved_organisations_may_access(organisation: str) -> None:
    assert may_access(organisation, INVOLVEMENT)


def test_an_uninvolved_organisation_may_not() -> None:
    assert not may_access("NP-HUB", INVOLVEMENT)
    assert not may_access("", INVOLVEMENT)


def test_person_keys_ignore_case_accents_and_spacing_but_need_a_date_of_birth() -> None:
    born = date(1950, 4, 1)
    assert person_key("Zoë  O'Brien", born) == person_key("zoe o brien", born)
    assert person_key("Zoe O'Brien", born) != person_key("Zoe O'Brien", date(1950, 4, 2))
    assert person_key("Zoe O'Brien", None) is None
    key = person_key("Zoe O'Brien", born)
    assert key is not None and "zoe" not in key  # a one-way hash, not the name


def test_uprns_compare_without_leading_zeros() -> None:
    assert normalise_uprn("000100110660543") == normalise_uprn("100110660543")
    assert normalise_uprn(None) is None


def test_unsuccessful_outcomes_need_a_reason() -> None:
    needing = {o for o in OutcomeCode if outcome_needs_reason(o)}
    assert needing == {
        OutcomeCode.DECLINED_BY_RESIDENT,
        OutcomeCode.UNABLE_TO_CONTACT,
        OutcomeCode.NO_FURTHER_ACTION,
    }


TAXONOMY = load_taxonomy(RULES_DIR / "taxonomy.json")


def test_the_taxonomy_holds_the_categories_partners_send() -> None:
    for code in [
        "anti_social_behaviour",
        "environmental",
        "fly_tipping",
        "litter",
        "housing_and_landlords",
        "hmo",
        "selective_licensing",
        "children_and_families",
        "vulnerable_adult",
        "substance_misuse",
        "community_safety",
        "health_and_wellbeing",
        "employment_and_money",
        "other",
    ]:
        assert code in TAXONOMY.categories


def test_validation_names_unknown_codes_and_drops_duplicates() -> None:
    assert TAXONOMY.validate(["litter", "litter", "other"]) == ["litter", "other"]
    with pytest.raises(UnknownCategories) as raised:
        TAXONOMY.validate(["litter", "asb", "dragons"])
    assert raised.value.codes == ["asb", "dragons"]


def test_subcategories_bring_their_parent_for_filtering() -> None:
    assert TAXONOMY.with_parents(["fly_tipping", "hmo"]) == [
        "fly_tipping",
        "environmental",
        "hmo",
        "housing_and_landlords",
    ]
    tree = {item["code"]: item for item in TAXONOMY.as_tree()}
    assert {"fly_tipping", "litter"} <= {s["code"] for s in tree["environmental"]["subcategories"]}

"""Who owns a locality's plans: the organisations that may create and change them.

A plan commits its lead organisation to work; so nobody may name another organisation as
lead but that organisation itself or the locality's hub, which coordinates the locality.
After that the lead, the members and the hub change the plan; anyone else gets a 403.
"""

from collections.abc import Collection

# The locality hub's code, as the referrals service's triage rules name it
# (services/referrals/rules/triage_rules.json, `hub_organisation`).
HUB_ORGANISATION = "{locality}-HUB"


def locality_hub(locality_code: str) -> str:
    return HUB_ORGANISATION.format(locality=locality_code)


def may_create_plan(organisation: str, *, locality_code: str, lead_organisation: str) -> bool:
    """The lead names itself, or the hub names a lead for its locality."""
    return organisation in (lead_organisation, locality_hub(locality_code))


def may_change_plan(
    organisation: str, *, locality_code: str, lead_organisation: str, members: Collection[str]
) -> bool:
    """The plan's lead, a member of its working group, or the locality's hub."""
    return (
        organisation == lead_organisation
        or organisation in members
        or organisation == locality_hub(locality_code)
    )

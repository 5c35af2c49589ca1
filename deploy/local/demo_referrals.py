"""Demo referrals from seeds 000 (Doncaster) and 002 (Middlesbrough)."""

import httpx

# Seed 000 (Doncaster) and 002 (Middlesbrough): the kind of demand a locality hub sees.
DEMO_REFERRALS = [
    (
        "DNC",
        "online",
        ["anti_social_behaviour"],
        "Young people gathering in large groups at the Frenchgate Centre",
    ),
    (
        "DNC",
        "councillor",
        ["anti_social_behaviour", "community_safety"],
        "Thorne Road: on-street drinking and open drug use",
    ),
    (
        "DNC",
        "email",
        ["housing_and_landlords"],
        "Thorne Road: poorly managed house in multiple occupation",
    ),
    (
        "DNC",
        "social_media",
        ["environmental"],
        "Thorne Road: fly-tipping and litter behind the shops",
    ),
    (
        "DNE",
        "phone",
        ["health_and_wellbeing"],
        "Junior football club asks for more local playing space",
    ),
    (
        "DNN",
        "professional",
        ["employment_and_money"],
        "Redundancies at the airport: staff need employment support",
    ),
    (
        "DNS",
        "walk_in",
        ["children_and_families"],
        "Parents ask for more activities for young people",
    ),
    ("NP", "phone", ["environmental"], "Fly-tipping in the back alley"),
    (
        "NP",
        "partner_system",
        ["anti_social_behaviour"],
        "Repeated ASB reported at the same address",
    ),
    (
        "NP",
        "walk_in",
        ["vulnerable_adult"],
        "Neighbour worried about an elderly resident living alone",
    ),
    ("NO", "email", ["housing_and_landlords"], "Damp and disrepair in a privately rented house"),
    ("NO", "online", ["community_safety"], "Residents feel unsafe in the park after dark"),
    ("NO", "professional", ["substance_misuse"], "Drug-related litter near the primary school"),
]


def load(client: httpx.Client) -> None:
    """Post the demo referrals through the gateway."""
    for number, (locality, channel, categories, summary) in enumerate(DEMO_REFERRALS, start=1):
        response = client.post(
            "/api/v1/referrals",
            json={
                "locality_code": locality,
                "channel": channel,
                "category_codes": categories,
                "summary": summary,
            },
            headers={"Idempotency-Key": f"demo-referral-{number}"},
        )
        response.raise_for_status()

"""Demo referrals from seeds 000 (Doncaster) and 002 (Middlesbrough), worked through triage.

Seed 000: in the first eleven weeks of locality triage 69% of referrals were handled within
the day ("see and solve") and 31% needed intensive multi-agency work. The demo triages 26 of
its 29 referrals in that proportion (18 and 8), resolves most see-and-solve ones the same day
and some multi-agency ones after partner tasks, and leaves three waiting for triage.
"""

from dataclasses import dataclass, field

import httpx

from deploy.local.demo import ActAs, as_the_client

SEE_AND_SOLVE, MULTI_AGENCY = "see_and_solve", "multi_agency"


@dataclass(frozen=True)
class DemoReferral:
    locality: str
    channel: str
    categories: list[str]
    summary: str
    track: str | None = None  # None: left waiting for triage
    resolve: str | None = None  # outcome code, when the demo resolves it
    close: bool = False
    lead: str | None = None
    partners: list[str] = field(default_factory=list)
    address: str | None = None  # the place, when the demo shows repeat demand at it


THORNE_ROAD = "Thorne Road, Doncaster DN2 5AA"
DERWENT_STREET = "Derwent Street, North Ormesby TS3 6LA"
UPRNS = {THORNE_ROAD: "100050700001", DERWENT_STREET: "100110660543"}

DEMO_REFERRALS = [
    DemoReferral(
        "DNC",
        "online",
        ["anti_social_behaviour", "youth_nuisance"],
        "Young people gathering in large groups at the Frenchgate Centre",
        SEE_AND_SOLVE,
        "resolved",
        close=True,
    ),
    DemoReferral(
        "DNC",
        "councillor",
        ["anti_social_behaviour", "street_drinking", "community_safety"],
        "Thorne Road: on-street drinking and open drug use",
        MULTI_AGENCY,
        lead="SOUTH-YORKSHIRE-POLICE",
        partners=["DONCASTER-WARDENS"],
        address=THORNE_ROAD,
    ),
    DemoReferral(
        "DNC",
        "email",
        ["housing_and_landlords", "hmo"],
        "Thorne Road: poorly managed house in multiple occupation",
        MULTI_AGENCY,
        "referred_on",
        lead="DONCASTER-HOUSING",
        partners=["DONCASTER-HOUSING"],
        address=THORNE_ROAD,
    ),
    DemoReferral(
        "DNC",
        "social_media",
        ["environmental", "fly_tipping", "litter"],
        "Thorne Road: fly-tipping and litter behind the shops",
        SEE_AND_SOLVE,
        "resolved",
        address=THORNE_ROAD,
    ),
    DemoReferral(
        "DNE",
        "phone",
        ["health_and_wellbeing"],
        "Junior football club asks for more local playing space",
        SEE_AND_SOLVE,
        "signposted",
        close=True,
    ),
    DemoReferral(
        "DNN",
        "professional",
        ["employment_and_money"],
        "Redundancies at the airport: staff need employment support",
        SEE_AND_SOLVE,
        "signposted",
    ),
    DemoReferral(
        "DNS",
        "walk_in",
        ["children_and_families"],
        "Parents ask for more activities for young people",
        SEE_AND_SOLVE,
        "signposted",
    ),
    DemoReferral(
        "NP",
        "phone",
        ["environmental", "fly_tipping"],
        "Fly-tipping in the back alley",
        SEE_AND_SOLVE,
        "resolved",
        close=True,
    ),
    DemoReferral(
        "NP",
        "partner_system",
        ["anti_social_behaviour", "nuisance_neighbours"],
        "Repeated ASB reported at the same address",
        MULTI_AGENCY,
        lead="NP-HUB",
        partners=["CLEVELAND-POLICE", "THIRTEEN-HOUSING"],
    ),
    DemoReferral(
        "NP",
        "walk_in",
        ["vulnerable_adult"],
        "Neighbour worried about an elderly resident living alone",
        MULTI_AGENCY,
        "resolved",
        lead="NP-HUB",
        partners=["ADULT-SOCIAL-CARE"],
    ),
    DemoReferral(
        "NO",
        "email",
        ["housing_and_landlords", "disrepair", "selective_licensing"],
        "Damp and disrepair in a privately rented house",
        MULTI_AGENCY,
        lead="NO-HUB",
        partners=["SELECTIVE-LICENSING"],
        address=DERWENT_STREET,
    ),
    DemoReferral(
        "NO",
        "online",
        ["community_safety"],
        "Residents feel unsafe in the park after dark",
        SEE_AND_SOLVE,
        "resolved",
    ),
    DemoReferral(
        "NO",
        "professional",
        ["substance_misuse", "environmental", "litter"],
        "Drug-related litter near the primary school",
        SEE_AND_SOLVE,
        "resolved",
    ),
    DemoReferral(
        "NO",
        "phone",
        ["environmental", "graffiti"],
        "Graffiti on the community centre wall",
        SEE_AND_SOLVE,
        "resolved",
        close=True,
    ),
    DemoReferral(
        "NO",
        "walk_in",
        ["environmental", "noise"],
        "Loud music late at night from a flat",
        SEE_AND_SOLVE,
        "resolved",
        address=DERWENT_STREET,
    ),
    DemoReferral(
        "NO",
        "councillor",
        ["housing_and_landlords", "empty_property"],
        "Empty house with broken windows attracting youths",
        MULTI_AGENCY,
        lead="NO-HUB",
        partners=["CLEVELAND-POLICE"],
    ),
    DemoReferral(
        "NO",
        "online",
        ["environmental", "litter"],
        "Overflowing bins on Smeaton Street",
        SEE_AND_SOLVE,
        "resolved",
    ),
    DemoReferral(
        "NO",
        "phone",
        ["anti_social_behaviour", "youth_nuisance"],
        "Motorbikes ridden on the field",
        SEE_AND_SOLVE,
        "unable_to_contact",
    ),
    DemoReferral(
        "NP",
        "email",
        ["employment_and_money"],
        "Resident struggling with debts",
        SEE_AND_SOLVE,
        "signposted",
    ),
    DemoReferral(
        "NP",
        "phone",
        ["environmental", "fly_tipping"],
        "Mattresses dumped by the railway bridge",
        SEE_AND_SOLVE,
        "resolved",
    ),
    DemoReferral(
        "NP",
        "social_media",
        ["environmental", "graffiti"],
        "Tags sprayed on shop shutters",
        SEE_AND_SOLVE,
    ),
    DemoReferral(
        "DNC",
        "partner_system",
        ["anti_social_behaviour"],
        "City centre ASB around the bus station",
        MULTI_AGENCY,
        lead="SOUTH-YORKSHIRE-POLICE",
        partners=["DONCASTER-WARDENS"],
    ),
    DemoReferral(
        "DNS", "phone", ["environmental", "litter"], "Litter along the canal towpath", SEE_AND_SOLVE
    ),
    DemoReferral(
        "DNE",
        "online",
        ["health_and_wellbeing"],
        "Lonely older residents ask about lunch clubs",
        SEE_AND_SOLVE,
        "signposted",
    ),
    DemoReferral(
        "DNN",
        "walk_in",
        ["housing_and_landlords"],
        "Landlord not repairing a boiler",
        MULTI_AGENCY,
        "referred_on",
        lead="DONCASTER-HOUSING",
        partners=["DONCASTER-HOUSING"],
    ),
    DemoReferral(
        "DNN", "councillor", ["environmental"], "Overgrown alleyway behind houses", SEE_AND_SOLVE
    ),
    DemoReferral(
        "NO", "partner_system", ["anti_social_behaviour"], "Police report of repeat disturbances"
    ),
    DemoReferral("DNC", "online", ["other"], "Question about the locality hub opening hours"),
    DemoReferral("NP", "phone", ["environmental"], "Dog fouling on the school route"),
]


def _act(
    client: httpx.Client,
    referral_id: str,
    path: str,
    etag: str,
    body: dict | None = None,
    as_organisation: dict[str, str] | None = None,
) -> httpx.Response:
    response = client.post(
        f"/api/v1/referrals/{referral_id}/{path}",
        json=body,
        headers={"If-Match": etag, **(as_organisation or {})},
    )
    response.raise_for_status()
    return response


def _work_through(
    client: httpx.Client, referral_id: str, etag: str, item: DemoReferral, act_as: ActAs
) -> None:
    """Triage, assign and complete partner tasks, resolve and close, as the plan says."""
    if item.track is None:
        return
    rationale = "Agreed at the locality triage meeting"
    triage = {"track": item.track, "rationale": rationale, "lead_organisation": item.lead}
    etag = _act(client, referral_id, "triage", etag, triage).headers["ETag"]
    for partner in item.partners:
        task = {
            "organisation": partner,
            "description": "Contact the resident and report back",
            "purpose": "Multi-agency case work agreed at triage",
            "lawful_basis": "public_task",
        }
        # A task discloses the referral: the locality's hub decides, not the demo client.
        hub = act_as(f"{item.locality}-HUB")
        etag = _act(client, referral_id, "tasks", etag, task, hub).headers["ETag"]
    if item.resolve is None:
        return
    body = {"outcome_code": item.resolve}
    if item.resolve in ("unable_to_contact", "declined_by_resident", "no_further_action"):
        body["reason"] = "Three attempts by phone and one visit without an answer"
    etag = _act(client, referral_id, "resolve", etag, body).headers["ETag"]
    if item.close:
        _act(client, referral_id, "close", etag)


def load(client: httpx.Client, act_as: ActAs = as_the_client) -> None:
    """Post the demo referrals through the gateway and work most of them through triage."""
    for number, item in enumerate(DEMO_REFERRALS, start=1):
        body: dict = {
            "locality_code": item.locality,
            "channel": item.channel,
            "category_codes": item.categories,
            "summary": item.summary,
        }
        if item.address:
            body["subject"] = {"place": {"address": item.address, "uprn": UPRNS[item.address]}}
        response = client.post(
            "/api/v1/referrals", json=body, headers={"Idempotency-Key": f"demo-referral-{number}"}
        )
        response.raise_for_status()
        _work_through(client, response.json()["id"], response.headers["ETag"], item, act_as)

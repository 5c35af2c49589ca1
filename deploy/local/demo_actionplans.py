"""Demo action plans for North Ormesby and Newport (seeds 001 and 002), through the gateway.

Targets name the PMF indicators the metrics demo loads from the same seeds; baselines are the
first survey wave (September 2020) and the first quarter of the pilot (Q1 2020/21).
"""

from datetime import date, timedelta
from typing import Any

import httpx

from deploy.local.demo import ActAs, as_the_client

POLICE = "CLEVELAND-POLICE"
COUNCIL = "MIDDLESBROUGH-COUNCIL"
THIRTEEN = "THIRTEEN-HOUSING"
PUBLIC_HEALTH = "SOUTH-TEES-PUBLIC-HEALTH"

# (indicator, desired direction, baseline period, baseline ends, target date)
SURVEY = ("Sept 2020 survey", "2020-09-30", "2022-03-31")
QUARTER = ("Q1 2020/21", "2020-06-30", "2022-03-31")

# Per locality: baseline and target value per indicator (seed 002 tables and survey waves).
BASELINES: dict[str, dict[str, tuple[float, float]]] = {
    "NP": {
        "feel_safe_day": (31.18, 60.0),
        "feel_safe_dark": (9.68, 35.0),
        "crime_asb_big_problem": (80.65, 50.0),
        "gang_nuisance_big_problem": (64.51, 40.0),
        "asb_incidents": (523, 250),
        "police_reported_crime": (151, 130),
        "public_reported_crime": (595, 520),
    },
    "NO": {
        "feel_safe_day": (32.61, 60.0),
        "feel_safe_dark": (13.04, 35.0),
        "crime_asb_big_problem": (86.95, 60.0),
        "gang_nuisance_big_problem": (71.74, 50.0),
        "asb_incidents": (157, 80),
        "police_reported_crime": (46, 40),
        "public_reported_crime": (192, 170),
    },
}
DIRECTIONS = {
    "feel_safe_day": "up",
    "feel_safe_dark": "up",
    "crime_asb_big_problem": "down",
    "gang_nuisance_big_problem": "down",
    "asb_incidents": "down",
    "police_reported_crime": "down",
    "public_reported_crime": "down",
}
TOLERANCES = {"percent": 5.0, "count_small": 10.0, "count_large": 30.0}

# Actions are (description, owner, due in days from the day the demo loads, or None).
# The police own "making people feel safe" (seed 001); a dedicated drugs plan (seed 002);
# the Children's Services plan led by a Senior Social Worker and reviewed monthly (seed 001).
PLANS: list[dict[str, Any]] = [
    {
        "title": "People feel safe",
        "objective_codes": ["people_feel_safe", "community_cohesion"],
        "lead_person": "Sergeant, {name} Neighbourhood Police Team",
        "lead_organisation": POLICE,
        "member_organisations": [COUNCIL, THIRTEEN],
        "indicators": [
            "feel_safe_day",
            "feel_safe_dark",
            "crime_asb_big_problem",
            "gang_nuisance_big_problem",
            "asb_incidents",
        ],
        "actions": [
            ("Targeted high-visibility patrols with street wardens", POLICE, 30),
            ("ASB contracts and warnings issued jointly with the police", COUNCIL, -10),
            ("Regular drop-in events for police and council teams", POLICE, 60),
        ],
    },
    {
        "title": "Drugs and drug-related issues",
        "objective_codes": ["people_feel_safe", "healthier_population"],
        "lead_person": "Detective Inspector, MARSOC lead",
        "lead_organisation": POLICE,
        "member_organisations": [COUNCIL, PUBLIC_HEALTH, THIRTEEN],
        "indicators": ["police_reported_crime", "public_reported_crime"],
        "actions": [
            ("Weeks of action on organised crime and drug activity", POLICE, 14),
            ("High-level interventions: closure orders on problem houses", COUNCIL, 90),
        ],
    },
    {
        "title": "Better outcomes for children",
        "objective_codes": ["outcomes_for_children"],
        "lead_person": "Senior Social Worker, locality team",
        "lead_organisation": COUNCIL,
        "member_organisations": [POLICE, PUBLIC_HEALTH],
        "indicators": [],
        "actions": [
            ("Mini Police six-week programme in both primary schools", POLICE, 42),
            ("Register under-fives with the children's centre on joint visits", COUNCIL, None),
        ],
    },
]
LOCALITY_NAMES = {"NO": "North Ormesby", "NP": "Newport"}


def _tolerance(indicator: str, baseline: float) -> float:
    if indicator.startswith(("feel_safe", "crime_asb", "gang")):
        return TOLERANCES["percent"]
    return TOLERANCES["count_large"] if baseline > 200 else TOLERANCES["count_small"]


def target_request(locality: str, indicator: str) -> dict[str, Any]:
    """The demo target on `indicator` in `locality`: the body of POST .../targets."""
    baseline, target = BASELINES[locality][indicator]
    period, baseline_on, target_date = (
        SURVEY
        if indicator not in ("asb_incidents", "police_reported_crime", "public_reported_crime")
        else QUARTER
    )
    return {
        "indicator_code": indicator,
        "baseline_value": baseline,
        "baseline_period": period,
        "baseline_on": baseline_on,
        "target_value": target,
        "target_date": target_date,
        "amber_tolerance": _tolerance(indicator, baseline),
        # Only used while the metrics service has not yet published the indicator.
        "desired_direction": DIRECTIONS[indicator],
    }


def load(client: httpx.Client, act_as: ActAs = as_the_client) -> None:
    """Create the demo plans with their targets, actions and a first review."""
    today = date.today()
    for locality, name in LOCALITY_NAMES.items():
        for spec in PLANS:
            # Only a plan's lead (or the hub) may name it as lead: the lead writes its plan.
            as_lead = act_as(spec["lead_organisation"])
            response = client.post(
                "/api/v1/action-plans",
                json={
                    "title": spec["title"],
                    "locality_code": locality,
                    "objective_codes": spec["objective_codes"],
                    "lead_person": spec["lead_person"].format(name=name),
                    "lead_organisation": spec["lead_organisation"],
                    "member_organisations": spec["member_organisations"],
                    "status": "active",
                },
                headers=as_lead,
            )
            response.raise_for_status()
            plan_url = f"/api/v1/action-plans/{response.json()['id']}"
            for indicator in spec["indicators"]:
                client.post(
                    f"{plan_url}/targets", json=target_request(locality, indicator), headers=as_lead
                ).raise_for_status()
            for description, owner, due_in_days in spec["actions"]:
                due_on = None if due_in_days is None else today + timedelta(days=due_in_days)
                client.post(
                    f"{plan_url}/actions",
                    json={
                        "description": description,
                        "owner_organisation": owner,
                        "due_on": due_on.isoformat() if due_on else None,
                        "status": "in_progress",
                    },
                    headers=as_lead,
                ).raise_for_status()
            client.post(
                f"{plan_url}/reviews",
                json={
                    "held_on": (today - timedelta(days=7)).isoformat(),
                    "organisations_present": [
                        spec["lead_organisation"],
                        *spec["member_organisations"],
                    ],
                    "commentary": "Monthly review of the plan's PMF indicators and actions.",
                    "decisions": ["Keep the action plan under monthly review"],
                    "escalations": [],
                },
                headers=as_lead,
            ).raise_for_status()

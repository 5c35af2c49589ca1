"""Demo PMF indicators and observations from seeds 001 and 002 (Middlesbrough: Newport, North
Ormesby), loaded through the gateway: indicator definitions, then the seed CSV via the import.

The numbers are in `demo_metrics_seed.csv` next to this module: the resident survey waves
(Sept 2020, March 2021, Oct 2021; seed 001 calls the third "September 2021", seed 002 "October
2021") and the quarterly incident tables Q1 2020/21 to Q3 2021/22 (seed 002; its first,
unlabelled table is anti-social behaviour incidents). The seeds give no survey sample sizes,
so the import leaves them empty and the status of those indicators falls back to the relative
tolerance rule (see docs/metrics.md).
"""

from pathlib import Path

import httpx

from deploy.local.demo import ActAs, as_the_client

SEED_FILE = Path(__file__).with_name("demo_metrics_seed.csv")

SURVEY_NOTE = "Resident perception survey, share answering very or fairly"
DEMO_INDICATORS = [
    {
        "code": "feel_safe_day",
        "name": "Feeling safe during the day",
        "description": f"{SURVEY_NOTE} safe during the day.",
        "unit": "percent",
        "desired_direction": "up",
        "frequency": "survey_wave",
        "source": "survey",
    },
    {
        "code": "feel_safe_dark",
        "name": "Feeling safe after dark",
        "description": f"{SURVEY_NOTE} safe outside after dark.",
        "unit": "percent",
        "desired_direction": "up",
        "frequency": "survey_wave",
        "source": "survey",
    },
    {
        "code": "crime_asb_big_problem",
        "name": "Crime and ASB a big problem",
        "description": f"{SURVEY_NOTE} big problem to crime and anti-social behaviour.",
        "unit": "percent",
        "desired_direction": "down",
        "frequency": "survey_wave",
        "source": "survey",
    },
    {
        "code": "gang_nuisance_big_problem",
        "name": "Gang nuisance a big problem",
        "description": f"{SURVEY_NOTE} big problem to gang nuisance.",
        "unit": "percent",
        "desired_direction": "down",
        "frequency": "survey_wave",
        "source": "survey",
    },
    {
        "code": "asb_incidents",
        "name": "Anti-social behaviour incidents",
        "description": "Anti-social behaviour incidents recorded in the quarter.",
        "unit": "count",
        "desired_direction": "down",
        "frequency": "quarterly",
        "source": "police",
    },
    {
        "code": "police_reported_crime",
        "name": "Police-reported crime",
        "description": "Crimes recorded from police-initiated reports in the quarter.",
        "unit": "count",
        "desired_direction": "down",
        "frequency": "quarterly",
        "source": "police",
    },
    {
        "code": "public_reported_crime",
        "name": "Public-reported crime",
        "description": "Crimes recorded from reports by the public in the quarter.",
        "unit": "count",
        "desired_direction": "down",
        "frequency": "quarterly",
        "source": "police",
    },
]


# The seed figures are Middlesbrough's: its council defines indicators and writes NO/NP figures
# (services/metrics/writers.json).
WRITER = "MIDDLESBROUGH-COUNCIL"


def define_indicators(client: httpx.Client, as_writer: dict[str, str] | None = None) -> None:
    """Create the seed indicators; ones that exist already are left as they are."""
    for definition in DEMO_INDICATORS:
        response = client.post("/api/v1/indicators", json=definition, headers=as_writer)
        if response.status_code != 409:
            response.raise_for_status()


def import_seed_observations(
    client: httpx.Client, as_writer: dict[str, str] | None = None
) -> dict[str, object]:
    """Import the seed CSV (all rows or none); a second run leaves every row unchanged."""
    response = client.post(
        "/api/v1/observations/import",
        content=SEED_FILE.read_bytes(),
        headers={"Content-Type": "text/csv", **(as_writer or {})},
    )
    response.raise_for_status()
    return response.json()


def load(client: httpx.Client, act_as: ActAs = as_the_client) -> None:
    define_indicators(client, act_as(WRITER))
    import_seed_observations(client, act_as(WRITER))

"""The demo loader imports the seed file, and the scorecard says what the council reports say."""

import csv
import io
import warnings

import pytest

from deploy.local import demo_metrics
from services.metrics.config import Settings
from services.metrics.main import create_app
from tests.harness import TokenMinter

# The demo loader takes a synchronous httpx.Client, as the runner gives it; Starlette's TestClient
# is one (it warns that it would rather use httpx2, which this project does not install).
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.integration


def rows_by_code(scorecard: dict) -> dict[str, dict]:
    return {row["indicator_code"]: row for row in scorecard["rows"]}


def test_seed_scorecard_reproduces_the_reported_survey_and_incident_trends(
    metrics_settings: Settings, mint: TokenMinter
) -> None:
    headers = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    with TestClient(create_app(metrics_settings), headers=headers) as client:
        demo_metrics.load(client)
        newport = rows_by_code(client.get("/api/v1/localities/NP/scorecard").json())
        ormesby = rows_by_code(client.get("/api/v1/localities/NO/scorecard").json())
        again = demo_metrics.import_seed_observations(client)
        exported = client.get("/api/v1/localities/NP/scorecard", headers={"Accept": "text/csv"})

    day = newport["feel_safe_day"]
    assert (day["baseline_value"], day["latest_value"]) == (31.18, 68.65)
    assert day["baseline_period"] == "Wave 1 (Sep 2020)"
    assert day["latest_period"] == "Wave 3 (Oct 2021)"
    assert day["status"] == "improving"
    assert day["change_absolute"] == pytest.approx(37.47)
    assert day["comparison"]["NO"] == 77.14
    assert newport["feel_safe_dark"]["latest_value"] == 48.98
    assert newport["feel_safe_dark"]["status"] == "improving"
    # Lower is better: fewer residents calling crime and ASB a big problem is an improvement.
    assert newport["crime_asb_big_problem"]["status"] == "improving"
    assert ormesby["gang_nuisance_big_problem"]["status"] == "worsening"  # 71.74% -> 77.14%
    asb = newport["asb_incidents"]
    assert (asb["baseline_period"], asb["baseline_value"]) == ("2020/21 Q1", 523)
    assert (asb["latest_period"], asb["latest_value"]) == ("2021/22 Q3", 172)
    assert (asb["status"], asb["status_method"]) == ("improving", "poisson_ci")
    assert newport["police_reported_crime"]["status"] == "no_clear_change"  # 151 -> 165
    assert ormesby["public_reported_crime"]["status"] == "worsening"  # 192 -> 247
    assert again["unchanged"] == 66 and again["created"] == again["revised"] == 0

    assert exported.headers["content-type"].startswith("text/csv")
    table = {row["indicator_code"]: row for row in csv.DictReader(io.StringIO(exported.text))}
    assert table["feel_safe_day"]["baseline_value"] == "31.18"
    # Full precision, never an exponent: (172 - 523) / 523 with every digit the float holds.
    assert table["asb_incidents"]["change_relative"] == repr((172 - 523) / 523)
    assert table["feel_safe_day"]["latest_value"] == "68.65"
    assert table["feel_safe_day"]["status"] == "improving"
    assert table["feel_safe_day"]["value_NO"] == "77.14"
    assert "referrals_received" in table  # derived indicators are on every scorecard

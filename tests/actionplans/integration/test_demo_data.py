"""The runner's demo data loads through the API and gives the strategic group a summary."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deploy.local import demo_actionplans
from services.actionplans.config import Settings
from services.actionplans.main import create_app
from shared.auth import ALL_SCOPES
from tests import harness
from tests.harness import TokenMinter

pytestmark = pytest.mark.integration


def test_demo_loads_seed_plans_for_north_ormesby_and_newport(
    tmp_path: Path, kafka: str, public_key: Path, mint: TokenMinter
) -> None:
    settings = Settings(
        **harness.test_settings_values(
            tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}", kafka, public_key
        ),
        consumer_group=f"actionplans-demo-{tmp_path.name}",
    )
    with TestClient(create_app(settings), headers=mint.headers("DEMO-HUB", ALL_SCOPES)) as client:
        demo_actionplans.load(client)

        summaries = {
            code: client.get(f"/api/v1/localities/{code}/action-plans").json()["items"]
            for code in ("NO", "NP")
        }
        feel_safe = next(s for s in summaries["NP"] if s["title"] == "People feel safe")
        targets = client.get(f"/api/v1/action-plans/{feel_safe['plan_id']}/targets").json()

    for items in summaries.values():
        assert [s["title"] for s in items] == [
            "People feel safe",
            "Drugs and drug-related issues",
            "Better outcomes for children",
        ]
    assert feel_safe["lead_organisation"] == "CLEVELAND-POLICE"
    assert feel_safe["overdue_actions"] == 1
    baselines = {t["indicator_code"]: t["current"]["baseline_value"] for t in targets["items"]}
    assert baselines["feel_safe_day"] == 31.18
    assert baselines["asb_incidents"] == 523

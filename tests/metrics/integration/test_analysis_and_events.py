"""Analysis and comparison over the API; observations and status flips published via the outbox."""

import uuid
from datetime import UTC, date, datetime

import pytest
from httpx import AsyncClient

from shared.contracts import actionplans as plans
from shared.contracts import metrics as contract
from shared.events import new_event
from tests.event_waits import wait_for_events
from tests.harness import TokenMinter, publish, wait_until

pytestmark = pytest.mark.integration


async def publish_targets(kafka: str, *targets: plans.TargetSetV1) -> None:
    """Target events on one partition key, so they are applied in this order."""
    await publish(
        kafka, *(new_event(plans.SOURCE, plans.TARGET_SET_V1, "plan-1", t) for t in targets)
    )


async def test_analysis_uses_sample_sizes_and_an_action_plan_target_and_publishes_flips(
    metrics: AsyncClient, mint: TokenMinter, kafka: str
) -> None:
    code = "safe_" + uuid.uuid4().hex[:8]  # the metrics topics are shared by every test
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    definition = {
        "code": code,
        "name": "Feeling safe during the day",
        "unit": "percent",
        "desired_direction": "up",
        "frequency": "survey_wave",
        "source": "survey",
    }
    assert (await metrics.post("/api/v1/indicators", json=definition, headers=writer)).is_success
    rows = [
        ("NP", "2020-09-01", "2020-09-30", 31.18, 93),
        ("NP", "2021-10-01", "2021-10-31", 68.65, 49),
        ("NO", "2020-09-01", "2020-09-30", 32.61, 46),
        ("NO", "2021-10-01", "2021-10-31", 36.00, 35),
    ]
    text = "indicator_code,area_code,period_start,period_end,value,sample_size\n" + "".join(
        f"{code},{area},{start},{end},{value},{n}\n" for area, start, end, value, n in rows
    )
    imported = await metrics.post(
        "/api/v1/observations/import", content=text, headers=writer | {"Content-Type": "text/csv"}
    )
    assert imported.json()["created"] == 4

    newport = (
        await metrics.get(f"/api/v1/indicators/{code}/analysis?area=NP", headers=writer)
    ).json()
    ormesby = (
        await metrics.get(f"/api/v1/indicators/{code}/analysis?area=NO", headers=writer)
    ).json()
    assert newport["status"]["method"] == "two_proportion_ci"
    assert newport["status"]["status"] == "improving" and newport["status"]["ci_low"] > 0
    assert newport["change_since_baseline"]["absolute"] == pytest.approx(37.47)
    assert newport["change_since_previous"]["relative"] == pytest.approx(37.47 / 31.18)
    assert [p["value"] for p in newport["series"]] == [31.18, 68.65]
    assert newport["rag"] is None
    assert ormesby["status"]["status"] == "no_clear_change"  # +3.4 points on 46 and 35 answers

    compared = await metrics.get(
        f"/api/v1/indicators/{code}/comparison?area=NP&area=NO&area=MBRO", headers=writer
    )
    items = {i["area_code"]: i for i in compared.json()["items"]}
    assert items["NO"]["difference_absolute"] == pytest.approx(36.00 - 68.65)
    assert items["NO"]["difference_from_first"]["status"] == "worsening"
    assert items["MBRO"]["latest"] is None
    for not_a_locality in ("MBRO", "ZZ"):
        response = await metrics.get(
            f"/api/v1/localities/{not_a_locality}/scorecard", headers=writer
        )
        assert response.status_code == 404

    target = plans.TargetSetV1(
        plan_id="plan-1",
        locality_code="NP",
        organisation="MBC",
        target_id=f"target-{code}",
        version=1,
        indicator_code=code,
        area_code="NP",
        baseline_value=31.18,
        baseline_period="Wave 1 (Sep 2020)",
        baseline_on=date(2020, 9, 30),
        target_value=75.0,
        target_date=date(2021, 10, 31),
        amber_tolerance=10.0,
        set_at=datetime(2021, 11, 1, tzinfo=UTC),
    )
    await publish_targets(kafka, target)

    async def rag() -> str | None:
        response = await metrics.get(f"/api/v1/indicators/{code}/analysis?area=NP", headers=writer)
        return response.json()["rag"]

    # The trajectory reaches 75 at the end of October 2021: 68.65 is within 10 points short.
    assert await wait_until(rag) == "amber"

    # A re-baselined target (version 2) wins over a late copy of version 1; a marker target
    # on the same partition key shows when both have been applied.
    marker = target.model_copy(update={"target_id": f"marker-{code}", "area_code": "NO"})
    await publish_targets(
        kafka, target.model_copy(update={"version": 2, "target_value": 60.0}), target, marker
    )

    async def targets() -> list[dict] | None:
        response = await metrics.get(f"/api/v1/indicators/{code}/targets", headers=writer)
        items = response.json()["items"]
        return items if len(items) == 2 else None

    kept = {t["target_id"]: t for t in await wait_until(targets)}
    assert (kept[target.target_id]["version"], kept[target.target_id]["target_value"]) == (2, 60)
    assert await rag() == "green"

    ours = await wait_for_events(
        kafka,
        "metrics.observation",
        match=lambda e: e.data["indicator_code"] == code,
        count=len(rows),
    )
    assert {(e.data["area_code"], e.data["value"]) for e in ours} == {
        (a, v) for a, _, _, v, _ in rows
    }
    assert all(e.type == contract.OBSERVATION_RECORDED_V1 for e in ours)
    assert ours[0].subject == f"{code}:{ours[0].data['area_code']}"

    flips = [
        contract.IndicatorStatusChangedV1.model_validate(e.data)
        for e in await wait_for_events(
            kafka,
            "metrics.indicator",
            match=lambda e: e.data["indicator_code"] == code and e.data["area_code"] == "NP",
            count=3,
        )
    ]
    assert [(f.previous_status, f.status, f.previous_rag, f.rag) for f in flips] == [
        (None, "improving", None, None),
        ("improving", "improving", None, "amber"),
        ("improving", "improving", "amber", "green"),
    ]
    assert flips[-1].target_id == target.target_id

"""Events carry ids and codes only: personal markers typed into free text never reach a topic."""

import asyncio
import uuid

import httpx
import pytest
from aiokafka import ConsumerRecord

from deploy.local.system import LocalSystem
from tests.event_waits import TopicTail
from tests.harness import wait_until

pytestmark = pytest.mark.e2e

TOPICS = (
    "referrals.referral",
    "actionplans.plan",
    "actionplans.target",
    "actionplans.action",
    "metrics.observation",
    "metrics.indicator",
)


async def test_personal_markers_in_every_free_text_field_appear_on_no_topic(
    system: LocalSystem,
) -> None:
    marker = f"PERSONAL-{uuid.uuid4().hex[:8]}"
    token = system.mint_token("CLEVELAND-POLICE", "admin")
    async with httpx.AsyncClient(
        base_url=system.gateway_url, timeout=15, headers={"Authorization": f"Bearer {token}"}
    ) as gateway:
        subjects = [
            *await referral_with_markers(gateway, marker),
            *await plan_with_markers(gateway, marker),
            *await observation_with_markers(gateway, marker),
        ]

        async def all_announced() -> list[bytes] | None:
            records = await asyncio.gather(
                *(records_now(system.kafka_bootstrap_servers, t) for t in TOPICS)
            )
            flat = [record for topic in records for record in topic]
            keys = {record.key for record in flat}
            if not all(subject.encode() in keys for subject in subjects):
                return None
            return [
                b"".join([record.key or b"", record.value or b""])
                + b"".join(name.encode() + value for name, value in record.headers)
                for record in flat
            ]

        wire = await wait_until(all_announced, timeout_s=60, interval_s=1)
    leaked = [record for record in wire if marker.encode() in record]
    assert not leaked, f"{len(leaked)} records carry free text: {leaked[0][:300]!r}"


async def records_now(kafka: str, topic: str) -> list[ConsumerRecord]:
    """Every raw record on `topic` as it stands (key, value and headers are all checked)."""
    async with TopicTail(kafka, topic) as tail:
        return await tail.records_to_current_end()


async def referral_with_markers(gateway: httpx.AsyncClient, marker: str) -> list[str]:
    created = await gateway.post(
        "/api/v1/referrals",
        json={
            "locality_code": "NO",
            "channel": "phone",
            "category_codes": ["anti_social_behaviour"],
            "summary": f"{marker} summary",
            "description": f"{marker} description",
            "referrer": {
                "name": f"{marker} referrer",
                "organisation": f"{marker} org",
                "contact": f"{marker}@example.org",
            },
            "subject": {
                "person": {"name": f"{marker} person", "contact": f"{marker} phone"},
                "place": {"address": f"{marker} 12 Derwent Street", "postcode": "TS3 6LA"},
            },
            "sharing_agreement_ref": f"{marker}-isa",
            "external_ref": f"{marker}-ref",
        },
    )
    assert created.status_code == 201, created.text
    referral_id = created.json()["id"]
    url = f"/api/v1/referrals/{referral_id}"

    async def act(path: str, body: dict) -> httpx.Response:
        etag = (await gateway.get(url)).headers["ETag"]
        response = await gateway.post(f"{url}/{path}", json=body, headers={"If-Match": etag})
        assert response.status_code in (200, 201), response.text
        return response

    await act(
        "triage",
        {
            "track": "multi_agency",
            "rationale": f"{marker} rationale",
            "lead_organisation": "CLEVELAND-POLICE",
        },
    )
    await act(
        "tasks",
        {
            "organisation": "CLEVELAND-POLICE",
            "description": f"{marker} task",
            "purpose": "Visit and report back",
            "lawful_basis": "public_task",
        },
    )
    await act("resolve", {"outcome_code": "resolved", "reason": f"{marker} resolved"})
    await act("reopen", {"reason": f"{marker} reopened"})
    return [referral_id]


async def plan_with_markers(gateway: httpx.AsyncClient, marker: str) -> list[str]:
    plan = await gateway.post(
        "/api/v1/action-plans",
        json={
            "title": f"{marker} plan",
            "locality_code": "NP",
            "objective_codes": ["people_feel_safe"],
            "lead_person": f"{marker} lead",
            "lead_organisation": "CLEVELAND-POLICE",
            "member_organisations": [],
            "status": "active",
        },
    )
    assert plan.status_code == 201, plan.text
    plan_id = plan.json()["id"]
    target = await gateway.post(
        f"/api/v1/action-plans/{plan_id}/targets",
        json={
            "indicator_code": "feel_safe_day",
            "baseline_value": 31.18,
            "baseline_period": f"{marker} baseline",
            "baseline_on": "2020-09-30",
            "target_value": 60.0,
            "target_date": "2030-03-31",
            "amber_tolerance": 5.0,
            "desired_direction": "up",
        },
    )
    assert target.status_code == 201, target.text
    action = await gateway.post(
        f"/api/v1/action-plans/{plan_id}/actions",
        json={
            "description": f"{marker} action",
            "owner_organisation": "CLEVELAND-POLICE",
            "due_on": "2030-01-31",
        },
    )
    assert action.status_code == 201, action.text
    return [plan_id, target.json()["id"], action.json()["id"]]


async def observation_with_markers(gateway: httpx.AsyncClient, marker: str) -> list[str]:
    code = f"fsd_{uuid.uuid4().hex[:8]}"
    indicator = await gateway.post(
        "/api/v1/indicators",
        json={
            "code": code,
            "name": f"{marker} indicator",
            "unit": "percent",
            "desired_direction": "up",
            "frequency": "survey_wave",
            "source": "survey",
        },
    )
    assert indicator.status_code == 201, indicator.text
    for period_end, value in (("2020-09-30", 30.0), ("2021-10-31", 60.0)):
        observed = await gateway.post(
            "/api/v1/observations",
            json={
                "indicator_code": code,
                "area_code": "NP",
                "period_start": period_end[:8] + "01",
                "period_end": period_end,
                "period_label": f"{marker} wave",
                "value": value,
                "sample_size": 93,
            },
        )
        assert observed.status_code == 201, observed.text
    return [f"{code}:NP"]

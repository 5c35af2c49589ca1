"""Intake: the full contract, sensible defaults, idempotent retries, repeat demand."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from tests.referrals.workflow import Hub, place, referral_body

pytestmark = pytest.mark.integration


async def test_a_full_referral_answers_with_reference_status_and_suggested_track(hub: Hub) -> None:
    body = referral_body(
        channel="partner_system",
        category_codes=["housing_and_landlords", "hmo"],
        summary="Overcrowded HMO, rubbish in the yard",
        description="Eight tenants, two bins, rats seen",
        referrer={
            "name": "PC Sarah Lee",
            "organisation": "Cleveland Police",
            "contact": "sarah.lee@example.org",
        },
        subject={
            "person": {"kind": "household", "name": "Tenants of 12 Derwent St"},
            "place": {
                "address": "12 Derwent Street, North Ormesby",
                "postcode": "TS3 6LA",
                "uprn": "100110660543",
                "latitude": 54.5640,
                "longitude": -1.2170,
            },
        },
        risk_flags=["urgent"],
        lawful_basis="crime_and_disorder_act_s115",
        sharing_agreement_ref="ISA-TEES-2024-07",
        external_ref="CP-2026-778812",
    )
    response = await hub.client.post(
        "/api/v1/referrals", json=body, headers=hub.as_("CLEVELAND-POLICE")
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["reference"] == "NO-2026-000001"
    assert created["status"] == "received"
    assert created["suggested_track"] == "multi_agency"
    assert created["suggestion_rule"] == "complex_needs_multi_agency"
    assert created["subject"]["place"]["uprn"] == "100110660543"
    assert created["lawful_basis"] == "crime_and_disorder_act_s115"
    assert created["coordinating_organisation"] == "NO-HUB"
    assert response.headers["Location"] == f"/api/v1/referrals/{created['id']}"
    assert response.headers["ETag"]

    read = await hub.read(created["id"], org="CLEVELAND-POLICE")
    assert read.json()["referrer"]["contact"] == "sarah.lee@example.org"
    assert read.json()["external_ref"] == "CP-2026-778812"


async def test_a_minimal_referral_gets_sensible_defaults(hub: Hub) -> None:
    created = await hub.create()
    assert created["lawful_basis"] == "public_task"
    assert created["risk_flags"] == []
    assert created["subject"] is None
    assert created["suggested_track"] == "see_and_solve"
    assert created["repeat_demand"] == {"count": 0, "referral_ids": [], "window_days": 120}


async def test_references_count_per_locality(hub: Hub) -> None:
    assert (await hub.create())["reference"] == "NO-2026-000001"
    assert (await hub.create(locality_code="NP"))["reference"] == "NP-2026-000001"
    assert (await hub.create())["reference"] == "NO-2026-000002"


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(hub: Hub) -> None:
    headers = {**hub.as_("CLEVELAND-POLICE"), "Idempotency-Key": "cp-778812"}
    first = await hub.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    again = await hub.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # Another organisation's key space is its own.
    other = {**hub.as_("THIRTEEN-HOUSING"), "Idempotency-Key": "cp-778812"}
    third = await hub.client.post("/api/v1/referrals", json=referral_body(), headers=other)
    assert third.status_code == 201
    assert third.json()["reference"] != first.json()["reference"]  # a new referral


async def test_the_same_key_with_a_different_body_is_422(sqlite_hub: Hub) -> None:
    headers = {**sqlite_hub.as_("NO-HUB"), "Idempotency-Key": "k-1"}
    await sqlite_hub.client.post("/api/v1/referrals", json=referral_body(), headers=headers)
    response = await sqlite_hub.client.post(
        "/api/v1/referrals", json=referral_body(summary="Something else"), headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category_codes": ["asb"]}, "category_codes"),
        ({"risk_flags": ["bad_vibes"]}, "risk_flags.0"),
        ({"lawful_basis": "because"}, "lawful_basis"),
        ({"subject": {"place": {"address": "1 High St", "latitude": 54.5}}}, "subject.place"),
        ({"subject": {"place": {"address": "1 High St", "uprn": "UPRN-1"}}}, "subject.place.uprn"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_fields_are_named(sqlite_hub: Hub, overrides: dict, field: str) -> None:
    response = await sqlite_hub.client.post(
        "/api/v1/referrals", json=referral_body(**overrides), headers=sqlite_hub.as_("NO-HUB")
    )
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_earlier_referrals_for_the_same_place_or_person_are_flagged(hub: Hub) -> None:
    first = await hub.create(**place(uprn="10023456789"))
    person = {"name": "Joan Smith", "date_of_birth": "1941-02-03"}
    by_person = await hub.create(subject={"person": person})
    hub.now += timedelta(days=10)
    repeat = await hub.create(**place(uprn="010023456789"))
    assert repeat["repeat_demand"]["referral_ids"] == [first["id"]]
    assert repeat["suggested_track"] == "multi_agency"
    assert repeat["suggestion_rule"] == "repeat_demand_multi_agency"
    same_person = await hub.create(subject={"person": {**person, "name": "JOAN  SMITH"}})
    assert same_person["repeat_demand"]["referral_ids"] == [by_person["id"]]

    read = (await hub.read(repeat["id"])).json()
    assert read["repeat_demand"]["count"] == 1


async def test_referrals_outside_the_window_are_not_repeats(hub: Hub) -> None:
    await hub.create(locality_code="NP", **place())
    hub.now += timedelta(days=91)  # Newport's window is the default 90 days
    later = await hub.create(locality_code="NP", **place())
    assert later["repeat_demand"]["count"] == 0


async def test_the_taxonomy_is_published(sqlite_hub: Hub) -> None:
    response = await sqlite_hub.client.get(
        "/api/v1/referral-categories", headers=sqlite_hub.as_("ANY")
    )
    codes = {c["code"] for c in response.json()["categories"]}
    assert "environmental" in codes and "other" in codes


async def test_concurrent_retries_with_one_key_create_one_referral(hub: Hub) -> None:
    headers = {**hub.as_("CLEVELAND-POLICE"), "Idempotency-Key": "burst-1"}

    async def post() -> httpx.Response:
        return await hub.client.post("/api/v1/referrals", json=referral_body(), headers=headers)

    responses = await asyncio.gather(*(post() for _ in range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = await hub.client.get("/api/v1/referrals", headers=hub.as_("CLEVELAND-POLICE"))
    assert len(listed.json()["items"]) == 1

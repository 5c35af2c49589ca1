"""Open311 GeoReport v2 driven as FixMyStreet drives it (perllib/Open311.pm): its GETs of
services.xml and services/<code>.xml, and its POST of requests.xml, form-encoded field by field
as LWP sends them; the gateway in front of the real referrals service."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI

from services.gateway import clients
from services.gateway.config import Settings
from services.gateway.main import create_app as create_gateway
from services.referrals.config import Settings as ReferralsSettings
from services.referrals.main import create_app as create_referrals
from tests import harness
from tests.gateway.integration.test_oauth_token import change, register
from tests.gateway.serving import serving
from tests.harness import TokenMinter, running_app, wait_until

pytestmark = pytest.mark.integration

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ORGANISATION = "CLEVELAND-POLICE"  # the organisation `register` gives its clients


@dataclass
class Door:
    gateway: httpx.AsyncClient
    referrals: httpx.AsyncClient
    api_key: str
    gateway_app: FastAPI
    gateway_database_url: str


@pytest.fixture
async def door(
    gateway_settings: Settings,
    sqlite_url: str,
    database_url: str,
    kafka: str,
    public_key: Path,
    tmp_path: Path,
) -> AsyncIterator[Door]:
    """The real referrals service on a port (SQLite and PostgreSQL), the gateway in front of it
    with generous upstream timeouts (the machine is loaded), and a FixMyStreet client."""
    referrals_dir = tmp_path / "referrals"
    if database_url.startswith("sqlite"):  # the gateway has the test's SQLite file
        referrals_dir.mkdir()
        database_url = f"sqlite+aiosqlite:///{referrals_dir / 'referrals.sqlite3'}"
    referrals_settings = ReferralsSettings(
        **harness.test_settings_values(referrals_dir, database_url, kafka, public_key),
        overdue_check_interval_s=0,
    )
    async with serving(create_referrals(referrals_settings)) as referrals_url:
        settings = gateway_settings.model_copy(
            update={"referrals_url": referrals_url, "read_timeout_s": 30, "connect_timeout_s": 30}
        )
        app = create_gateway(settings)
        async with (
            running_app(app) as gateway,
            httpx.AsyncClient(base_url=referrals_url, timeout=30) as referrals,
        ):
            issued = await register(sqlite_url)  # the gateway's database
            api_key = f"{issued.client.client_id}:{issued.secret}"
            yield Door(gateway, referrals, api_key, app, sqlite_url)


def fixmystreet_form(key: str | None, **changes: str | None) -> str:
    """What FixMyStreet's Open311 sender posts for a UK report (extended description, lat/long
    truncated to 6 places, the id field and easting/northing/closest_address attributes that
    the service definition or the cobrand asks for), encoded as LWP encodes a form."""
    fields: dict[str, str | None] = {
        "jurisdiction_id": "middlesbrough.gov.uk",
        "api_key": key,
        "description": (
            "title: Mattresses dumped behind the shops\n\n"
            "detail: Three mattresses and a sofa in the alley behind Derwent Street.\n\n"
            "url: https://www.fixmystreet.com/report/4711\n\n"
            "Submitted via FixMyStreet\n"
        ),
        "service_code": "fly_tipping",
        "first_name": "Alex",
        "last_name": "Resident",
        "email": "alex@example.org",
        "lat": "54.568912",
        "long": "-1.221853",
        "attribute[locality_code]": "NO",
        "attribute[fixmystreet_id]": "4711",
        "attribute[easting]": "450283",
        "attribute[northing]": "519921",
        "attribute[closest_address]": "12 Derwent Street, Middlesbrough TS3 6LN",
    }
    fields.update(changes)
    return urlencode([(name, value) for name, value in fields.items() if value is not None])


def xml(response: httpx.Response) -> ElementTree.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)


def errors(response: httpx.Response) -> list[tuple[str, str]]:
    return [(e.findtext("code", ""), e.findtext("description", "")) for e in xml(response)]


async def test_a_fixmystreet_report_becomes_an_open311_referral_whose_status_reads_back(
    door: Door, mint: TokenMinter
) -> None:
    # FixMyStreet adds its jurisdiction_id to every call (here not a locality: ignored).
    jurisdiction = {"jurisdiction_id": "middlesbrough.gov.uk"}
    services = xml(await door.gateway.get("/open311/v2/services.xml", params=jurisdiction))
    assert services.tag == "services"
    codes = {service.findtext("service_code"): service for service in services}
    assert codes["fly_tipping"].findtext("service_name") == "Fly-tipping"
    assert codes["fly_tipping"].findtext("group") == "Environmental"
    assert codes["fly_tipping"].findtext("metadata") == "true"
    definition = xml(
        await door.gateway.get("/open311/v2/services/fly_tipping.xml", params=jurisdiction)
    )
    attributes = {a.findtext("code"): a for a in definition.iter("attribute")}
    assert attributes["locality_code"].findtext("required") == "true"
    assert "NO" in {v.findtext("key") for v in attributes["locality_code"].iter("value")}
    assert attributes["fixmystreet_id"].findtext("variable") == "false"

    created = await door.gateway.post(
        "/open311/v2/requests.xml", content=fixmystreet_form(door.api_key), headers=FORM
    )
    assert created.status_code == 201, created.text
    request = xml(created).find("request")
    assert request is not None
    referral_id = request.findtext("service_request_id")
    assert request.findtext("service_notice", "").startswith("Reference NO-")
    assert created.headers["ratelimit-policy"] == '"default";q=600;w=60'

    read = await door.referrals.get(
        f"/api/v1/referrals/{referral_id}", headers=mint.headers(ORGANISATION, "referrals:read")
    )
    assert read.status_code == 200, read.text
    referral = read.json()
    assert referral["channel"] == "open311"
    assert referral["category_codes"] == ["fly_tipping"]
    assert referral["locality_code"] == "NO"
    assert referral["summary"] == "Mattresses dumped behind the shops"
    assert "Derwent Street" in referral["description"]
    assert referral["referrer"] == {
        "name": "Alex Resident",
        "organisation": None,
        "contact": "alex@example.org",
    }
    place = referral["subject"]["place"]
    assert (place["latitude"], place["longitude"]) == (54.568912, -1.221853)
    assert place["address"] == "12 Derwent Street, Middlesbrough TS3 6LN"
    assert referral["external_ref"] == "4711"
    assert referral["created_by_organisation"] == ORGANISATION

    status = await door.gateway.get(
        f"/open311/v2/requests/{referral_id}.xml", params={"api_key": door.api_key}
    )
    assert status.status_code == 200, status.text
    assert status.headers["ratelimit"].startswith('"default";r=')
    one = xml(status).find("request")
    assert one is not None
    assert one.findtext("service_request_id") == referral_id
    assert one.findtext("status") == "open"
    assert one.findtext("status_notes") == "received"
    assert one.findtext("service_code") == "fly_tipping"
    assert one.findtext("requested_datetime", "").endswith("Z")
    personal = ("Alex", "alex@", "Derwent", "Mattresses", "54.56")
    assert not any(marker in status.text for marker in personal)

    listed = await door.gateway.get(
        "/open311/v2/requests.json",
        params={"api_key": door.api_key, "service_request_id": f"{referral_id},nope"},
    )
    assert listed.status_code == 200, listed.text
    assert listed.headers["content-type"] == "application/json; charset=utf-8"
    assert [r["service_request_id"] for r in listed.json()] == [referral_id]
    assert not any(marker in listed.text for marker in personal)
    recent = await door.gateway.get(
        "/open311/v2/requests.json",
        params={"api_key": door.api_key, "service_code": "fly_tipping", "status": "open"},
    )
    assert [r["service_request_id"] for r in recent.json()] == [referral_id]
    closed = await door.gateway.get(
        "/open311/v2/requests.json", params={"api_key": door.api_key, "status": "closed"}
    )
    assert closed.json() == []


async def test_a_resent_report_with_the_same_fixmystreet_id_creates_nothing_new(
    door: Door, mint: TokenMinter
) -> None:
    first = await door.gateway.post(
        "/open311/v2/requests.json", content=fixmystreet_form(door.api_key), headers=FORM
    )
    again = await door.gateway.post(
        "/open311/v2/requests.json", content=fixmystreet_form(door.api_key), headers=FORM
    )
    assert first.status_code == again.status_code == 201, again.text
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert again.headers["idempotent-replayed"] == "true"
    listed = await door.referrals.get(
        "/api/v1/referrals", headers=mint.headers(ORGANISATION, "referrals:read")
    )
    assert len(listed.json()["items"]) == 1


async def test_open311_refusals_are_error_lists_with_the_specified_statuses(door: Door) -> None:
    post = door.gateway.post
    bad_key = await post(
        "/open311/v2/requests.xml", content=fixmystreet_form("lh_nobody:wrong"), headers=FORM
    )
    assert bad_key.status_code == 403
    assert errors(bad_key) == [("403", "Invalid api_key received.")]
    no_key = await post("/open311/v2/requests.xml", content=fixmystreet_form(None), headers=FORM)
    assert no_key.status_code == 403

    reader = await register(door.gateway_database_url, scopes="referrals:read")
    read_only = await post(
        "/open311/v2/requests.xml",
        content=fixmystreet_form(f"{reader.client.client_id}:{reader.secret}"),
        headers=FORM,
    )
    assert read_only.status_code == 403
    assert errors(read_only) == [
        ("403", "This api_key's client lacks the scope 'referrals:write'.")
    ]

    missing = await post(
        "/open311/v2/requests.xml",
        content=fixmystreet_form(door.api_key, service_code=None),
        headers=FORM,
    )
    assert missing.status_code == 400
    assert errors(missing) == [("400", "service_code was not provided.")]
    unknown = await post(
        "/open311/v2/requests.json",
        content=fixmystreet_form(door.api_key, service_code="potholes"),
        headers=FORM,
    )
    assert unknown.status_code == 404
    assert unknown.json() == [
        {"code": 404, "description": "service_code 'potholes' was not found (see services.xml)."}
    ]
    nowhere = await post(
        "/open311/v2/requests.xml",
        content=fixmystreet_form(
            door.api_key, lat=None, long=None, **{"attribute[closest_address]": None}
        ),
        headers=FORM,
    )
    assert nowhere.status_code == 400
    assert "location was not provided" in errors(nowhere)[0][1]

    # The referrals service's own rules, named by the Open311 field they came from.
    control = await post(
        "/open311/v2/requests.xml",
        content=fixmystreet_form(door.api_key, first_name="Al\x1bex"),
        headers=FORM,
    )
    assert control.status_code == 400, control.text
    assert errors(control)[0][1].startswith("first_name/last_name: ")

    absent = await door.gateway.get(
        "/open311/v2/requests/00000000-0000-0000-0000-000000000000.xml",
        params={"api_key": door.api_key},
    )
    assert absent.status_code == 404
    assert errors(absent)[0][0] == "404"
    assert (await door.gateway.get("/open311/v2/services/potholes.json")).status_code == 404
    odd_format = await door.gateway.get("/open311/v2/services.html")
    assert odd_format.status_code == 400
    assert errors(odd_format)[0][1] == "Unknown format 'html': use xml or json."
    typo = await door.gateway.get(
        "/open311/v2/requests.xml", params={"api_key": door.api_key, "stauts": "open"}
    )
    assert typo.status_code == 400


async def test_open311_calls_spend_the_clients_own_rate_limit(door: Door) -> None:
    # A long window: the bucket cannot refill while a loaded machine runs the three calls.
    limited = await register(
        door.gateway_database_url, rate_limit_quota=2, rate_limit_window_s=3600
    )
    parts = door.gateway_app.state.gateway
    await wait_until(lambda: limited.client.client_id in parts.directory.policies)
    api_key = f"{limited.client.client_id}:{limited.secret}"
    answers = [
        await door.gateway.get("/open311/v2/requests.xml", params={"api_key": api_key})
        for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert 0 < int(answers[2].headers["retry-after"]) <= 1800
    assert errors(answers[2])[0][0] == "429"


async def test_the_open311_routes_are_in_the_gateways_openapi_document(
    gateway: httpx.AsyncClient,
) -> None:
    paths = (await gateway.get("/openapi.json")).json()["paths"]
    create = paths["/open311/v2/requests.{response_format}"]["post"]
    form = create["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"api_key", "service_code", "attribute[locality_code]"} <= set(form["properties"])
    assert create["security"] == []
    assert set(create["responses"]["201"]["content"]) == {"text/xml", "application/json"}
    for path in (
        "/open311/v2/services.{response_format}",
        "/open311/v2/services/{service_code}.{response_format}",
        "/open311/v2/requests/{service_request_id}.{response_format}",
    ):
        assert "get" in paths[path], path
    listed = paths["/open311/v2/requests.{response_format}"]["get"]
    assert {"api_key", "service_request_id", "status"} <= {p["name"] for p in listed["parameters"]}


async def test_the_key_of_a_revoked_client_is_refused(door: Door) -> None:
    url = "/open311/v2/requests.xml"
    assert (await door.gateway.get(url, params={"api_key": door.api_key})).status_code == 200
    client_id = door.api_key.split(":")[0]
    await change(door.gateway_database_url, clients.revoke_client, client_id)
    parts = door.gateway_app.state.gateway
    await wait_until(lambda: client_id in parts.directory.revoked)
    refused = await door.gateway.get(url, params={"api_key": door.api_key})
    assert refused.status_code == 403
    assert errors(refused) == [("403", "Invalid api_key: its client has been revoked.")]

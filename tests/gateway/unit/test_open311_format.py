"""The Open311 translation on its own: form to referral, statuses, and the XML and JSON formats."""

from urllib.parse import urlencode
from xml.etree import ElementTree

import orjson
import pytest

from services.gateway import open311_format as o311

CATEGORIES = o311.categories_from_tree(
    [
        {
            "code": "environmental",
            "label": "Environmental",
            "subcategories": [{"code": "fly_tipping", "label": "Fly-tipping"}],
        },
        {"code": "other", "label": "Other"},
    ]
)
LOCALITIES = {"NO": "North Ormesby", "NP": "Newport"}


def form(**fields: str) -> o311.Form:
    base = {
        "service_code": "fly_tipping",
        "lat": "54.568912",
        "long": "-1.221853",
        "attribute[locality_code]": "NO",
    }
    return o311.parse_form(urlencode({**base, **fields}).encode())


def draft(**fields: str) -> o311.ReferralDraft:
    return o311.referral_draft(form(**fields), CATEGORIES, LOCALITIES)


def test_a_fixmystreet_report_maps_to_an_open311_referral() -> None:
    made = draft(
        description="title: Sofa dumped\n\ndetail: In the alley\n\nurl: https://fms/report/9\n",
        first_name="Alex",
        last_name="Resident",
        email="alex@example.org",
        phone="01642 000000",
        media_url="https://fms/photo/9.jpeg",
        **{"attribute[fixmystreet_id]": "9", "attribute[uprn]": "100110660543"},
    )
    assert made.client_reference == "9"
    body = made.body
    assert body["channel"] == "open311"
    assert body["locality_code"] == "NO"
    assert body["category_codes"] == ["fly_tipping"]
    assert body["summary"] == "Sofa dumped"
    assert body["description"].endswith("media: https://fms/photo/9.jpeg")
    assert body["referrer"] == {"name": "Alex Resident", "contact": "alex@example.org"}
    assert body["external_ref"] == "9"
    assert body["subject"]["place"] == {
        "latitude": 54.568912,
        "longitude": -1.221853,
        "address": "54.568912, -1.221853",
        "uprn": "100110660543",
    }


def test_empty_fields_count_as_absent_and_the_service_names_an_empty_report() -> None:
    made = draft(description="", last_name="", email="", phone="0800 1")
    assert made.body["summary"] == "Fly-tipping"
    assert "description" not in made.body
    assert made.body["referrer"] == {"contact": "0800 1"}
    assert made.client_reference is None


def test_a_jurisdiction_id_naming_a_locality_stands_in_for_the_attribute() -> None:
    fields = {"service_code": "other", "address_string": "TS3 6LN", "jurisdiction_id": "NP"}
    made = o311.referral_draft(o311.parse_form(urlencode(fields).encode()), CATEGORIES, LOCALITIES)
    assert made.body["locality_code"] == "NP"
    assert made.body["subject"]["place"] == {"address": "TS3 6LN"}


@pytest.mark.parametrize(
    ("fields", "status", "says"),
    [
        ({"service_code": ""}, 400, "service_code was not provided"),
        ({"service_code": "potholes"}, 404, "service_code 'potholes' was not found"),
        ({"attribute[locality_code]": "XX"}, 400, "'XX' is not a locality"),
        ({"attribute[locality_code]": "", "jurisdiction_id": "x.gov.uk"}, 400, "not provided"),
        ({"lat": ""}, 400, "lat and long must be sent together"),
        ({"lat": "", "long": ""}, 400, "A location was not provided"),
        ({"lat": "91"}, 400, "lat '91' is not a WGS84 coordinate"),
        ({"long": "nan"}, 400, "long 'nan' is not a WGS84 coordinate"),
        ({"description": "x" * 4001}, 400, "longer than 4000"),
    ],
)
def test_what_open311_requires_is_refused_in_its_error_format(
    fields: dict[str, str], status: int, says: str
) -> None:
    with pytest.raises(o311.Open311Error) as refused:
        draft(**fields)
    assert refused.value.status == status
    assert says in refused.value.document()[0]["description"]
    assert refused.value.document()[0]["code"] == status


def test_attributes_keep_every_value_of_a_multivaluelist() -> None:
    parsed = o311.parse_form(b"attribute%5Bkinds%5D%5B%5D=a&attribute%5Bkinds%5D%5B%5D=b&x=1")
    assert parsed.attributes == {"kinds": ["a", "b"]}
    assert parsed.get("x") == "1"


def test_a_referrals_refusal_names_the_open311_fields() -> None:
    problem = {
        "detail": "Invalid",
        "errors": [
            {"field": "referrer.contact", "message": "too long"},
            {"field": "subject.place.uprn", "message": "bad"},
        ],
    }
    assert o311.errors_from_problem(problem) == [
        "email/phone: too long",
        "attribute[uprn]/address_id: bad",
    ]
    assert o311.errors_from_problem({"detail": "No referral."}) == ["No referral."]


SUMMARY = {
    "id": "r-1",
    "reference": "NO-2026-000001",
    "category_codes": ["fly_tipping", "other"],
    "status": "triaged",
    "track": "see_and_solve",
    "outcome_code": None,
    "lead_organisation": None,
    "received_at": "2026-06-01T09:00:00.123456Z",
    "triaged_at": "2026-06-01T10:30:00Z",
    "resolved_at": None,
    "closed_at": None,
    "clock": {"name": "see_and_solve", "due_at": "2026-06-03T17:00:00+01:00", "stopped_at": None},
}


def test_a_referral_status_is_open_or_closed_with_codes_and_w3c_times_only() -> None:
    status = o311.request_status(SUMMARY, CATEGORIES)
    assert status == {
        "service_request_id": "r-1",
        "status": "open",
        "status_notes": "triaged: see_and_solve",
        "service_name": "Fly-tipping",
        "service_code": "fly_tipping",
        "agency_responsible": None,
        "service_notice": "Reference NO-2026-000001",
        "requested_datetime": "2026-06-01T09:00:00Z",
        "updated_datetime": "2026-06-01T10:30:00Z",
        "expected_datetime": "2026-06-03T16:00:00Z",
    }
    closed = o311.request_status(
        {
            **SUMMARY,
            "status": "closed",
            "outcome_code": "resolved",
            "closed_at": "2026-06-02T08:00:00Z",
        },
        CATEGORIES,
    )
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "closed: resolved"
    assert closed["updated_datetime"] == "2026-06-02T08:00:00Z"
    assert "expected_datetime" not in closed


@pytest.mark.parametrize("status", ["received", "triaged", "in_progress"])
def test_every_live_status_is_open(status: str) -> None:
    assert o311.open_or_closed(status) == "open"


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_resolved_and_closed_are_closed(status: str) -> None:
    assert o311.open_or_closed(status) == "closed"


def test_xml_follows_the_specifications_containers_and_json_is_the_same_document() -> None:
    services = o311.service_list(CATEGORIES)
    xml = o311.render("xml", "services", services)
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<services><service>')
    root = ElementTree.fromstring(xml)
    first = root.find("service")
    assert first is not None
    assert first.findtext("service_code") == "environmental"
    assert first.findtext("metadata") == "true"
    assert [s.findtext("group") for s in root] == ["Environmental", "Environmental", "Other"]
    assert orjson.loads(o311.render("json", "services", services)) == services

    definition = ElementTree.fromstring(
        o311.render("xml", "service_definition", o311.service_definition("other", LOCALITIES))
    )
    keys = [value.findtext("key") for value in definition.iter("value")]
    assert keys == ["NO", "NP"]
    assert definition.find("attributes/attribute/datatype_description") is not None


def test_errors_render_as_a_list_of_code_and_description() -> None:
    error = o311.Open311Error(403, "Invalid api_key received.")
    xml = o311.render("xml", "errors", error.document())
    assert xml.endswith(
        b"<errors><error><code>403</code>"
        b"<description>Invalid api_key received.</description></error></errors>"
    )
    assert orjson.loads(o311.render("json", "errors", error.document())) == [
        {"code": 403, "description": "Invalid api_key received."}
    ]


def test_text_is_escaped_in_xml() -> None:
    xml = o311.render("xml", "errors", [{"code": 400, "description": "a < b & <c>"}])
    assert ElementTree.fromstring(xml).findtext("error/description") == "a < b & <c>"


def test_dates_need_a_time_zone() -> None:
    assert o311.parse_w3("start_date", "2026-06-01T00:00:00+01:00").hour == 23
    with pytest.raises(o311.Open311Error):
        o311.parse_w3("start_date", "2026-06-01T00:00:00")
    with pytest.raises(o311.Open311Error):
        o311.parse_w3("end_date", "yesterday")

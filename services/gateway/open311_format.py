"""Open311 GeoReport v2 without I/O: the form a resident's app sends (FixMyStreet's shapes)
turned into a referral, and categories, referral statuses and errors rendered as the
specification's XML and JSON (https://wiki.open311.org/GeoReport_v2).

Status answers carry codes and times only: no description, address, coordinates or contact,
whatever the specification allows, because a referral's personal fields are read (and audited)
only through `/api/v1/referrals/{id}`.
"""

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import orjson

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The attribute whose value is the sender's own id for a report. FixMyStreet sends it (as
# `attribute[fixmystreet_id]`, its default id field) when a service definition declares it,
# and sends the same value again when it retries: that makes the retry idempotent.
CLIENT_ID_ATTRIBUTE = "fixmystreet_id"
LOCALITY_ATTRIBUTE = "locality_code"
DESCRIPTION_LIMIT = 4000  # the specification's limit on `description`
SUMMARY_LIMIT = 200  # a referral's summary
OPEN_STATUSES = frozenset({"received", "triaged", "in_progress"})
CLOSED_STATUSES = frozenset({"resolved", "closed"})
# Containers of the XML format and the element each of their items gets.
XML_ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
}
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


class Open311Error(Exception):
    """An answer in the specification's error format: a list of `{code, description}`.

    404 for what does not exist, 403 for a missing or wrong api_key, 400 for anything else
    the request cannot be served for (the specification's rule); 429 and 5xx where HTTP has a
    better word for it."""

    def __init__(
        self, status: int, *descriptions: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions)
        self.headers = dict(headers or {})

    def document(self) -> list[dict[str, Any]]:
        return [{"code": self.status, "description": text} for text in self.descriptions]


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    group: str


@dataclass(frozen=True)
class Form:
    """A POST Service Request form: plain fields (empty ones dropped, as the specification
    says an empty optional argument equals an absent one) and `attribute[code]` values."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def attribute(self, code: str) -> str | None:
        values = self.attributes.get(code)
        return values[0] if values else None


@dataclass(frozen=True)
class ReferralDraft:
    """The body for `POST /api/v1/referrals`, and the sender's own id for the report if any."""

    body: dict[str, Any]
    client_reference: str | None


def categories_from_tree(tree: Iterable[Mapping[str, Any]]) -> dict[str, Category]:
    """The referral taxonomy (`GET /api/v1/referral-categories`) as Open311 services."""
    categories: dict[str, Category] = {}
    for top in tree:
        categories[top["code"]] = Category(top["code"], top["label"], top["label"])
        for sub in top.get("subcategories", []):
            categories[sub["code"]] = Category(sub["code"], sub["label"], top["label"])
    return categories


def parse_form(body: bytes) -> Form:
    """Read an `application/x-www-form-urlencoded` body (UTF-8, as the specification says)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=False)
    except (UnicodeDecodeError, ValueError) as error:
        raise Open311Error(400, "The form body is not UTF-8 form-urlencoded.") from error
    fields: dict[str, list[str]] = {}
    attributes: dict[str, list[str]] = {}
    for name, value in pairs:
        match = _ATTRIBUTE.match(name)
        if match:
            attributes.setdefault(match.group(1), []).append(value)
        else:
            fields.setdefault(name, []).append(value)
    return Form(fields, attributes)


def service_list(categories: Mapping[str, Category]) -> list[dict[str, Any]]:
    """GET Service List: one service per referral category."""
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.name,
            "metadata": True,
            "type": "realtime",
            "keywords": category.code.replace("_", " "),
            "group": category.group,
        }
        for category in categories.values()
    ]


def service_definition(code: str, localities: Mapping[str, str]) -> dict[str, Any]:
    """GET Service Definition: where the report is (the locality), and the sender's own id."""
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": LOCALITY_ATTRIBUTE,
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": None,
                "order": 1,
                "description": "Which neighbourhood is this in?",
                "values": [{"key": key, "name": name} for key, name in localities.items()],
            },
            {
                "variable": False,
                "code": CLIENT_ID_ATTRIBUTE,
                "datatype": "string",
                "required": False,
                "datatype_description": None,
                "order": 2,
                "description": "Your own id for this report: sent again, it creates nothing new.",
            },
        ],
    }


def referral_draft(
    form: Form, categories: Mapping[str, Category], localities: Iterable[str]
) -> ReferralDraft:
    """Map a POST Service Request to a referral; Open311Error for what Open311 itself requires.

    The referrals service validates the rest (lengths, control characters, the UPRN) as for
    any partner, and its answer is translated by `errors_from_problem`."""
    code = form.get("service_code")
    if code is None:
        raise Open311Error(400, "service_code was not provided.")
    if code not in categories:
        raise Open311Error(404, f"service_code '{code}' was not found (see services.xml).")
    locality = _locality(form, set(localities))
    description = form.get("description")
    if description is not None and len(description) > DESCRIPTION_LIMIT:
        raise Open311Error(400, f"description is longer than {DESCRIPTION_LIMIT} characters.")
    reference = form.attribute(CLIENT_ID_ATTRIBUTE)
    body: dict[str, Any] = {
        "locality_code": locality,
        "channel": "open311",
        "category_codes": [code],
        "summary": _summary(description, categories[code].name),
        "subject": {"place": _place(form)},
    }
    if description or form.fields.get("media_url"):
        media = [f"media: {url}" for url in form.fields.get("media_url", [])]
        body["description"] = "\n\n".join([*([description] if description else []), *media])
    referrer = _referrer(form)
    if referrer:
        body["referrer"] = referrer
    if reference:
        body["external_ref"] = reference
    return ReferralDraft(body, reference)


def _locality(form: Form, localities: set[str]) -> str:
    chosen = form.attribute(LOCALITY_ATTRIBUTE)
    if chosen is not None:
        if chosen not in localities:
            raise Open311Error(
                400,
                f"attribute[{LOCALITY_ATTRIBUTE}] '{chosen}' is not a locality; "
                f"one of: {', '.join(sorted(localities))}.",
            )
        return chosen
    jurisdiction = form.get("jurisdiction_id")
    if jurisdiction in localities:
        return jurisdiction
    raise Open311Error(
        400,
        f"attribute[{LOCALITY_ATTRIBUTE}] was not provided (nor a jurisdiction_id naming a "
        f"locality); one of: {', '.join(sorted(localities))}.",
    )


def _place(form: Form) -> dict[str, Any]:
    lat, long = form.get("lat"), form.get("long")
    address = form.get("address_string") or form.attribute("closest_address")
    address_id = form.get("address_id")
    if (lat is None) != (long is None):
        raise Open311Error(400, "lat and long must be sent together.")
    if lat is None and not address and not address_id:
        raise Open311Error(
            400, "A location was not provided: send lat and long, address_string or address_id."
        )
    place: dict[str, Any] = {}
    if lat is not None and long is not None:
        place["latitude"] = _coordinate("lat", lat, 90)
        place["longitude"] = _coordinate("long", long, 180)
    place["address"] = address or (f"{lat}, {long}" if lat is not None else f"id {address_id}")
    uprn = form.attribute("uprn") or address_id
    if uprn:
        place["uprn"] = uprn
    return place


def _coordinate(name: str, text: str, bound: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        raise Open311Error(400, f"{name} '{text}' is not a WGS84 coordinate.")
    return value


def _summary(description: str | None, service_name: str) -> str:
    """The first line of the description (FixMyStreet's starts `title: ...`), else the service."""
    for line in (description or "").splitlines():
        text = line.strip()
        if text.lower().startswith("title:"):
            text = text[len("title:") :].strip()
        if text:
            return text[:SUMMARY_LIMIT]
    return service_name[:SUMMARY_LIMIT]


def _referrer(form: Form) -> dict[str, str]:
    name = " ".join(part for part in (form.get("first_name"), form.get("last_name")) if part)
    contact = form.get("email") or form.get("phone")
    referrer = {}
    if name:
        referrer["name"] = name
    if contact:
        referrer["contact"] = contact
    return referrer


# Where a field the referrals service names came from in the Open311 form.
OPEN311_FIELD = {
    "locality_code": f"attribute[{LOCALITY_ATTRIBUTE}]",
    "category_codes": "service_code",
    "summary": "description",
    "description": "description",
    "referrer.name": "first_name/last_name",
    "referrer.contact": "email/phone",
    "subject.place.address": "address_string",
    "subject.place.uprn": "attribute[uprn]/address_id",
    "subject.place.latitude": "lat",
    "subject.place.longitude": "long",
    "external_ref": f"attribute[{CLIENT_ID_ATTRIBUTE}]",
    "Idempotency-Key": f"attribute[{CLIENT_ID_ATTRIBUTE}]",
}


def errors_from_problem(problem: Mapping[str, Any]) -> list[str]:
    """A problem+json refusal of the referrals service, as Open311 error descriptions that name
    the form's fields."""
    described = []
    for item in problem.get("errors") or []:
        name = str(item.get("field", ""))
        described.append(f"{OPEN311_FIELD.get(name, name)}: {item.get('message', 'invalid')}")
    return described or [str(problem.get("detail") or problem.get("title") or "refused")]


def request_status(
    summary: Mapping[str, Any], categories: Mapping[str, Category]
) -> dict[str, Any]:
    """One referral (its summary, no personal fields) as a GeoReport request."""
    status = summary["status"]
    code = str(summary["category_codes"][0]) if summary.get("category_codes") else ""
    clock = summary.get("clock") or {}
    stamps = [summary.get(name) for name in ("received_at", "triaged_at", "resolved_at")]
    stamps.append(summary.get("closed_at"))
    # W3C strings in UTC to the second sort as times do.
    updated = max(_w3(stamp) for stamp in stamps if stamp)
    answer: dict[str, Any] = {
        "service_request_id": summary["id"],
        "status": open_or_closed(status),
        "status_notes": _status_notes(summary),
        "service_name": categories[code].name if code in categories else code,
        "service_code": code,
        "agency_responsible": summary.get("lead_organisation"),
        "service_notice": f"Reference {summary['reference']}",
        "requested_datetime": _w3(summary["received_at"]),
        "updated_datetime": updated,
    }
    if clock.get("due_at") and not clock.get("stopped_at") and status in OPEN_STATUSES:
        answer["expected_datetime"] = _w3(clock["due_at"])
    return answer


def open_or_closed(status: str) -> str:
    """GeoReport's two statuses: closed once the referral is resolved or closed."""
    return "closed" if status in CLOSED_STATUSES else "open"


def _status_notes(summary: Mapping[str, Any]) -> str:
    """Codes only: the referral's status, then its track or outcome."""
    detail = summary.get("outcome_code") or summary.get("track")
    return f"{summary['status']}: {detail}" if detail else str(summary["status"])


def _w3(stamp: str) -> str:
    """The W3C profile of ISO 8601 the specification asks for, in UTC, to the second."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_w3(name: str, text: str) -> datetime:
    """A date-time argument (`start_date`, `end_date`); a time zone is required."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise Open311Error(400, f"{name} '{text}' is not a W3C date-time.") from error
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} '{text}' has no time zone (Z or +HH:MM).")
    return moment.astimezone(UTC)


def render(response_format: str, root: str, document: Any) -> bytes:
    """The document in JSON (as is) or XML (`root` element, lists itemised per XML_ITEMS)."""
    if response_format == "json":
        return orjson.dumps(document)
    element = _element(root, document)
    body: bytes = ElementTree.tostring(element, encoding="unicode").encode("utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _element(tag: str, value: Any) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, list):
        for child in value:
            element.append(_element(XML_ITEMS[tag], child))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element

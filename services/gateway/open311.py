"""Open311 GeoReport v2 at `/open311/v2/`: the front door for residents' apps (FixMyStreet).

The `api_key` is a partner client's `client_id:secret` (`clients create`). The gateway checks
it, applies that client's rate limit (the same bucket as its `/api` calls), and calls the
referrals service with a token for the client's organisation, so intake validates, replays a
retry (the sender's report id becomes the Idempotency-Key) and audits exactly as for any
partner call. Translation (fields, statuses, XML) lives in `open311_format.py`.
"""

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.gateway import open311_format as o311
from services.gateway.models import Client
from services.gateway.open311_door import Open311Door

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
MAX_REQUEST_IDS = 50  # service_request_id values in one GET Service Requests
MAX_LISTED = 1000  # the specification's default ceiling on one answer
LIST_SPAN = timedelta(days=90)  # the specification's default (and widest) date range
_REFERRAL_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
COMMON_ARGS = {"jurisdiction_id", "api_key"}
LIST_ARGS = {"service_request_id", "service_code", "start_date", "end_date", "status"}


def open311_router(door: Open311Door) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["open311"])

    @router.get("/services.{response_format}", openapi_extra=_doc(["jurisdiction_id"]))
    async def service_list(request: Request, response_format: str) -> Response:
        """GET Service List: the referral categories as Open311 services (no api_key needed)."""

        async def answer() -> Response:
            _allow(request, set())
            services = o311.service_list(await door.categories())
            return _answer(response_format, "services", services)

        return await _open311(response_format, answer)

    @router.get(
        "/services/{service_code}.{response_format}", openapi_extra=_doc(["jurisdiction_id"])
    )
    async def service_definition(
        request: Request, service_code: str, response_format: str
    ) -> Response:
        """GET Service Definition: the locality to choose, and the sender's own report id."""

        async def answer() -> Response:
            _allow(request, set())
            if service_code not in await door.categories():
                raise o311.Open311Error(404, f"service_code '{service_code}' was not found.")
            definition = o311.service_definition(service_code, door.localities)
            return _answer(response_format, "service_definition", definition)

        return await _open311(response_format, answer)

    @router.post("/requests.{response_format}", openapi_extra=POST_REQUEST_DOC)
    async def create_request(request: Request, response_format: str) -> Response:
        """POST Service Request: a referral through intake, channel `open311` (api_key needed)."""

        async def answer() -> Response:
            _allow(request, {"api_key"})
            form = o311.parse_form(await _form_body(request, door.max_body_bytes))
            api_key = form.get("api_key") or request.query_params.get("api_key")
            client = await door.client_for(api_key, _address(request), "referrals:write")
            limits = await door.take_rate_token(client)
            draft = o311.referral_draft(form, await door.categories(), door.localities)
            key = f"open311:{client.client_id}:{draft.client_reference}"
            status, body, headers = await door.call(
                "POST",
                "/api/v1/referrals",
                door.token_for(client),
                body=draft.body,
                idempotency_key=key if draft.client_reference else None,
            )
            if status != 201:
                raise _refusal(status, body, limits)
            created = [
                {
                    "service_request_id": body["id"],
                    "service_notice": f"Reference {body['reference']}",
                    "account_id": None,
                }
            ]
            if headers.get("idempotent-replayed"):
                limits["Idempotent-Replayed"] = "true"
            return _answer(response_format, "service_requests", created, 201, limits)

        return await _open311(response_format, answer)

    @router.get(
        "/requests.{response_format}",
        openapi_extra=_doc(
            ["api_key", "service_request_id", "service_code", "start_date", "end_date", "status"]
        ),
    )
    async def list_requests(request: Request, response_format: str) -> Response:
        """GET Service Requests: statuses only (no description, place or person; api_key needed)."""

        async def answer() -> Response:
            query = request.query_params
            _allow(request, LIST_ARGS)
            client = await door.client_for(
                query.get("api_key"), _address(request), "referrals:read"
            )
            limits = await door.take_rate_token(client)
            summaries = await _listed(door, client, request)
            categories = await door.categories()
            found = [o311.request_status(summary, categories) for summary in summaries]
            return _answer(response_format, "service_requests", found, 200, limits)

        return await _open311(response_format, answer)

    @router.get("/requests/{service_request_id}.{response_format}", openapi_extra=_doc(["api_key"]))
    async def get_request(
        request: Request, service_request_id: str, response_format: str
    ) -> Response:
        """GET Service Request: one referral's status only (api_key needed)."""

        async def answer() -> Response:
            _allow(request, set())
            client = await door.client_for(
                request.query_params.get("api_key"), _address(request), "referrals:read"
            )
            limits = await door.take_rate_token(client)
            summary = await _status(door, client, service_request_id)
            if summary is None:
                raise o311.Open311Error(
                    404, f"service_request_id '{service_request_id}' was not found."
                )
            found = [o311.request_status(summary, await door.categories())]
            return _answer(response_format, "service_requests", found, 200, limits)

        return await _open311(response_format, answer)

    return router


async def _listed(door: Open311Door, client: Client, request: Request) -> list[dict[str, Any]]:
    query = request.query_params
    ids = list(dict.fromkeys(_comma_list(query.get("service_request_id"))))
    if ids:  # "This overrides all other arguments."
        if len(ids) > MAX_REQUEST_IDS:
            raise o311.Open311Error(400, f"At most {MAX_REQUEST_IDS} service_request_id values.")
        found = await asyncio.gather(*(_status(door, client, one) for one in ids))
        return [summary for summary in found if summary is not None]
    statuses = set(_comma_list(query.get("status")))
    if statuses - {"open", "closed"}:
        raise o311.Open311Error(400, "status must be open, closed or both (comma delimited).")
    end = o311.parse_w3("end_date", query["end_date"]) if query.get("end_date") else None
    start = o311.parse_w3("start_date", query["start_date"]) if query.get("start_date") else None
    end = end or (start + LIST_SPAN if start else datetime.now(UTC))
    start = start or end - LIST_SPAN
    if end < start or end - start > LIST_SPAN:
        raise o311.Open311Error(400, "start_date to end_date must be a range of at most 90 days.")
    codes: list[str | None] = list(_comma_list(query.get("service_code"))) or [None]
    found_by_id: dict[str, dict[str, Any]] = {}
    for code in codes:
        async for summary in _pages(door, client, start, end, code):
            if not statuses or o311.open_or_closed(summary["status"]) in statuses:
                found_by_id.setdefault(summary["id"], summary)
            if len(found_by_id) >= MAX_LISTED:
                return list(found_by_id.values())
    return list(found_by_id.values())


async def _pages(
    door: Open311Door, client: Client, start: datetime, end: datetime, code: str | None
) -> AsyncIterator[dict[str, Any]]:
    params = {
        "received_from": start.isoformat(),
        "received_to": end.isoformat(),
        "limit": "200",
    }
    if code:
        params["category_code"] = code
    listed = 0
    while listed < MAX_LISTED:
        status, body, _ = await door.call(
            "GET", "/api/v1/referrals", door.token_for(client), params=params
        )
        if status != 200:
            raise _refusal(status, body, {})
        for summary in body["items"]:
            listed += 1
            yield summary
        if not body.get("next_cursor"):
            return
        params["cursor"] = body["next_cursor"]


async def _status(door: Open311Door, client: Client, referral_id: str) -> dict[str, Any] | None:
    """The referral's summary, or None when it is not there for this client (404 alike)."""
    if not _REFERRAL_ID.match(referral_id):
        return None
    status, body, _ = await door.call(
        "GET", f"/api/v1/referrals/{referral_id}/status", door.token_for(client)
    )
    if status == 404:
        return None
    if status != 200:
        raise _refusal(status, body, {})
    summary: dict[str, Any] = body
    return summary


def _refusal(status: int, problem: Any, headers: dict[str, str]) -> o311.Open311Error:
    """The referrals service's refusal in Open311's terms (and HTTP statuses)."""
    descriptions = o311.errors_from_problem(problem if isinstance(problem, dict) else {})
    if status in (400, 409, 412, 422):
        return o311.Open311Error(400, *descriptions, headers=headers)
    if status == 404:
        return o311.Open311Error(404, *descriptions, headers=headers)
    if status in (401, 403):
        return o311.Open311Error(403, *descriptions, headers=headers)
    return o311.Open311Error(502, "The referral service failed; try again later.", headers=headers)


async def _open311(response_format: str, answer: Callable[[], Awaitable[Response]]) -> Response:
    """Run a route; any Open311Error becomes the specification's error list."""
    try:
        if response_format not in o311.CONTENT_TYPES:
            raise o311.Open311Error(400, f"Unknown format '{response_format}': use xml or json.")
        return await answer()
    except o311.Open311Error as error:
        if error.status >= 500:
            log.warning("open311: answered %s: %s", error.status, error)
        chosen = response_format if response_format in o311.CONTENT_TYPES else "xml"
        return _answer(chosen, "errors", error.document(), error.status, error.headers)


def _answer(
    response_format: str,
    root: str,
    document: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        o311.render(response_format, root, document),
        status_code=status,
        media_type=o311.CONTENT_TYPES[response_format],
        headers=headers,
    )


def _allow(request: Request, arguments: set[str]) -> None:
    """An argument the method does not define is refused, as on /api, not silently ignored."""
    unknown = sorted(set(request.query_params) - arguments - COMMON_ARGS)
    if unknown:
        raise o311.Open311Error(400, f"Unknown argument: {', '.join(unknown)}.")


def _comma_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _form_body(request: Request, limit: int) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise o311.Open311Error(400, "Send the request as application/x-www-form-urlencoded.")
    body = await request.body()
    if len(body) > limit:
        raise o311.Open311Error(400, f"The form is larger than {limit} bytes.")
    return body


def _doc(arguments: list[str]) -> dict[str, Any]:
    """OpenAPI for a GET: its query arguments, the two formats and the error list."""
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in arguments
        ],
        "responses": RESPONSES,
        "security": [],
    }


RESPONSES: dict[str, Any] = {
    "200": {
        "description": "The document in the format the path names (`.xml` or `.json`).",
        "content": {"text/xml": {}, "application/json": {}},
    },
    "400": {"description": "Open311 errors: `[{code, description}]` (XML: `<errors>`)."},
    "403": {"description": "api_key missing or invalid, or its client lacks the scope."},
    "404": {"description": "No such service_code or service_request_id."},
    "429": {"description": "The client's rate limit (`Retry-After`)."},
}
POST_REQUEST_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code"],
                    "properties": {
                        name: {"type": "string"}
                        for name in (
                            "api_key",
                            "jurisdiction_id",
                            "service_code",
                            "lat",
                            "long",
                            "address_string",
                            "address_id",
                            "email",
                            "first_name",
                            "last_name",
                            "phone",
                            "description",
                            "media_url",
                            f"attribute[{o311.LOCALITY_ATTRIBUTE}]",
                            f"attribute[{o311.CLIENT_ID_ATTRIBUTE}]",
                        )
                    },
                }
            }
        },
    },
    "responses": {
        **RESPONSES,
        "201": {
            "description": "`service_requests` with the new `service_request_id`.",
            "content": {"text/xml": {}, "application/json": {}},
        },
    },
    "security": [],
}

"""Errors in the contract: one RFC 9457 `Problem` schema, and on every operation the error
statuses it can really give, derived from what the operation declares.

Nothing here is a table of routes. An operation's OpenAPI entry already says what the route
declares: its scope (`security`, from `require_scope`), its path parameters, its headers (from
dependencies such as `shared.etag.ExpectedVersion`), its query parameters and body. Each of those
brings the answers the shared code gives for it:

| the operation declares          | it can answer                                              |
|---------------------------------|------------------------------------------------------------|
| anything (app-wide dependency)  | 400 unknown query parameter (`shared/query_params.py`)     |
| a scope                         | 401 missing or bad token, 403 scope missing                |
| a path parameter                | 404 no such thing (or not visible to the caller)           |
| `If-Match`                      | 409 not allowed now, 412 stale ETag, 428 If-Match missing  |
| `Idempotency-Key`               | 409 the first request with this key is still running      |
| parameters or a body            | 422 invalid values (400 for a body that is not JSON)       |

A route that can give more (409 for a duplicate, 413, 415) says so in its own `responses`;
every error status an operation lists, derived or declared, is given the Problem shape as
`application/problem+json`, and FastAPI's default `HTTPValidationError` 422 is replaced.
"""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from shared.problems import PROBLEM_JSON

SCHEMA_REF = "#/components/schemas/"
PROBLEM = "Problem"
FIELD_ERROR = "ProblemFieldError"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    PROBLEM: {
        "title": PROBLEM,
        "type": "object",
        "description": "An error, as RFC 9457 problem details. Other members may be present "
        "(`etag` on a 412, `required_scope` on a 403, `status_now` on a 409).",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "description": "A URI naming the kind of problem."},
            "title": {"type": "string", "description": "A short summary of the kind."},
            "status": {"type": "integer", "description": "The HTTP status code."},
            "detail": {"type": "string", "description": "What went wrong this time."},
            "instance": {"type": "string", "description": "The path that was asked for."},
            "request_id": {"type": "string", "description": "Search the logs for it."},
            "errors": {
                "type": "array",
                "description": "Each field to fix (validation problems).",
                "items": {"$ref": SCHEMA_REF + FIELD_ERROR},
            },
        },
        "additionalProperties": True,
    },
    FIELD_ERROR: {
        "title": FIELD_ERROR,
        "type": "object",
        "required": ["field"],
        "properties": {
            "field": {"type": "string", "description": "e.g. `date_of_birth`, `query.limit`"},
            "message": {"type": "string"},
            "type": {"type": "string", "description": "A machine-readable error code."},
            "in": {"type": "string", "description": "body, query, path or header"},
        },
        "additionalProperties": True,
    },
}

DESCRIPTIONS = {
    400: "Malformed request: an unknown query parameter, or a body that is not JSON",
    401: "No access token, or one that is expired or invalid",
    403: "The token lacks the operation's scope, or the organisation may not do this",
    404: "No such resource, or not visible to your organisation",
    409: "The resource's state does not allow this now",
    412: "If-Match does not name the current ETag",
    413: "The request body is too large",
    415: "The body's content type is not accepted",
    422: "Invalid or missing fields, named in `errors`",
    428: "If-Match is missing",
    429: "Rate limit reached; retry after `Retry-After` seconds",
    500: "The service failed; the request id identifies the log entry",
    502: "The service behind the gateway is unreachable",
    503: "The service behind the gateway is failing; requests are paused",
    504: "The service behind the gateway did not answer in time",
}


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """An OpenAPI response object: the Problem schema as application/problem+json."""
    return {
        "description": description or DESCRIPTIONS.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": SCHEMA_REF + PROBLEM}}},
    }


def derived_statuses(operation: dict[str, Any]) -> set[int]:
    """The error statuses the shared code can give for what this operation declares."""
    parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]
    located = {(p.get("in"), str(p.get("name", "")).lower()) for p in parameters}
    statuses = {400}
    if any(requirement for requirement in operation.get("security", [])):
        statuses |= {401, 403}
    if any(place == "path" for place, _ in located):
        statuses.add(404)
    if ("header", "if-match") in located:
        statuses |= {409, 412, 428}
    if ("header", "idempotency-key") in located:
        statuses.add(409)
    if parameters or "requestBody" in operation:
        statuses.add(422)
    return statuses


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Give every operation its error answers in the Problem shape (the document, changed)."""
    for operation in operations(document):
        document_operation_errors(operation, derived_statuses(operation))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(PROBLEM_SCHEMAS)
    # FastAPI's default validation shapes: no response refers to them any more.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def document_operation_errors(operation: dict[str, Any], statuses: set[int]) -> None:
    """Add `statuses` to the operation's responses; every error it lists becomes a Problem
    (a description the route declared is kept, FastAPI's generic one is not)."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in statuses:
        responses.setdefault(str(status), {})
    for code, response in list(responses.items()):
        if code.isdigit() and int(code) >= 400 and not _has_own_shape(response):
            declared = response.get("description")
            keep = declared if declared and declared != "Validation Error" else None
            responses[code] = problem_response(int(code), keep)


def _has_own_shape(response: dict[str, Any]) -> bool:
    # An answer outside this API's conventions keeps its declared body (the OAuth token
    # endpoint's RFC 6749 errors); FastAPI's default 422 is not one of those.
    content = response.get("content", {})
    if PROBLEM_JSON in content or not content:
        return False
    schema = content.get("application/json", {}).get("schema", {})
    return schema.get("$ref") != SCHEMA_REF + "HTTPValidationError"


def operations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in document.get("paths", {}).values():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield operation


def install_error_contract(app: FastAPI) -> None:
    """Serve the app's OpenAPI document with its errors documented (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

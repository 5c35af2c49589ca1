"""RFC 9457 problem details: typed errors raised by services, rendered by one set of handlers."""

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from shared import tracing

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://locality-hub.example/problems/"


class Problem(Exception):
    """An error the caller can act on; subclasses fix the status and the type."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(
        self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        # A problem about one named field (`field=...`) also lists it in `errors[]`, where
        # clients look for the fields to fix.
        field = extra.get("field")
        if errors is None and isinstance(field, str):
            errors = [{"field": field, "message": detail}]
        self.errors = errors
        self.extra = extra


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(Problem):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PreconditionRequired(Problem):
    status, title, slug = 428, "Precondition required", "precondition-required"


class Unprocessable(Problem):
    status, title, slug = 422, "Unprocessable content", "validation-error"


class Unauthorized(Problem):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    request_id = tracing.current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error leaves the service as application/problem+json."""
    app.add_exception_handler(Problem, _handle_problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _handle_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _handle_http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _handle_unexpected)


async def _handle_problem(request: Request, error: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="locality-hub"'} if error.status == 401 else None
    return problem_response(
        error.status,
        error.title,
        error.detail,
        slug=error.slug,
        instance=request.url.path,
        headers=headers,
        errors=error.errors,
        **error.extra,
    )


async def _handle_validation(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [_describe(item) for item in error.errors()]
    if any(item["type"] == "json_invalid" for item in errors):
        return problem_response(
            400,
            "Malformed JSON",
            "The request body is not valid JSON.",
            slug="malformed-json",
            instance=request.url.path,
            errors=errors,
        )
    fields = ", ".join(dict.fromkeys(item["field"] for item in errors))
    return problem_response(
        422,
        "Validation failed",
        f"Invalid or missing fields: {fields}.",
        slug="validation-error",
        instance=request.url.path,
        errors=errors,
    )


def _describe(item: Any) -> dict[str, Any]:
    location = [str(part) for part in item.get("loc", ())]
    if item.get("type") == "json_invalid":
        location = []  # pydantic puts the byte offset here, which names no field
    elif location and location[0] == "body":
        location = location[1:]
    return {
        "field": ".".join(location) or "body",
        "in": str(item.get("loc", ("body",))[0]),
        "message": item.get("msg", "invalid"),
        "type": item.get("type", "invalid"),
    }


async def _handle_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
    titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}
    headers = getattr(error, "headers", None)
    if error.status_code == 405:
        # Starlette names only the methods of the first route matching the path; a path served
        # by several routes (GET and POST on /referrals) allows all of theirs (RFC 9110 15.5.6).
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return problem_response(
        error.status_code,
        titles.get(error.status_code, "HTTP error"),
        str(error.detail),
        slug=f"http-{error.status_code}",
        instance=request.url.path,
        headers=headers,
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method the app serves at the request's path. Of the templates matching it, the
    most literal ones name the resource (`/observations/import`, not `/observations/{id}`)."""
    matching: dict[int, set[str]] = {}
    for route in iter_route_contexts(request.app.routes):
        if route.path and route.methods:
            pattern, _, _ = compile_path(route.path)
            if pattern.match(request.url.path):
                literal = sum(not part.startswith("{") for part in route.path.split("/"))
                matching.setdefault(literal, set()).update(route.methods)
    return sorted(matching[max(matching)]) if matching else []


INTERNAL_ERROR_DETAIL = "The service failed; the request id identifies the log entry."


def internal_error_body(instance: str) -> bytes:
    """The 500 problem body, with the current request id (shared/middleware.py sends it)."""
    body = {
        "type": PROBLEM_TYPE_BASE + "internal-error",
        "title": "Internal server error",
        "status": 500,
        "detail": INTERNAL_ERROR_DETAIL,
        "instance": instance,
        "request_id": tracing.current_request_id(),
    }
    return orjson.dumps({key: value for key, value in body.items() if value is not None})


async def _handle_unexpected(request: Request, error: Exception) -> JSONResponse:
    # Reached only by errors outside RequestContextMiddleware, which answers the others.
    return problem_response(
        500,
        "Internal server error",
        INTERNAL_ERROR_DETAIL,
        slug="internal-error",
        instance=request.url.path,
    )

"""ASGI middleware that gives every request an id and a W3C trace context, logs it and counts it.

It is the outermost layer of the application's own stack, so it also answers a request that
failed unexpectedly: Starlette's last-resort handler runs outside it, where the request id is
gone and `X-Request-ID` would be missing. Here the 500 keeps the id in header, body and log.
"""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics, tracing
from shared.problems import PROBLEM_JSON, internal_error_body

# Probes and scrapes arrive every few seconds: logged at DEBUG so they do not drown the rest.
QUIET_PATHS = frozenset({"/livez", "/readyz", "/metrics"})
# Set by whoever routed the request when FastAPI's router did not (the gateway's proxy).
ROUTE_TEMPLATE_KEY = "route_template"
# Set by the gateway when the answer came from a service, which logs the same request (same
# request id, caller and route) itself: the gateway's line is then DEBUG unless it is a 5xx.
ANSWERED_UPSTREAM_KEY = "answered_upstream"

access_log = logging.getLogger("access")
error_log = logging.getLogger("errors")


class RequestContextMiddleware:
    """Accept or create `X-Request-ID` and `traceparent`, bind them, echo the request id back,
    then write one access line and count the request by its route template."""

    def __init__(self, app: ASGIApp, service: str = "service") -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        request_id = tracing.accept_request_id(_header(headers, b"x-request-id"))
        traceparent = tracing.child_traceparent(_header(headers, b"traceparent"))
        tokens = tracing.bind(request_id, traceparent)
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            error_log.exception("unhandled error answering %s %s", scope["method"], scope["path"])
            if not response_started:
                await _send_internal_error(send_with_request_id, scope["path"])
        finally:
            self._record(scope, status, time.perf_counter() - started)
            tracing.unbind(tokens)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope)
        metrics.http_answered(self.service, scope["method"], route, status, seconds)
        quiet = scope["path"] in QUIET_PATHS or (scope.get(ANSWERED_UPSTREAM_KEY) and status < 500)
        level = logging.DEBUG if quiet else logging.INFO
        if access_log.isEnabledFor(level):
            access_log.log(
                level,
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "service": self.service,
                    "http_method": scope["method"],
                    "http_route": route,
                    "http_status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )


def _route_template(scope: Scope) -> str:
    """The matched route's template (`/api/v1/referrals/{referral_id}`), never the raw path,
    so ids do not become label values."""
    given = scope.get(ROUTE_TEMPLATE_KEY)
    if given:
        return str(given)
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


async def _send_internal_error(send: Send, path: str) -> None:
    body = internal_error_body(path)
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None

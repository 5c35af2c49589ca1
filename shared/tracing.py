"""Request id and W3C trace context for the current request, readable anywhere (events too)."""

import re
import secrets
import uuid
from contextvars import ContextVar

from opentelemetry import trace as otel_trace

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)
# Who is calling, once authentication knows (organisation, client id): a dict per request so
# that code deeper in the request can fill it in for the log lines written further out.
_caller: ContextVar[dict[str, str] | None] = ContextVar("caller", default=None)

# Set by shared.telemetry while OpenTelemetry records spans: then the active span, not the
# bound traceparent, is the current position in the trace.
spans_recorded = False

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
TRACEPARENT_PATTERN = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def current_request_id() -> str | None:
    return _request_id.get()


def current_traceparent() -> str | None:
    """The active OpenTelemetry span's traceparent when tracing is on, else the bound one."""
    if spans_recorded:
        span = otel_trace.get_current_span().get_span_context()
        if span.is_valid:
            return f"00-{span.trace_id:032x}-{span.span_id:016x}-{span.trace_flags:02x}"
    return _traceparent.get()


def accept_request_id(candidate: str | None) -> str:
    """Keep a caller's request id when it is sane, otherwise make one."""
    if candidate and REQUEST_ID_PATTERN.match(candidate):
        return candidate
    return str(uuid.uuid4())


def child_traceparent(candidate: str | None) -> str:
    """Continue the caller's trace with a new span id, or start a new trace."""
    match = TRACEPARENT_PATTERN.match(candidate or "")
    trace_id = match.group(1) if match and match.group(1) != "0" * 32 else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def current_trace_ids() -> tuple[str | None, str | None]:
    """(trace id, span id) of the active OpenTelemetry span, else of the bound traceparent."""
    if spans_recorded:
        span = otel_trace.get_current_span().get_span_context()
        if span.is_valid:
            return format(span.trace_id, "032x"), format(span.span_id, "016x")
    bound = _traceparent.get()
    # Bound values were checked (or made) by child_traceparent: version-trace-span-flags.
    return (bound[3:35], bound[36:52]) if bound and len(bound) == 55 else (None, None)


def annotate_caller(organisation: str, client_id: str | None) -> None:
    """Record the authenticated caller for the current request's log lines."""
    fields = _caller.get()
    if fields is not None:
        fields["organisation"] = organisation
        if client_id:
            fields["client_id"] = client_id


def current_caller_fields() -> dict[str, str]:
    return _caller.get() or {}


def bind(request_id: str | None, traceparent: str | None) -> tuple[object, ...]:
    """Set both (and an empty caller) for the current context; returns tokens for `unbind`."""
    return _request_id.set(request_id), _traceparent.set(traceparent), _caller.set({})


def unbind(tokens: tuple[object, ...]) -> None:
    _request_id.reset(tokens[0])  # type: ignore[arg-type]
    _traceparent.reset(tokens[1])  # type: ignore[arg-type]
    _caller.reset(tokens[2])  # type: ignore[arg-type]

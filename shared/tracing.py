"""Request id and W3C trace context for the current request, readable anywhere (events too)."""

import re
import secrets
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
TRACEPARENT_PATTERN = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def current_request_id() -> str | None:
    return _request_id.get()


def current_traceparent() -> str | None:
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


def bind(request_id: str | None, traceparent: str | None) -> tuple[object, object]:
    """Set both for the current context; returns tokens for `unbind`."""
    return _request_id.set(request_id), _traceparent.set(traceparent)


def unbind(tokens: tuple[object, object]) -> None:
    _request_id.reset(tokens[0])  # type: ignore[arg-type]
    _traceparent.reset(tokens[1])  # type: ignore[arg-type]

"""ASGI middleware that gives every request an id and a W3C trace context."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import tracing


class RequestContextMiddleware:
    """Accept or create `X-Request-ID` and `traceparent`, bind them, echo the request id back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = tracing.accept_request_id(_header(headers, b"x-request-id"))
        traceparent = tracing.child_traceparent(_header(headers, b"traceparent"))
        tokens = tracing.bind(request_id, traceparent)

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            tracing.unbind(tokens)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None

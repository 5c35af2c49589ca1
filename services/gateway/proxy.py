"""The hot path: `/api/*` as a raw ASGI handler in front of FastAPI (no routing, no validation).

Per request: find the owning service, verify the bearer token (remembered briefly by hash),
check the scope, take a rate-limit token, ask the circuit breaker, then forward with a pooled
aiohttp session and stream the answer back. aiohttp was chosen on evidence: a FastAPI proxy on
httpx reached 0.05x direct throughput, httpx over aiohttp 0.33x, aiohttp 0.47x, and this raw path
more (see bench/gateway_overhead.py and docs/gateway.md).
"""

import logging
import time
from collections.abc import Iterable

import aiohttp
import orjson
from multidict import CIMultiDict
from starlette.types import ASGIApp, Receive, Scope, Send
from yarl import URL

from services.gateway.access import ClientDirectory, Gatekeeper
from services.gateway.breaker import CircuitBreaker
from services.gateway.ratelimit import RateDecision, RateLimiter
from services.gateway.routing import RouteTable
from services.gateway.scopes import ScopeRules
from shared import tracing
from shared.problems import PROBLEM_JSON, PROBLEM_TYPE_BASE, Unauthorized

log = logging.getLogger(__name__)

# RFC 9110 section 7.6.1: connection-specific headers are not forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
REQUEST_HEADERS_SET_HERE = HOP_BY_HOP | {"host", "content-length", "x-request-id", "traceparent"}
# The gateway's own server and middleware set these on the way out.
RESPONSE_HEADERS_SET_HERE = HOP_BY_HOP | {"date", "server", "x-request-id"}
WHOLE_BODY_LIMIT = 1 << 20


class UpstreamProxy:
    """A pooled aiohttp session to the upstream services, with timeouts."""

    def __init__(
        self,
        upstreams: dict[str, str],
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        max_connections: int,
    ) -> None:
        self.upstreams = upstreams
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=connect_timeout_s,
            connect=connect_timeout_s,
            sock_read=read_timeout_s,
        )
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            ttl_dns_cache=300,
            keepalive_timeout=60,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "proxy not started"
        return self._session


class ProxyMiddleware:
    """Serves `/api/*` itself; everything else goes on to the FastAPI app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: RouteTable,
        scope_rules: ScopeRules,
        gatekeeper: Gatekeeper,
        directory: ClientDirectory,
        limiter_holder: "LimiterHolder",
        proxy: UpstreamProxy,
        breakers: dict[str, CircuitBreaker],
    ) -> None:
        self.app = app
        self._routes = routes
        self._scope_rules = scope_rules
        self._gatekeeper = gatekeeper
        self._directory = directory
        self._limiter = limiter_holder
        self._proxy = proxy
        self._breakers = breakers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        try:
            caller = await self._gatekeeper.authenticate(_header(scope, b"authorization"))
        except Unauthorized as error:
            challenge = b'Bearer realm="locality-hub", error="invalid_token"'
            await send_problem(
                send,
                401,
                "Unauthorized",
                error.detail,
                "unauthorized",
                path,
                [(b"www-authenticate", challenge)],
            )
            return
        required = self._scope_rules.required_scope(method, path)
        if required is not None and not caller.has_scope(required):
            challenge = f'Bearer error="insufficient_scope", scope="{required}"'.encode()
            await send_problem(
                send,
                403,
                "Forbidden",
                f"This operation needs the scope '{required}'.",
                "forbidden",
                path,
                [(b"www-authenticate", challenge)],
                required_scope=required,
            )
            return
        decision = await self._take_rate_token(caller.client_id or caller.subject)
        limit_headers = decision.headers() if decision is not None else []
        if decision is not None and not decision.allowed:
            await send_problem(
                send,
                429,
                "Too many requests",
                f"Rate limit of {decision.policy.quota} requests per "
                f"{decision.policy.window_s} s reached; retry after "
                f"{decision.retry_after_s} s.",
                "rate-limited",
                path,
                limit_headers,
            )
            return
        service = self._routes.service_for(path)
        if service is None:
            await send_problem(
                send,
                404,
                "Not found",
                f"No service serves {path}.",
                "no-route",
                path,
                limit_headers,
            )
            return
        await self._forward(scope, receive, send, service, limit_headers)

    async def _take_rate_token(self, client_key: str) -> RateDecision | None:
        policy = self._directory.policy_for(client_key)
        try:
            return await self._limiter.current.take(client_key, policy, time.monotonic())
        except Exception as error:
            # Availability over strictness: a limiter outage must not take the API down.
            log.warning("rate limiter unavailable, letting the request through: %s", error)
            return None

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        service: str,
        extra_headers: list[tuple[bytes, bytes]],
    ) -> None:
        path = scope["path"]
        breaker = self._breakers[service]
        now = time.monotonic()
        if not breaker.allow(now):
            retry = max(int(breaker.retry_after_s(now)), 1)
            await send_problem(
                send,
                503,
                "Service unavailable",
                f"The {service} service is failing; requests are paused for {retry} s.",
                "upstream-circuit-open",
                path,
                [*extra_headers, (b"retry-after", str(retry).encode())],
            )
            return
        raw_path = scope.get("raw_path") or path.encode()
        query = scope.get("query_string") or b""
        target = self._proxy.upstreams[service] + raw_path.decode("latin-1")
        if query:
            target += "?" + query.decode("latin-1")
        body = await _read_body(receive)
        try:
            upstream = await self._proxy.session.request(
                scope["method"],
                URL(target, encoded=True),
                headers=_forwarded_headers(scope),
                data=body or None,
                allow_redirects=False,
            )
        except TimeoutError:
            breaker.record_failure(time.monotonic())
            await send_problem(
                send,
                504,
                "Gateway timeout",
                f"The {service} service did not answer in time.",
                "upstream-timeout",
                path,
                extra_headers,
            )
            return
        except aiohttp.ClientError as error:
            breaker.record_failure(time.monotonic())
            await send_problem(
                send,
                502,
                "Bad gateway",
                f"The {service} service is unreachable ({type(error).__name__}).",
                "upstream-unavailable",
                path,
                extra_headers,
            )
            return
        breaker.record_success()
        await _relay_response(upstream, send, extra_headers)


class LimiterHolder:
    """The rate limiter, set when the app starts (Redis or in memory)."""

    current: RateLimiter


async def _relay_response(
    upstream: aiohttp.ClientResponse, send: Send, extra_headers: list[tuple[bytes, bytes]]
) -> None:
    try:
        headers = [*_response_headers(upstream.raw_headers), *extra_headers]
        length = upstream.content_length
        if length is not None and length <= WHOLE_BODY_LIMIT:
            content = await upstream.read()
            await send(
                {"type": "http.response.start", "status": upstream.status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": content})
            return
        await send({"type": "http.response.start", "status": upstream.status, "headers": headers})
        try:
            async for chunk in upstream.content.iter_chunked(65536):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (TimeoutError, aiohttp.ClientError) as error:
            log.warning("upstream stopped mid-body: %s", error)
        await send({"type": "http.response.body", "body": b""})
    finally:
        upstream.release()


def _response_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    pairs = [(name.lower(), value) for name, value in raw]
    named_in_connection = {
        token.strip().lower().encode()
        for name, value in pairs
        if name == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    return [
        (name, value)
        for name, value in pairs
        if name.decode("latin-1") not in RESPONSE_HEADERS_SET_HERE
        and name not in named_in_connection
    ]


def _forwarded_headers(scope: Scope) -> CIMultiDict[str]:
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    named_in_connection = {
        token.strip().lower()
        for name, value in raw
        if name == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    headers: CIMultiDict[str] = CIMultiDict()
    prior_forwarded_for = None
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        if name in REQUEST_HEADERS_SET_HERE or name in named_in_connection:
            continue
        if name == "x-forwarded-for":
            prior_forwarded_for = value_bytes.decode("latin-1")
            continue
        headers.add(name, value_bytes.decode("latin-1"))
    request_id = tracing.current_request_id()
    if request_id:
        headers["x-request-id"] = request_id
    traceparent = tracing.current_traceparent()
    if traceparent:
        headers["traceparent"] = traceparent
    client = scope.get("client")
    if client:
        host = client[0]
        headers["x-forwarded-for"] = (
            f"{prior_forwarded_for}, {host}" if prior_forwarded_for else host
        )
    return headers


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


async def send_problem(
    send: Send,
    status: int,
    title: str,
    detail: str,
    slug: str,
    instance: str,
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    **extra: str,
) -> None:
    """An RFC 9457 problem+json answer written straight to ASGI (no framework on this path)."""
    body = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    request_id = tracing.current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    content = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(content)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})

"""Forwards a request to its upstream service with aiohttp and streams the answer back.

aiohttp was chosen over httpx for the upstream client: a plain FastAPI proxy measured here
with httpx reached a small fraction of direct throughput (see bench/ and the README).
"""

import aiohttp
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from shared import tracing
from shared.problems import problem_response

# RFC 9110 section 7.6.1: connection-specific headers are not forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# The gateway's own server and middleware set these on the way out.
RESPONSE_HEADERS_SET_HERE = HOP_BY_HOP | {"date", "server", "x-request-id"}


class UpstreamProxy:
    def __init__(
        self,
        upstreams: dict[str, str],
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        max_connections: int,
    ) -> None:
        self._upstreams = upstreams
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout_s, sock_read=read_timeout_s
        )
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, auto_decompress=False
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "proxy not started"
        return self._session

    def base_url(self, service: str) -> str:
        return self._upstreams[service]

    async def forward(self, request: Request, service: str) -> Response:
        url = self._upstreams[service] + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        headers = forwarded_headers(request)
        body = await request.body()
        try:
            upstream = await self.session.request(
                request.method, url, headers=headers, data=body or None, allow_redirects=False
            )
        except TimeoutError:
            return _gateway_problem(
                504, "Gateway timeout", f"The {service} service did not answer in time.", request
            )
        except aiohttp.ClientError as error:
            return _gateway_problem(
                502,
                "Bad gateway",
                f"The {service} service is unreachable ({type(error).__name__}).",
                request,
            )
        response_headers = [
            (k, v)
            for k, v in upstream.headers.items()
            if k.lower() not in RESPONSE_HEADERS_SET_HERE
        ]
        response = StreamingResponse(
            _stream(upstream),
            status_code=upstream.status,
            headers=None,
        )
        # Raw pairs keep repeated headers (several Link values) as the service sent them.
        response.raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response_headers
        ]
        return response


async def _stream(upstream: aiohttp.ClientResponse):  # type: ignore[no-untyped-def]
    try:
        async for chunk in upstream.content.iter_any():
            yield chunk
    except (TimeoutError, aiohttp.ClientError):
        return
    finally:
        upstream.release()


def forwarded_headers(request: Request) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    request_id = tracing.current_request_id()
    if request_id:
        headers["x-request-id"] = request_id
    traceparent = tracing.current_traceparent()
    if traceparent:
        headers["traceparent"] = traceparent
    client = request.client.host if request.client else None
    if client:
        prior = request.headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{prior}, {client}" if prior else client
    return headers


def _gateway_problem(status: int, title: str, detail: str, request: Request) -> Response:
    slug = "upstream-timeout" if status == 504 else "upstream-unavailable"
    return problem_response(status, title, detail, slug=slug, instance=request.url.path)

"""A lean HTTP/1.1 client for the hot path: pooled keep-alive connections per upstream, each an
asyncio protocol with the httptools (llhttp) parser, the request written in one piece.

It does only what a reverse proxy to our own services needs (whole bodies, no redirects, no
cookies, no TLS) and skips the per-request machinery of a general client; the benchmark
(bench/gateway_overhead.py) decided between it and aiohttp.
"""

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# uvicorn closes idle keep-alive connections after 5 s; we stop reusing them a little sooner.
MAX_IDLE_S = 4.0


class UpstreamUnavailable(Exception):
    """Refused, reset or closed before an answer: the gateway answers 502."""


class UpstreamTimeout(Exception):
    """No connection or no full answer in time: the gateway answers 504."""


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = time.monotonic()
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[UpstreamResponse] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self._head_request = False
        self.keep_alive = True
        self.got_bytes = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(UpstreamUnavailable(f"malformed answer: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self._headers_done:  # a body delimited by the end of the connection
                self.keep_alive = False
                self._complete()
            else:
                self._fail(UpstreamUnavailable("connection closed before an answer"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        if self._head_request:  # no body follows, whatever Content-Length says
            self.keep_alive = False
            self._complete()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        self._complete()

    # one exchange
    def send(self, request: bytes, head_request: bool) -> "asyncio.Future[UpstreamResponse]":
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._headers, self._body, self._headers_done = [], [], False
        self._head_request, self.got_bytes = head_request, False
        self.transport.write(request)
        return self._waiter

    def _complete(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            status = self._parser.get_status_code()
            self._waiter.set_result(UpstreamResponse(status, self._headers, b"".join(self._body)))

    def _fail(self, error: Exception) -> None:
        self.keep_alive = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class UpstreamPool:
    """Keep-alive connections to one upstream (`http://host:port`), at most `limit` at a time."""

    def __init__(
        self, base_url: str, *, limit: int, connect_timeout_s: float, read_timeout_s: float
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream {base_url!r} must be http://host:port")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._host_header = parts.netloc.encode()
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(limit)
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s

    async def request(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> UpstreamResponse:
        """Send one request; retried once on a fresh connection when a reused one was closed."""
        message = _serialise(method, target, self._host_header, headers, body)
        async with self._slots:
            connection, reused = await self._acquire()
            try:
                response = await self._exchange(connection, message, method)
            except UpstreamUnavailable:
                retry = reused and not connection.got_bytes and method in IDEMPOTENT
                if not retry:
                    raise
                connection = await self._connect()
                response = await self._exchange(connection, message, method)
            self._release(connection)
            return response

    async def _exchange(
        self, connection: _Connection, message: bytes, method: str
    ) -> UpstreamResponse:
        try:
            async with asyncio.timeout(self._read_timeout_s):
                return await connection.send(message, method == "HEAD")
        except TimeoutError as error:
            connection.close()
            raise UpstreamTimeout("no answer within the read timeout") from error
        except BaseException:
            connection.close()
            raise

    async def _acquire(self) -> tuple[_Connection, bool]:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < MAX_IDLE_S:
                return connection, True
            connection.close()
        return await self._connect(), False

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                _, connection = await loop.create_connection(_Connection, self._host, self._port)
        except TimeoutError as error:
            raise UpstreamTimeout("no connection within the connect timeout") from error
        except OSError as error:
            raise UpstreamUnavailable(f"cannot connect: {error.strerror or error}") from error
        return connection

    def _release(self, connection: _Connection) -> None:
        if connection.closed or not connection.keep_alive:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _serialise(
    method: str, target: bytes, host: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> bytes:
    lines = [method.encode(), b" ", target, b" HTTP/1.1\r\nhost: ", host, b"\r\n"]
    for name, value in headers:
        lines += [name, b": ", value, b"\r\n"]
    if body or method in ("POST", "PUT", "PATCH"):
        lines += [b"content-length: ", str(len(body)).encode(), b"\r\n"]
    lines += [b"\r\n", body]
    return b"".join(lines)

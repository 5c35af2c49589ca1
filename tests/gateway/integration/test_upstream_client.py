"""The lean upstream client against raw HTTP servers: framing, keep-alive, retries, failures."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from services.gateway.upstream_client import UpstreamPool, UpstreamTimeout, UpstreamUnavailable
from tests.gateway.serving import free_port

pytestmark = pytest.mark.integration

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server running `handler` per connection; yields its URL and a connection counter."""
    connections: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", connections
    finally:
        server.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


def pool(url: str, read_timeout_s: float = 2.0) -> UpstreamPool:
    return UpstreamPool(url, limit=4, connect_timeout_s=1.0, read_timeout_s=read_timeout_s)


async def keep_alive_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            await read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\n\r\nok")
        await writer.drain()


async def test_keep_alive_connections_are_reused() -> None:
    async with raw_server(keep_alive_ok) as (url, connections):
        upstream = pool(url)
        answers = [await upstream.request("GET", b"/x", [], b"") for _ in range(3)]
        upstream.close()
    assert [a.body for a in answers] == [b"ok"] * 3
    assert (b"x-a", b"1") in answers[0].headers
    assert len(connections) == 1


async def test_a_chunked_answer_is_reassembled() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/csv\r\n\r\n"
            b"5\r\na,b\r\n\r\n4\r\n1,2\n\r\n0\r\n\r\n"
        )
        await writer.drain()

    async with raw_server(chunked) as (url, _):
        answer = await pool(url).request("GET", b"/export.csv", [], b"")
    assert answer.body == b"a,b\r\n1,2\n"


async def test_a_body_ended_by_closing_the_connection_is_complete() -> None:
    async def close_delimited(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()

    async with raw_server(close_delimited) as (url, _):
        answer = await pool(url).request("GET", b"/x", [], b"")
    assert answer.body == b"all of it"


async def test_a_head_request_does_not_wait_for_a_body() -> None:
    async def head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
        await writer.drain()
        await reader.read()  # no body follows: hold the connection until the client leaves

    async with raw_server(head) as (url, _):
        answer = await pool(url, read_timeout_s=0.5).request("HEAD", b"/x", [], b"")
    assert answer.status == 200
    assert answer.body == b""


async def test_a_get_on_a_connection_the_server_closed_is_retried_on_a_new_one() -> None:
    async def one_answer_then_close(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        # Claims keep-alive, then closes while the client holds the connection as idle.
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        await reader.read(1)

    async with raw_server(one_answer_then_close) as (url, connections):
        upstream = pool(url)
        await upstream.request("GET", b"/x", [], b"")
        answer = await upstream.request("GET", b"/x", [], b"")
    assert answer.body == b"ok"
    assert len(connections) == 2


async def test_the_request_is_written_with_its_body_length_and_host() -> None:
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        seen.append(await reader.readexactly(7))
        writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()

    async with raw_server(record) as (url, _):
        body = b'{"a":1}'
        answer = await pool(url).request("POST", b"/r?q=1", [(b"x-k", b"v")], body)
    assert answer.status == 201
    head = seen[0].decode()
    assert head.startswith("POST /r?q=1 HTTP/1.1\r\n")
    assert f"host: {url.removeprefix('http://')}" in head
    assert "content-length: 7" in head and "x-k: v" in head
    assert seen[1] == body


async def test_a_refused_connection_is_unavailable_and_a_silent_server_times_out() -> None:
    with pytest.raises(UpstreamUnavailable):
        await pool(f"http://127.0.0.1:{free_port()}").request("GET", b"/", [], b"")

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # never answer: hold the connection until the client gives up

    async with raw_server(silent) as (url, _):
        with pytest.raises(UpstreamTimeout):
            await pool(url, read_timeout_s=0.3).request("GET", b"/", [], b"")

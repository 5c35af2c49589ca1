"""A TCP proxy in front of PostgreSQL that can refuse connections the way PostgreSQL does.

While refusing, it cuts every open connection and answers each new one with the error a
server that is starting up or recovering sends (FATAL 57P03 "the database system is starting
up"): asyncpg raises CannotConnectNowError, which SQLAlchemy hands on as a plain DBAPIError.
"""

import asyncio
import contextlib
import struct

from deploy.local.broker import free_port

SSL_REQUEST_CODE = 80877103


class RefusingPostgresProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.refusing = False
        self.refused = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def url_for(self, database_url: str) -> str:
        """The same database URL, through the proxy."""
        host, port = self._upstream
        return database_url.replace(f"@{host}:{port}/", f"@127.0.0.1:{self.port}/")

    async def start(self) -> "RefusingPostgresProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        self.refuse()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def refuse(self) -> None:
        """Cut every connection and refuse new ones until `accept`."""
        self.refusing = True
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    def accept(self) -> None:
        self.refusing = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            with contextlib.suppress(Exception):
                await self._refuse(reader, writer)
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for end in (writer, up_writer):
                self._open.discard(end)
                end.transport.abort()

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.refused += 1
        message = await _read_startup(reader)
        if message == struct.pack("!I", SSL_REQUEST_CODE):
            writer.write(b"N")  # no TLS; the client sends its startup message in clear
            await _read_startup(reader)
        writer.write(error_response("57P03", "the database system is starting up"))
        await writer.drain()


async def _read_startup(reader: asyncio.StreamReader) -> bytes:
    (length,) = struct.unpack("!I", await reader.readexactly(4))
    return await reader.readexactly(length - 4)


def error_response(sqlstate: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message with severity FATAL."""
    fields = b"".join(
        code + value.encode() + b"\0"
        for code, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.transport.abort()

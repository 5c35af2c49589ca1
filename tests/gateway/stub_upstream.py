"""A stand-in upstream service on a real port: echoes what it received, and can hold a
request unanswered, send CSV with ETag and Link headers, fail, or serve an OpenAPI document."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class StubUpstream:
    name: str
    openapi: dict[str, Any] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    ready: bool = True
    url: str = ""
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> "StubUpstream":
        app = web.Application()
        app.router.add_get("/openapi.json", self._openapi)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_route("*", "/{tail:.*}", self._echo)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Stopping waits this long at most for open connections (the gateway's pooled
        # keep-alive ones included) instead of aiohttp's 60 s.
        site = web.TCPSite(self._runner, "127.0.0.1", 0, shutdown_timeout=1.0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _hold_until_stopped(self) -> None:
        """Never answer: the caller's own timeout is the only way this request ends."""
        await self._stopping.wait()

    async def _openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(self.openapi)

    async def _readyz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"}, status=200 if self.ready else 503)

    async def _echo(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.received.append(
            {
                "method": request.method,
                "path": request.path,
                "raw_path": request.raw_path,
                "headers": dict(request.headers),
                "body": body,
            }
        )
        if request.path.endswith("/slow"):
            await self._hold_until_stopped()
        if request.path.endswith(".csv"):
            response = web.Response(
                body=b'week,count\n2026-W01,12\n2026-W02,"1,5"\n',
                content_type="text/csv",
                charset="utf-8",
                headers={
                    "ETag": '"v7"',
                    "Connection": "close, x-private-hop",
                    "X-Private-Hop": "1",
                },
            )
            response.headers.add("Link", '</api/v1/x?cursor=b>; rel="next"')
            response.headers.add("Link", '</api/v1/x>; rel="first"')
            return response
        if request.path.endswith("/conflict"):
            return web.json_response(
                {"title": "Conflict"}, status=409, content_type="application/problem+json"
            )
        return web.json_response(
            {
                "service": self.name,
                "method": request.method,
                "path": request.path,
                "query": request.query_string,
            },
            status=201 if request.method == "POST" else 200,
            headers={"ETag": '"e1"', "X-Request-Id": "upstream-echo"},
        )

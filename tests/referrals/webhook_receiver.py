"""A partner's webhook endpoint for tests: a real local HTTP server that verifies signatures
with the `standardwebhooks` verifier and drops repeats by webhook id, as partners are told to."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    failing: bool = False  # answer 503 (an endpoint that is down)
    attempts: list[str] = field(default_factory=list)  # webhook ids of every request
    accepted: list[dict[str, Any]] = field(default_factory=list)  # verified, first time only
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        self.attempts.append(headers.get("webhook-id", "?"))
        if self.failing:
            return web.Response(status=503)
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            self.bad_signatures += 1
            return web.Response(status=400)
        if all(seen["webhook_id"] != headers["webhook-id"] for seen in self.accepted):
            self.accepted.append({"webhook_id": headers["webhook-id"], **payload})
        return web.Response(status=204)

    def types(self) -> list[str]:
        return [notice["type"] for notice in self.accepted]


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()

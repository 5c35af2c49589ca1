"""A minimal upstream for bench.gateway_overhead: answers like referrals, without a database,
so what remains of the difference is the gateway's own cost."""

import uuid

from starlette.types import Receive, Scope, Send


async def echo_referrals(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        status, body = 201, f'{{"id": "{uuid.uuid4()}", "status": "received"}}'.encode()
    else:
        items = ",".join(f'{{"id": "{uuid.uuid4()}", "status": "received"}}' for _ in range(20))
        status, body = 200, f'{{"items": [{items}], "next_cursor": null}}'.encode()
    headers = [(b"content-type", b"application/json"), (b"etag", b'"1"')]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app():  # type: ignore[no-untyped-def]
    return echo_referrals

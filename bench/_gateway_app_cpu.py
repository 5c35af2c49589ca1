"""For bench.observability_cost: the gateway's own CPU per proxied request, in one process.

Run as `python bench/_gateway_app_cpu.py <tree>`: builds that tree's gateway app, replaces the
upstream call with an instant answer and calls the ASGI app directly, so neither the network nor
the other processes on a shared machine enter the figure. Prints microseconds per request.
"""

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REQUESTS = 5000


class _InstantAnswer:
    status = 200
    headers = [(b"content-type", b"application/json")]
    body = b'{"items": [], "next_cursor": null}'


async def _answer(*_: object) -> _InstantAnswer:
    return _InstantAnswer()


async def measure(token: str) -> list[float]:
    from services.gateway.main import create_app

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/referrals",
        "raw_path": b"/api/v1/referrals",
        "query_string": b"limit=20",
        "root_path": "",
        "headers": [(b"host", b"gateway"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: dict) -> None:
        return None

    app = create_app()
    async with app.router.lifespan_context(app):
        app.state.gateway.proxy.pools["referrals"].request = _answer
        for _ in range(1000):
            await app(dict(scope), receive, send)
        rounds = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(REQUESTS):
                await app(dict(scope), receive, send)
            rounds.append((time.process_time() - started) / REQUESTS * 1e6)
    return rounds


def main() -> None:
    tree = Path(sys.argv[1])
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    from shared.auth import ALL_SCOPES, ensure_signing_keypair, mint_token

    scratch = Path(tempfile.mkdtemp(prefix="bench-gateway-app-"))
    private_key, public_key = ensure_signing_keypair(scratch / "keys")
    os.environ.update(
        DATA_DIR=str(scratch),
        AUTH_PUBLIC_KEY_FILE=str(public_key),
        AUTH_PRIVATE_KEY_FILE=str(private_key),
        GATEWAY_RATE_LIMIT_QUOTA="100000000",
    )
    # The gateway's log lines go where a deployment's would: a file, not this terminal.
    log = open(scratch / "gateway.log", "w")  # noqa: SIM115 - open until the process exits
    os.dup2(log.fileno(), 2)
    token = mint_token(
        private_key.read_bytes(),
        organisation="BENCH",
        scopes=ALL_SCOPES,
        issuer="locality-hub",
        audience="locality-hub-api",
    )
    rounds = asyncio.run(measure(token))
    print(min(rounds))


if __name__ == "__main__":
    main()

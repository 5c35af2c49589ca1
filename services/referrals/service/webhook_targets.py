"""Where a webhook may be sent: the URL rules of domain/webhooks.py plus a DNS lookup.

The lookup is done when a subscription is made and again before every attempt, so a name that
later points at a private address (DNS rebinding, a takeover) is refused at delivery time.
"""

import asyncio
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from services.referrals.domain.webhooks import (
    TargetPolicy,
    UnsafeTarget,
    check_addresses,
    check_url,
)

# host, port -> the addresses the name resolves to (tests give a resolver of their own).
Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT_S = 5.0


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (empty when it does not resolve)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S
        )
    except (OSError, TimeoutError):
        return []
    return sorted({str(info[4][0]) for info in infos})


async def check_target(url: str, policy: TargetPolicy, resolve: Resolver) -> None:
    """UnsafeTarget unless `url` may be called under `policy`, its name resolved now."""
    host = check_url(url, policy)
    if policy.allow_private:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    check_addresses(await resolve(host, port), policy)


__all__ = ["Resolver", "UnsafeTarget", "check_target", "resolve_host"]

"""The services' own OpenAPI documents: the one source of the gateway's scope rules and docs.

Each document is read at start-up and again every `refresh_s`; a service that cannot be reached
keeps its last good document. A service never read yet is asked again when a request for it
arrives (at most every `retry_s`), and until then the service's own scope check is the only one.
"""

import asyncio
import logging
import time
from typing import Any

import aiohttp

from services.gateway.scopes import ScopeRules

log = logging.getLogger(__name__)


class ServiceContracts:
    def __init__(
        self, upstreams: dict[str, str], *, refresh_s: float, retry_s: float = 1.0
    ) -> None:
        self.upstreams = upstreams
        self.documents: dict[str, dict[str, Any]] = {}
        self._rules: dict[str, ScopeRules] = {}
        self._refresh_s = refresh_s
        self._retry_s = retry_s
        self._last_attempt: dict[str, float] = {}
        self._locks = {name: asyncio.Lock() for name in upstreams}
        self._retries: set[asyncio.Task[bool]] = set()

    async def scope_rules(self, session: aiohttp.ClientSession, service: str) -> ScopeRules | None:
        """The service's rules. The first request for a service waits for its first read; while
        the document stays unreadable, requests do not wait: it is read again in the background."""
        rules = self._rules.get(service)
        if rules is not None or service not in self.upstreams:
            return rules
        if service not in self._last_attempt:
            await self._read_once(session, service)
        elif self._retry_due(service):
            retry = asyncio.create_task(self.refresh(session, service))
            self._retries.add(retry)
            retry.add_done_callback(self._retries.discard)
        return self._rules.get(service)

    def _retry_due(self, service: str) -> bool:
        waited = time.monotonic() - self._last_attempt[service]
        return waited >= self._retry_s and not self._locks[service].locked()

    async def refresh_all(self, session: aiohttp.ClientSession) -> list[str]:
        """Read every document again; returns the services never read successfully."""
        await asyncio.gather(*(self.refresh(session, name) for name in self.upstreams))
        return [name for name in self.upstreams if name not in self.documents]

    async def refresh(self, session: aiohttp.ClientSession, service: str) -> bool:
        async with self._locks[service]:
            return await self._read(session, service)

    async def _read_once(self, session: aiohttp.ClientSession, service: str) -> None:
        async with self._locks[service]:
            if service not in self._last_attempt:  # not read meanwhile by another request
                await self._read(session, service)

    async def _read(self, session: aiohttp.ClientSession, service: str) -> bool:
        try:
            timeout = aiohttp.ClientTimeout(total=5)
            url = self.upstreams[service] + "/openapi.json"
            async with session.get(url, timeout=timeout) as response:
                response.raise_for_status()
                document = await response.json()
            rules = ScopeRules.from_openapi(document)
        except Exception as error:
            log.warning("could not read the OpenAPI document of %s: %s", service, error)
            return False
        else:
            self.documents[service], self._rules[service] = document, rules
            return True
        finally:
            # Set when the attempt ends, so a request during a first read waits for it.
            self._last_attempt[service] = time.monotonic()

    async def keep_fresh(self, session: aiohttp.ClientSession) -> None:
        while True:
            await self.refresh_all(session)
            await asyncio.sleep(self._refresh_s)

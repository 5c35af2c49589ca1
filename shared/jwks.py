"""Public keys of an external identity provider (staff sign-in), from a JWKS file or URL.

Keys are cached and fetched again when the cache is older than `cache_s`, or sooner (at most
every `min_refresh_s`) when a token names a key id we have not seen: that is how a provider's
key rotation reaches us without a restart.
"""

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

# Asymmetric algorithms only: a shared-secret (HS*) token could be forged by anyone holding it.
EXTERNAL_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]


class JwksKeys:
    """Key id -> public key, loaded from `source` (a file path or an http(s) URL)."""

    def __init__(self, source: str, *, cache_s: float = 300.0, min_refresh_s: float = 30.0):
        self.source = source
        self._cache_s = cache_s
        self._min_refresh_s = min_refresh_s
        self._keys: dict[str, Any] = {}
        self._loaded_at: float | None = None
        self._attempted_at = float("-inf")
        if not self.is_url:
            self._keys = parse_jwks(Path(source).read_text())
            self._loaded_at = time.monotonic()

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    def get(self, kid: str) -> Any | None:
        return self._keys.get(kid)

    def is_stale(self) -> bool:
        return self._loaded_at is None or time.monotonic() - self._loaded_at > self._cache_s

    def may_refresh(self) -> bool:
        return time.monotonic() - self._attempted_at >= self._min_refresh_s

    async def refresh(self) -> None:
        """Fetch the key set again; on failure keep the keys we had (and log why)."""
        self._attempted_at = time.monotonic()
        try:
            if self.is_url:
                async with httpx.AsyncClient(timeout=5.0) as client:
                    response = await client.get(self.source)
                    response.raise_for_status()
                    text = response.text
            else:
                # A small local file: reading it inline is quicker than a thread hop.
                text = Path(self.source).read_text()  # noqa: ASYNC240
            self._keys = parse_jwks(text)
            self._loaded_at = time.monotonic()
        except Exception as error:
            log.warning("could not load the JWKS from %s: %s", self.source, error)


def parse_jwks(text: str) -> dict[str, Any]:
    """The usable signing keys of a JWKS document by key id."""
    document = json.loads(text)
    keys: dict[str, Any] = {}
    for entry in document.get("keys", []):
        if entry.get("use", "sig") != "sig" or "kid" not in entry:
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK.from_dict(entry).key
        except jwt.PyJWTError as error:
            log.warning("skipping JWKS key %s: %s", entry.get("kid"), error)
    return keys


@dataclass
class ExternalIssuer:
    """A trusted identity provider: tokens with this `iss`, for `audience`, signed by `keys`."""

    issuer: str
    audience: str
    keys: JwksKeys
    algorithms: list[str] = field(default_factory=lambda: list(EXTERNAL_ALGORITHMS))

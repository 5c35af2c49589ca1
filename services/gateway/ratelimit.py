"""Per-client rate limits: a token bucket, kept in memory or shared through Redis.

Headers follow the IETF draft "RateLimit header fields for HTTP" (httpapi-ratelimit-headers):
`RateLimit-Policy: "default";q=<quota>;w=<window>` and `RateLimit: "default";r=<remaining>;t=<s>`,
plus `Retry-After` on a refusal.
"""

import math
from dataclasses import dataclass
from typing import Any, Protocol

POLICY_NAME = "default"


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """`quota` requests per `window_s` seconds, refilled steadily; bursts up to `quota`."""

    quota: int
    window_s: int

    @property
    def refill_per_s(self) -> float:
        return self.quota / self.window_s


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    remaining: int
    reset_s: int
    retry_after_s: int
    policy: RatePolicy

    def headers(self) -> list[tuple[bytes, bytes]]:
        policy = f'"{POLICY_NAME}";q={self.policy.quota};w={self.policy.window_s}'
        state = f'"{POLICY_NAME}";r={self.remaining};t={self.reset_s}'
        pairs = [(b"ratelimit-policy", policy.encode()), (b"ratelimit", state.encode())]
        if not self.allowed:
            pairs.append((b"retry-after", str(self.retry_after_s).encode()))
        return pairs


def decide(tokens_left: float, allowed: bool, policy: RatePolicy) -> RateDecision:
    """Describe a bucket after a take: what remains, when it is full, when to retry."""
    missing_to_full = max(policy.quota - tokens_left, 0.0)
    missing_to_one = max(1.0 - tokens_left, 0.0)
    return RateDecision(
        allowed=allowed,
        remaining=max(int(tokens_left), 0),
        reset_s=math.ceil(missing_to_full / policy.refill_per_s),
        retry_after_s=max(math.ceil(missing_to_one / policy.refill_per_s), 1),
        policy=policy,
    )


def refill_and_take(
    tokens: float, updated_at: float, now: float, policy: RatePolicy
) -> tuple[float, bool]:
    """The bucket's arithmetic: refill for the time passed, then take one token if there is one."""
    tokens = min(float(policy.quota), tokens + max(now - updated_at, 0.0) * policy.refill_per_s)
    if tokens >= 1.0:
        return tokens - 1.0, True
    return tokens, False


class RateLimiter(Protocol):
    async def take(self, key: str, policy: RatePolicy, now: float) -> RateDecision: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class LimiterHolder:
    """The rate limiter, set when the app starts (Redis or in memory)."""

    current: RateLimiter


class InMemoryRateLimiter:
    """Buckets in this process: right for one gateway instance."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._max_keys = max_keys

    async def take(self, key: str, policy: RatePolicy, now: float) -> RateDecision:
        tokens, updated_at = self._buckets.get(key, (float(policy.quota), now))
        tokens, allowed = refill_and_take(tokens, updated_at, now, policy)
        if len(self._buckets) >= self._max_keys and key not in self._buckets:
            self._buckets.clear()  # a full bucket is the state of a forgotten client anyway
        self._buckets[key] = (tokens, now)
        return decide(tokens, allowed, policy)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


# Atomic refill-and-take on Redis's own clock, so every gateway instance shares one bucket.
TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local updated_at = tonumber(state[2])
if tokens == nil or updated_at == nil then
  tokens = capacity
  updated_at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - updated_at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter:
    """Buckets in Redis (`REDIS_URL`): one bucket per client across all gateway instances."""

    def __init__(
        self, url: str, *, password: str | None = None, key_prefix: str = "gateway:ratelimit:"
    ) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.Redis.from_url(url, password=password, socket_timeout=1.0)
        self._script = self._redis.register_script(TAKE_SCRIPT)
        self._prefix = key_prefix

    async def take(self, key: str, policy: RatePolicy, now: float) -> RateDecision:
        allowed, tokens = await self._script(
            keys=[self._prefix + key], args=[policy.quota, policy.refill_per_s]
        )
        return decide(float(tokens), bool(int(allowed)), policy)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._redis.aclose()

"""Token bucket arithmetic and the RateLimit / RateLimit-Policy / Retry-After headers."""

import pytest

from services.gateway.ratelimit import InMemoryRateLimiter, RatePolicy, decide, refill_and_take

pytestmark = pytest.mark.unit

TEN_PER_MINUTE = RatePolicy(quota=10, window_s=60)


def test_a_full_bucket_allows_a_burst_of_the_whole_quota_then_refuses() -> None:
    tokens, now = 10.0, 0.0
    outcomes = []
    for _ in range(11):
        tokens, allowed = refill_and_take(tokens, now, now, TEN_PER_MINUTE)
        outcomes.append(allowed)
    assert outcomes == [True] * 10 + [False]


def test_the_bucket_refills_steadily_and_never_above_the_quota() -> None:
    tokens, allowed = refill_and_take(0.0, 0.0, 6.0, TEN_PER_MINUTE)
    assert allowed
    assert tokens == pytest.approx(0.0)
    tokens, _ = refill_and_take(0.0, 0.0, 3600.0, TEN_PER_MINUTE)
    assert tokens == pytest.approx(9.0)


def test_headers_follow_the_ietf_draft_and_a_refusal_says_when_to_retry() -> None:
    decision = decide(0.5, False, TEN_PER_MINUTE)
    headers = dict(decision.headers())
    assert headers[b"ratelimit-policy"] == b'"default";q=10;w=60'
    assert headers[b"ratelimit"] == b'"default";r=0;t=57'
    assert headers[b"retry-after"] == b"3"


def test_an_allowed_request_carries_no_retry_after() -> None:
    headers = dict(decide(7.2, True, TEN_PER_MINUTE).headers())
    assert headers[b"ratelimit"] == b'"default";r=7;t=17'
    assert b"retry-after" not in headers


async def test_the_in_memory_limiter_keeps_one_bucket_per_client() -> None:
    limiter = InMemoryRateLimiter()
    policy = RatePolicy(quota=2, window_s=60)
    first = [await limiter.take("a", policy, now=0.0) for _ in range(3)]
    other = await limiter.take("b", policy, now=0.0)
    assert [d.allowed for d in first] == [True, True, False]
    assert other.allowed
    assert (await limiter.take("a", policy, now=30.0)).allowed

"""The circuit breaker opens after repeated failures, pauses, probes, and closes on success."""

import pytest

from services.gateway.breaker import BreakerState, CircuitBreaker

pytestmark = pytest.mark.unit


def test_a_closed_breaker_lets_requests_through_below_the_threshold() -> None:
    breaker = CircuitBreaker(failure_threshold=3, open_for_s=10)
    breaker.record_failure(now=0)
    breaker.record_failure(now=1)
    assert breaker.allow(now=2)
    assert breaker.state is BreakerState.CLOSED


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=2, open_for_s=10)
    breaker.record_failure(now=0)
    breaker.record_success()
    breaker.record_failure(now=1)
    assert breaker.state is BreakerState.CLOSED


def test_the_breaker_opens_at_the_threshold_and_refuses_until_the_pause_ends() -> None:
    breaker = CircuitBreaker(failure_threshold=2, open_for_s=10)
    breaker.record_failure(now=0)
    breaker.record_failure(now=1)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(now=5)
    assert breaker.retry_after_s(now=5) == pytest.approx(6)


def test_after_the_pause_one_probe_goes_through_and_others_wait() -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_for_s=10, half_open_probes=1)
    breaker.record_failure(now=0)
    assert breaker.allow(now=10)
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow(now=10.1)


def test_a_successful_probe_closes_the_breaker() -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_for_s=10)
    breaker.record_failure(now=0)
    assert breaker.allow(now=11)
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow(now=11.1)


def test_a_failed_probe_opens_the_breaker_for_another_pause() -> None:
    breaker = CircuitBreaker(failure_threshold=3, open_for_s=10)
    for second in range(3):
        breaker.record_failure(now=second)
    assert breaker.allow(now=13)
    breaker.record_failure(now=13)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(now=20)
    assert breaker.allow(now=23)

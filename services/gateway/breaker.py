"""Circuit breaker per upstream: a pure state machine, fed the time by its caller.

Closed: requests flow; `failure_threshold` failures in a row open it. Open: requests are
refused at once for `open_for_s`, so a dead service is not hammered and callers get a fast
answer. Half-open: after the pause, `half_open_probes` requests go through as probes; a success
closes the breaker, a failure opens it again for another pause.
"""

from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(slots=True)
class CircuitBreaker:
    failure_threshold: int = 5
    open_for_s: float = 10.0
    half_open_probes: int = 1
    state: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    opened_at: float = 0.0
    probes_in_flight: int = 0

    def allow(self, now: float) -> bool:
        """May a request go to the upstream now? Counts half-open probes as they are let through."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if now - self.opened_at < self.open_for_s:
                return False
            self.state = BreakerState.HALF_OPEN
            self.probes_in_flight = 0
        if self.probes_in_flight >= self.half_open_probes:
            return False
        self.probes_in_flight += 1
        return True

    def record_success(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.probes_in_flight = 0

    def record_failure(self, now: float) -> None:
        self.consecutive_failures += 1
        if self.state is BreakerState.HALF_OPEN or (
            self.consecutive_failures >= self.failure_threshold
        ):
            self.state = BreakerState.OPEN
            self.opened_at = now
            self.probes_in_flight = 0

    def retry_after_s(self, now: float) -> float:
        """Seconds until the breaker lets a probe through (0 when it would now)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(self.open_for_s - (now - self.opened_at), 0.0)

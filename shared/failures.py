"""Which failures are worth waiting out, and how a retry loop stays visible while it waits.

A transient failure is the infrastructure's fault (a database refusing or dropping connections,
a broker that is down, a timeout, a serialization conflict): retrying the same work later
succeeds, so it is retried with backoff and never dead-lettered. Anything else is permanent
for that piece of work (a record that cannot be decoded, a handler that rejects its input, a
record the broker will never accept): retrying cannot help, so it is dead-lettered or parked.

`RetryState` is what every retry loop keeps: it backs off, counts, logs at most once per
interval, and says as data what it is waiting for (for /readyz and metrics).
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NoBrokersAvailable,
    ProducerClosed,
)
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# PostgreSQL SQLSTATE classes and codes that mean "try again later", not "this input is wrong":
# 08 connection exception, 53 insufficient resources (too many connections, disk full),
# 57P01-57P03 shutting down / starting up ("cannot connect now"), 40001 serialization failure,
# 40P01 deadlock, 55P03 lock not available, 58 system error (I/O).
TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "58")
TRANSIENT_SQLSTATES = {"57P01", "57P02", "57P03", "40001", "40P01", "55P03"}
# Kafka errors that aiokafka does not mark retriable but that only mean "not now".
TRANSIENT_KAFKA_ERRORS = (
    KafkaConnectionError,
    KafkaTimeoutError,
    NoBrokersAvailable,
    ProducerClosed,
)


def is_transient(error: BaseException) -> bool:
    """True when the failure is the infrastructure's and the same work will succeed later."""
    return any(_transient_alone(link) for link in _causes(error))


def _transient_alone(error: BaseException) -> bool:
    if isinstance(error, (TimeoutError, ConnectionError, OSError)):
        return True
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, KafkaError):
        return bool(error.retriable) or isinstance(error, TRANSIENT_KAFKA_ERRORS)
    sqlstate = _sqlstate(error)
    if sqlstate is not None:
        return sqlstate in TRANSIENT_SQLSTATES or sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES
    # asyncpg raises these without a server SQLSTATE when the connection itself is gone.
    return type(error).__name__ in {"ConnectionDoesNotExistError", "InterfaceError"}


def _sqlstate(error: BaseException) -> str | None:
    # asyncpg errors carry `sqlstate`; SQLAlchemy's asyncpg adapter copies it onto its own.
    value = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return value if isinstance(value, str) and len(value) == 5 else None


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (DBAPIError.orig) and its causes, each once."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "orig", None), current.__cause__])


def describe(error: BaseException) -> str:
    """A one-line reason naming the error's type (for logs, dead letters and parked rows)."""
    return f"{type(error).__name__}: {error}"[:1000]


@dataclass
class RetryState:
    """The state of one retry loop: what it waits for, since when, how often it tried."""

    what: str
    logger: logging.Logger
    initial_delay_s: float = 0.5
    max_delay_s: float = 10.0
    log_every_s: float = 30.0
    failing_since: float | None = None
    attempts: int = 0
    total_retries: int = 0
    last_error: str | None = None
    _next_log_at: float = 0.0

    def failed(self, error: BaseException) -> float:
        """Record a failure; returns how long to wait before the next attempt."""
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        self.attempts += 1
        self.total_retries += 1
        self.last_error = describe(error)
        if now >= self._next_log_at:
            # Rate-limited: one line per interval however fast the loop spins.
            self.logger.warning(
                "%s failing for %.0fs (%d attempts): %s; retrying",
                self.what,
                now - self.failing_since,
                self.attempts,
                self.last_error,
            )
            self._next_log_at = now + self.log_every_s
        return min(self.initial_delay_s * 2 ** (self.attempts - 1), self.max_delay_s)

    def succeeded(self) -> None:
        if self.failing_since is not None:
            self.logger.info(
                "%s recovered after %.0fs", self.what, time.monotonic() - self.failing_since
            )
        self.failing_since = None
        self.attempts = 0
        self._next_log_at = 0.0

    def health(self) -> dict[str, Any]:
        """As data: whether the loop is retrying, for how long, and why."""
        if self.failing_since is None:
            return {"retrying": False, "total_retries": self.total_retries}
        return {
            "retrying": True,
            "failing_for_s": round(time.monotonic() - self.failing_since, 1),
            "attempts": self.attempts,
            "last_error": self.last_error,
            "total_retries": self.total_retries,
        }

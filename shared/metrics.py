"""Prometheus metrics of every service: the metric objects, and small functions that record.

Other modules call the functions here (`event_consumed`, `upstream_answered`, ...) at one point
each, so the code they instrument stays readable. Figures that live elsewhere (outbox backlog,
consumer lag, pool use, breaker state) are read when /metrics is scraped (shared/metrics_http.py).

One uvicorn worker per process: each process keeps its own figures and is scraped on its own
port, so no multiprocess mode is needed (README, "Operations").
"""

from collections import Counter as Counter_
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge

from shared.request_stats import LatencyStats

# Buckets in seconds, from a cached gateway hop (sub-millisecond) to a slow report (seconds).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# http_requests_total{service, method, route, status} and the latency histogram without status.
HTTP_REQUESTS = LatencyStats(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["service", "method", "route", "status"],
    LATENCY_BUCKETS,
    counter=("http_requests", "HTTP requests answered, by route template and status."),
    histogram_drops_last_label=True,
)
EVENTS_CONSUMED = Counter(
    "events_consumed", "Events handled and committed, per topic.", ["group", "topic"]
)
EVENTS_FAILED = Counter(
    "events_failed", "Handler attempts that failed (retried or dead-lettered).", ["group", "topic"]
)
EVENTS_DEAD_LETTERED = Counter(
    "events_dead_lettered", "Records sent to the dead-letter topic.", ["group", "topic"]
)
EVENTS_PUBLISHED = Counter(
    "outbox_events_published", "Outbox events the broker acknowledged, per topic.", ["topic"]
)
OUTBOX_UNPUBLISHED = Gauge(
    "outbox_unpublished_events", "Outbox rows not yet published.", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_unpublished_age_seconds",
    "Age of the oldest unpublished outbox row (0 when none waits).",
    ["service"],
)
CONSUMER_LAG = Gauge(
    "kafka_consumer_lag",
    "Records on the broker not yet consumed, per partition.",
    ["group", "topic", "partition"],
)
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use", "Database connections checked out of the pool.", ["service"]
)
DEPENDENCY_UP = Gauge(
    "dependency_up",
    "Whether a dependency answered the last readiness check (1) or not (0).",
    ["service", "dependency"],
)
UPSTREAM_LATENCY = LatencyStats(
    "gateway_upstream_duration_seconds",
    "Time for an upstream service to answer the gateway, by service and status.",
    ["upstream", "status"],
    LATENCY_BUCKETS,
)
BREAKER_OPEN = Gauge(
    "gateway_breaker_state",
    "Circuit breaker per upstream: 0 closed, 1 half-open, 2 open.",
    ["upstream"],
)
RATE_LIMITED = Counter(
    "gateway_rate_limit_rejections", "Requests refused with 429, per client.", ["client"]
)
OVERDUE_BREACHES = Counter(
    "overdue_clock_breaches", "Clocks found overdue (each breach once), per kind.", ["kind"]
)
BREAKER_STATES = {"closed": 0, "half-open": 1, "half_open": 1, "open": 2}


def http_answered(service: str, method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.observe((service, method, route, str(status)), seconds)


def event_consumed(group: str, topic: str) -> None:
    EVENTS_CONSUMED.labels(group, topic).inc()


def event_failed(group: str, topic: str) -> None:
    EVENTS_FAILED.labels(group, topic).inc()


def event_dead_lettered(group: str, topic: str) -> None:
    EVENTS_DEAD_LETTERED.labels(group, topic).inc()


def events_published(rows: Iterable[Any]) -> None:
    """Count outbox rows (anything with a `topic`) the broker acknowledged."""
    for topic, count in Counter_(row.topic for row in rows).items():
        EVENTS_PUBLISHED.labels(topic).inc(count)


def upstream_answered(upstream: str, status: int | str, seconds: float) -> None:
    UPSTREAM_LATENCY.observe((upstream, str(status)), seconds)


def rate_limited(client: str) -> None:
    RATE_LIMITED.labels(client).inc()


def overdue_breached(kind: str, count: int = 1) -> None:
    if count:
        OVERDUE_BREACHES.labels(kind).inc(count)

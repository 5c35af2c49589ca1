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

from prometheus_client import Counter, Gauge, Histogram

# Buckets in seconds, from a cached gateway hop (sub-millisecond) to a slow report (seconds).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
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
UPSTREAM_LATENCY = Histogram(
    "gateway_upstream_duration_seconds",
    "Time for an upstream service to answer the gateway, by service and status.",
    ["upstream", "status"],
    buckets=LATENCY_BUCKETS,
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


_http_children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}


def http_answered(service: str, method: str, route: str, status: int, seconds: float) -> None:
    # Looking the labelled children up once per combination keeps this off the profile.
    key = (service, method, route, status)
    children = _http_children.get(key)
    if children is None:
        children = (
            HTTP_REQUESTS.labels(service, method, route, str(status)),
            HTTP_LATENCY.labels(service, method, route),
        )
        _http_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


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


_upstream_children: dict[tuple[str, int | str], Any] = {}


def upstream_answered(upstream: str, status: int | str, seconds: float) -> None:
    child = _upstream_children.get((upstream, status))
    if child is None:
        child = _upstream_children[(upstream, status)] = UPSTREAM_LATENCY.labels(
            upstream, str(status)
        )
    child.observe(seconds)


def rate_limited(client: str) -> None:
    RATE_LIMITED.labels(client).inc()


def overdue_breached(kind: str, count: int = 1) -> None:
    if count:
        OVERDUE_BREACHES.labels(kind).inc(count)

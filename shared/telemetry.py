"""OpenTelemetry traces: one trace from the gateway through a service, its outbox relay and the
consumers of the event.

Tracing is on once a tracer provider is given to `use_provider`: `configure_tracing` gives one
exporting over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (tests give their own, with an
in-memory exporter, and take it back). Otherwise nothing is instrumented and every function
here returns at its first line, so a service without a collector pays nothing for it.

HTTP servers are traced by the maintained FastAPI instrumentation and queries by the
SQLAlchemy one. The gateway's hot-path client, the relay and the consumers get spans made
here: the relay's `publish` span continues the trace of the request that wrote the event (its
`ce_traceparent`) and replaces that header with its own, so the consumer's `process` span is
the publish span's child.
"""

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import orjson
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import tracing

TRACER_NAME = "locality-hub"
# Probes and scrapes would be most of the spans and say nothing.
EXCLUDED_URLS = "livez,readyz,metrics"
_TRACEPARENT_HEADER = "ce_traceparent"


_provider: TracerProvider | None = None


def use_provider(provider: TracerProvider | None) -> None:
    """Trace apps built from now on with `provider` (None: stop tracing new apps)."""
    global _provider
    _provider = provider
    tracing.spans_recorded = provider is not None


def enabled() -> bool:
    """Whether spans are recorded."""
    return _provider is not None


def _tracer() -> trace.Tracer:
    assert _provider is not None
    return _provider.get_tracer(TRACER_NAME)


def configure_tracing(service: str, version: str) -> None:
    """Export spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (once per process)."""
    if enabled() or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": service, "service.version": version})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    # Not made the global provider: FastAPI's own telemetry would then add a second server
    # span to every request beside the instrumentation's.
    use_provider(provider)


def instrument_app(app: FastAPI) -> None:
    if not enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls=EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
    )


def instrument_engine(engine: AsyncEngine) -> None:
    if not enabled():
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares sqlalchemy < 2.1 but its engine hooks work on 2.1 (tested).
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=_provider, skip_dep_check=True
    )


def current_traceparent() -> str | None:
    """W3C traceparent of the active span, or None when no span records."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


_NO_SPAN = nullcontext()


def client_span(name: str, **attributes: Any) -> AbstractContextManager[Any]:
    """A client span around an outgoing call (the gateway's upstream request)."""
    if _provider is None:
        return _NO_SPAN
    return _tracer().start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes)


@contextmanager
def publishing(rows: Sequence[Any]) -> Iterator[Callable[[Any], list[tuple[str, bytes]]]]:
    """Around the relay's send of `rows`: gives each row's Kafka headers, and when tracing,
    one `publish` span per row (child of the row's ce_traceparent) whose id replaces it."""
    if not enabled():
        yield _stored_headers
        return
    tracer = _tracer()
    spans: dict[int, Span] = {}
    for row in rows:
        stored = dict(orjson.loads(row.headers))
        parent = extract({"traceparent": stored.get(_TRACEPARENT_HEADER, "")})
        spans[id(row)] = tracer.start_span(
            f"{row.topic} publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": row.topic,
                "messaging.message.id": row.event_id,
                "messaging.operation.type": "publish",
            },
        )

    def headers_of(row: Any) -> list[tuple[str, bytes]]:
        headers = _stored_headers(row)
        carrier: dict[str, str] = {}
        inject(carrier, context=trace.set_span_in_context(spans[id(row)]))
        traceparent = carrier.get("traceparent")
        if traceparent is None:
            return headers
        rest = [(name, value) for name, value in headers if name != _TRACEPARENT_HEADER]
        return [*rest, (_TRACEPARENT_HEADER, traceparent.encode())]

    try:
        yield headers_of
    except BaseException as error:
        for span in spans.values():
            span.set_status(Status(StatusCode.ERROR, str(error)))
        raise
    finally:
        for span in spans.values():
            span.end()


@contextmanager
def processing(
    topic: str, event_id: str, event_type: str, traceparent: str | None
) -> Iterator[None]:
    """A consumer's `process` span, continuing the trace of the event's ce_traceparent."""
    if not enabled():
        yield
        return
    parent = extract({"traceparent": traceparent or ""})
    with _tracer().start_as_current_span(
        f"{topic} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.message.id": event_id,
            "cloudevents.event_type": event_type,
            "messaging.operation.type": "process",
        },
    ):
        yield


def _stored_headers(row: Any) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in orjson.loads(row.headers)]

"""One referral created through the gateway is one trace: gateway -> referrals -> outbox relay
publish -> the metrics consumer, each span the child of the one before."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.gateway.config import Settings as GatewaySettings
from services.gateway.main import create_app as create_gateway
from services.metrics.config import Settings as MetricsSettings
from services.metrics.main import create_app as create_metrics
from services.referrals.config import Settings as ReferralsSettings
from services.referrals.main import create_app as create_referrals
from shared import telemetry
from tests import harness
from tests.gateway.conftest import gateway_settings_values
from tests.gateway.serving import serving
from tests.harness import TokenMinter, running_app, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Apps built while this fixture lives record their spans here."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use_provider(provider)
    try:
        yield exporter
    finally:
        telemetry.use_provider(None)


def settings_for(name: str, kafka: str, public_key: Path, tmp_path: Path) -> dict:
    folder = tmp_path / name
    url = f"sqlite+aiosqlite:///{folder}/{name}.sqlite3"
    return harness.test_settings_values(folder, url, kafka, public_key)


async def test_a_referral_through_the_gateway_is_one_trace_down_to_the_metrics_consumer(
    spans: InMemorySpanExporter,
    mint: TokenMinter,
    kafka: str,
    public_key: Path,
    signing_keys: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    referrals = create_referrals(
        ReferralsSettings(**settings_for("referrals", kafka, public_key, tmp_path))
    )
    metrics = create_metrics(
        MetricsSettings(
            **settings_for("metrics", kafka, public_key, tmp_path),
            consumer_group=f"metrics-trace-{tmp_path.name}",
        )
    )
    async with serving(referrals) as referrals_url, running_app(metrics):
        gateway_settings = GatewaySettings(
            **gateway_settings_values(
                tmp_path / "gateway",
                f"sqlite+aiosqlite:///{tmp_path}/gateway.sqlite3",
                signing_keys,
                {
                    "referrals": referrals_url,
                    "actionplans": "http://127.0.0.1:9",
                    "metrics": "http://127.0.0.1:9",
                },
            )
        )
        async with running_app(create_gateway(gateway_settings)) as gateway:
            response = await gateway.post(
                "/api/v1/referrals",
                json={
                    "locality_code": "NO",
                    "channel": "phone",
                    "category_codes": ["anti_social_behaviour"],
                    "summary": "Graffiti on the underpass",
                },
                headers=mint.headers("NO-HUB", "referrals:write"),
            )
            assert response.status_code == 201, response.text
            referral_id = response.json()["id"]

            def consumed() -> list[ReadableSpan]:
                return [
                    span
                    for span in spans.get_finished_spans()
                    if span.kind is SpanKind.CONSUMER
                    and span.name == "referrals.referral process"
                    and _trace_of(span) == _trace_of(_gateway_server_span(spans))
                ]

            await wait_until(consumed, timeout_s=30)

    finished = spans.get_finished_spans()
    root = _gateway_server_span(spans)
    trace = [span for span in finished if _trace_of(span) == _trace_of(root)]
    by_id = {span.context.span_id: span for span in trace}

    def ancestors(span: ReadableSpan) -> list[str]:
        chain = []
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            chain.append(span.name)
        return chain

    consumer = next(s for s in trace if s.kind is SpanKind.CONSUMER)
    publish = next(s for s in trace if s.kind is SpanKind.PRODUCER)
    assert publish.attributes is not None
    assert publish.attributes["messaging.destination.name"] == "referrals.referral"
    assert consumer.parent is not None and consumer.parent.span_id == publish.context.span_id
    chain = ancestors(consumer)
    assert chain[0] == "referrals.referral publish"
    assert "POST /api/v1/referrals" in chain  # the referrals service's server span
    assert "POST referrals" in chain  # the gateway's client span
    assert chain[-1] == root.name
    assert any(span.name.startswith("INSERT") for span in trace)  # SQLAlchemy, same trace
    assert referral_id


def _gateway_server_span(spans: InMemorySpanExporter) -> ReadableSpan:
    """The root of the intake's trace: the server span without a parent whose trace holds the
    gateway's client call to referrals (the gateway also reads the services' OpenAPI documents,
    whose spans are roots of traces of their own)."""
    finished = spans.get_finished_spans()
    proxied = {
        _trace_of(span)
        for span in finished
        if span.kind is SpanKind.CLIENT and span.name == "POST referrals"
    }
    roots = [
        span
        for span in finished
        if span.kind is SpanKind.SERVER and span.parent is None and _trace_of(span) in proxied
    ]
    assert len(roots) == 1, [span.name for span in roots]
    return roots[0]


def _trace_of(span: ReadableSpan) -> int:
    return span.context.trace_id

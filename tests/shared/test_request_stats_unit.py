"""Request latency figures kept without locks still read as Prometheus counters and histograms."""

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from shared.request_stats import LatencyStats

pytestmark = pytest.mark.unit


def test_counts_sums_and_cumulative_buckets_match_what_was_observed() -> None:
    registry = CollectorRegistry()
    stats = LatencyStats(
        "answer_seconds",
        "Answer time.",
        ["route", "status"],
        (0.01, 0.1, 1),
        counter=("answers", "Answers."),
        histogram_drops_last_label=True,
        registry=registry,
    )
    for seconds, status in [(0.005, "200"), (0.05, "200"), (0.5, "500"), (5.0, "200")]:
        stats.observe(("/things/{id}", status), seconds)
    text = generate_latest(registry).decode()
    assert 'answers_total{route="/things/{id}",status="200"} 3.0' in text
    assert 'answers_total{route="/things/{id}",status="500"} 1.0' in text
    assert 'answer_seconds_bucket{le="0.01",route="/things/{id}"} 1.0' in text
    assert 'answer_seconds_bucket{le="0.1",route="/things/{id}"} 2.0' in text
    assert 'answer_seconds_bucket{le="1.0",route="/things/{id}"} 3.0' in text
    assert 'answer_seconds_bucket{le="+Inf",route="/things/{id}"} 4.0' in text
    assert 'answer_seconds_count{route="/things/{id}"} 4.0' in text
    assert 'answer_seconds_sum{route="/things/{id}"} 5.555' in text


def test_a_boundary_value_falls_in_its_own_bucket() -> None:
    registry = CollectorRegistry()
    stats = LatencyStats("edge_seconds", "Edge.", ["route"], (0.1, 1), registry=registry)
    stats.observe(("/x",), 0.1)
    assert 'edge_seconds_bucket{le="0.1",route="/x"} 1.0' in generate_latest(registry).decode()

"""Per-request latency figures recorded in plain Python and turned into Prometheus families only
when scraped.

prometheus-client's Counter and Histogram take a lock on every increment: a request counted
and timed cost five of them, the largest part of the gateway's added cost
(bench/observability_cost.py). Requests are recorded on the event loop's thread, so plain
list arithmetic is enough; the figures are cumulative, exactly as Prometheus expects.
"""

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString


class LatencyStats(Collector):
    """A histogram of durations per label values, and optionally a counter over them that
    keeps one more label (a status) than the histogram."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        *,
        counter: tuple[str, str] | None = None,
        histogram_drops_last_label: bool = False,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = list(labelnames)
        self._bounds = list(buckets)
        self._counter = counter
        self._drop_last = histogram_drops_last_label
        # label values -> [count, sum, per-bucket counts (the last one past every bound)]
        self._entries: dict[tuple[str, ...], list] = {}
        registry.register(self)

    def observe(self, labels: tuple[str, ...], seconds: float) -> None:
        entry = self._entries.get(labels)
        if entry is None:
            entry = self._entries[labels] = [0, 0.0, [0] * (len(self._bounds) + 1)]
        entry[0] += 1
        entry[1] += seconds
        entry[2][bisect_left(self._bounds, seconds)] += 1

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        entries = list(self._entries.items())
        if self._counter is not None:
            counter = CounterMetricFamily(
                self._counter[0], self._counter[1], labels=self._labelnames
            )
            for labels, (count, _, _) in entries:
                counter.add_metric(list(labels), count)
            yield counter
        histogram_labels = self._labelnames[:-1] if self._drop_last else self._labelnames
        merged: dict[tuple[str, ...], list] = {}
        for labels, (count, total, buckets) in entries:
            key = labels[:-1] if self._drop_last else labels
            into = merged.setdefault(key, [0, 0.0, [0] * len(buckets)])
            into[0] += count
            into[1] += total
            into[2] = [a + b for a, b in zip(into[2], buckets, strict=True)]
        histogram = HistogramMetricFamily(self._name, self._documentation, labels=histogram_labels)
        for labels, (_, total, buckets) in merged.items():
            cumulative, running = [], 0
            for bound, count in zip(
                [*map(floatToGoString, self._bounds), "+Inf"], buckets, strict=True
            ):
                running += count
                cumulative.append((bound, running))
            histogram.add_metric(list(labels), cumulative, total)
        yield histogram

    def describe(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        return iter(())

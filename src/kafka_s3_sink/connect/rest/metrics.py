"""``GET /metrics``: the worker's counters and states in the Prometheus text format.

Everything is read at scrape time (a custom collector): the record path keeps updating its
plain TaskStats attributes and pays nothing for metrics.  Counters come from the registry
that outlives tasks (engine/metrics.py), so they survive pause/resume and restarts; gauges
(in flight, lag, committed offsets) come from the tasks running now.  docs/operating.md
says what each one means and which alerts to set on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from ...engine.metrics import LATENCY_BUCKETS_S, StatsRegistry
from ...engine.sink_task import SinkTask
from ..registry import ConnectorRegistry, ConnectorState, NotFound

PREFIX = "kafka_s3_sink"
_STATES = [state.value for state in ConnectorState]


class WorkerCollector(Collector):
    def __init__(
        self,
        stats: StatsRegistry,
        registry: ConnectorRegistry,
        tasks: Callable[[], list[SinkTask]],
        health: Callable[[], tuple[str, str]] | None = None,
    ) -> None:
        self.stats = stats
        self.registry = registry
        self.tasks = tasks
        self.health = health

    def collect(self) -> Iterable[Metric]:
        yield from self._counters()
        yield from self._running()
        yield from self._states()
        if self.health is not None:
            ready = GaugeMetricFamily(
                f"{PREFIX}_ready", "1 when GET /health answers 200 (started, dependencies up)"
            )
            ready.add_metric([], 1.0 if self.health()[0] == "healthy" else 0.0)
            yield ready

    def _counters(self) -> Iterator[Metric]:
        labels = ["connector"]
        records = CounterMetricFamily(
            f"{PREFIX}_records", "Records archived (stored, committable)", labels=labels
        )
        size = CounterMetricFamily(
            f"{PREFIX}_bytes", "Bytes of objects stored (dead letters included)", labels=labels
        )
        objects = CounterMetricFamily(
            f"{PREFIX}_objects", "Objects stored (dead-letter objects included)", labels=labels
        )
        dead = CounterMetricFamily(
            f"{PREFIX}_dead_letters", "Records kept as dead letters", labels=labels
        )
        retries = CounterMetricFamily(
            f"{PREFIX}_upload_retries", "Uploads retried after a transient store error",
            labels=labels,
        )
        latency = HistogramMetricFamily(
            f"{PREFIX}_upload_duration_seconds",
            "Time of one successful object upload",
            labels=labels,
        )
        for connector, totals in self.stats.connectors():
            records.add_metric([connector], totals.records)
            size.add_metric([connector], totals.bytes)
            objects.add_metric([connector], totals.objects)
            dead.add_metric([connector], totals.dead_letters)
            retries.add_metric([connector], totals.retries)
            histogram = totals.upload_latency
            buckets, running = [], 0
            for bound, count in zip(
                [*map(str, LATENCY_BUCKETS_S), "+Inf"], histogram.counts, strict=True
            ):
                running += count
                buckets.append((bound, running))
            latency.add_metric([connector], buckets, histogram.total_s)
        yield from (records, size, objects, dead, retries, latency)

    def _running(self) -> Iterator[Metric]:
        objects = GaugeMetricFamily(
            f"{PREFIX}_inflight_objects", "Uploads in flight now", labels=["connector"]
        )
        size = GaugeMetricFamily(
            f"{PREFIX}_inflight_bytes", "Bytes of uploads in flight now", labels=["connector"]
        )
        partition_labels = ["connector", "topic", "partition"]
        lag = GaugeMetricFamily(
            f"{PREFIX}_consumer_lag",
            "Records of the partition not yet stored (from the cached high watermark)",
            labels=partition_labels,
        )
        committed = GaugeMetricFamily(
            f"{PREFIX}_committed_offset",
            "Last offset position committed to the consumer group",
            labels=partition_labels,
        )
        in_flight: dict[str, list[int]] = {}
        for task in self.tasks():
            connector = task.spec.name
            count, held = task.in_flight
            totals = in_flight.setdefault(connector, [0, 0])
            totals[0] += count
            totals[1] += held
            for (topic, partition), value in sorted(task.lags().items()):
                lag.add_metric([connector, topic, str(partition)], value)
            for (topic, partition), value in sorted(task.committed().items()):
                committed.add_metric([connector, topic, str(partition)], value)
        for connector, (count, held) in sorted(in_flight.items()):
            objects.add_metric([connector], count)
            size.add_metric([connector], held)
        yield from (objects, size, lag, committed)

    def _states(self) -> Iterator[Metric]:
        connectors = GaugeMetricFamily(
            f"{PREFIX}_connector_state",
            "1 for the connector's current state (as GET /connectors/<name>/status)",
            labels=["connector", "state"],
        )
        tasks = GaugeMetricFamily(
            f"{PREFIX}_task_state",
            "1 for the task's current state (as GET /connectors/<name>/status)",
            labels=["connector", "task", "state"],
        )
        for name in self.registry.names():
            try:
                status = self.registry.status(name)
            except NotFound:  # deleted while we scrape
                continue
            for state in _STATES:
                connectors.add_metric([name, state], float(status.state.value == state))
            for task in status.tasks:
                for state in _STATES:
                    tasks.add_metric([name, str(task.id), state], float(task.state.value == state))
        yield from (connectors, tasks)


def metrics_renderer(collector: Collector) -> Callable[[], bytes]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return lambda: generate_latest(registry)


def metrics_endpoint(render: Callable[[], bytes] | None) -> Callable[[Request], object]:
    async def answer(_: Request) -> Response:
        if render is None:
            return Response(b"", media_type=CONTENT_TYPE_LATEST)
        return Response(render(), media_type=CONTENT_TYPE_LATEST)

    return answer

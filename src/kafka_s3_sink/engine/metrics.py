"""Counters that outlive tasks: one TaskStats per (connector, task number).

Tasks come and go (pause/resume, config changes, restarts, rebalances) while a site's
dashboards want totals per connector that only grow.  Each SinkTask takes its TaskStats from
this registry instead of creating one, so a successor continues its predecessor's counts;
the scrape (connect/rest/metrics.py) reads them as they are, so the record path pays
nothing for metrics.
"""

from __future__ import annotations

from collections.abc import Iterator

from .stats import LATENCY_BUCKETS_S, LatencyHistogram, TaskStats

__all__ = ["LATENCY_BUCKETS_S", "ConnectorTotals", "StatsRegistry"]


class ConnectorTotals:
    """The sums over the tasks of one connector, computed on demand."""

    def __init__(self, stats: list[TaskStats]) -> None:
        self.records = sum(s.records for s in stats)
        self.bytes = sum(s.bytes for s in stats)
        self.objects = sum(s.objects for s in stats)
        self.dead_letters = sum(s.dead_letters for s in stats)
        self.retries = sum(s.retries for s in stats)
        self.upload_latency = LatencyHistogram()
        for s in stats:
            latency = s.upload_latency
            for i, count in enumerate(latency.counts):
                self.upload_latency.counts[i] += count
            self.upload_latency.total_s += latency.total_s
            self.upload_latency.count += latency.count


class StatsRegistry:
    def __init__(self) -> None:
        self._stats: dict[tuple[str, int], TaskStats] = {}

    def for_task(self, connector: str, task_id: int) -> TaskStats:
        """The counters of this task number of ``connector``, continued if it ran before."""
        stats = self._stats.get((connector, task_id))
        if stats is None:
            stats = self._stats[(connector, task_id)] = TaskStats()
        return stats

    def connectors(self) -> Iterator[tuple[str, ConnectorTotals]]:
        by_connector: dict[str, list[TaskStats]] = {}
        for (connector, _), stats in list(self._stats.items()):
            by_connector.setdefault(connector, []).append(stats)
        for connector, stats in sorted(by_connector.items()):
            yield connector, ConnectorTotals(stats)

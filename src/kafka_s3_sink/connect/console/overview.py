"""The overview's numbers: per connector totals, work in flight, lag per partition."""

from __future__ import annotations

from collections.abc import Callable

from ...engine.metrics import StatsRegistry
from ...engine.sink_task import SinkTask


def overview(stats: StatsRegistry, tasks: Callable[[], list[SinkTask]]) -> dict:
    connectors: dict[str, dict] = {}
    for name, totals in stats.connectors():
        latency = totals.upload_latency
        connectors[name] = {
            "records": totals.records,
            "bytes": totals.bytes,
            "objects": totals.objects,
            "dead_letters": totals.dead_letters,
            "retries": totals.retries,
            "upload_mean_s": latency.total_s / latency.count if latency.count else None,
            "in_flight_objects": 0,
            "in_flight_bytes": 0,
            "partitions": [],
        }
    for task in tasks():
        entry = connectors.setdefault(
            task.spec.name,
            {"records": 0, "bytes": 0, "objects": 0, "dead_letters": 0, "retries": 0,
             "upload_mean_s": None, "in_flight_objects": 0, "in_flight_bytes": 0,
             "partitions": []},
        )
        count, held = task.in_flight
        entry["in_flight_objects"] += count
        entry["in_flight_bytes"] += held
        committed = task.committed()
        for (topic, partition), lag in sorted(task.lags().items()):
            entry["partitions"].append(
                {
                    "topic": topic,
                    "partition": partition,
                    "task": task.task_id,
                    "lag": lag,
                    "committed": committed.get((topic, partition)),
                }
            )
    return connectors

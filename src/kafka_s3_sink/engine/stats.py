"""What a task has done so far: the counters of the progress line, the REST status and
GET /metrics.

One TaskStats per (connector, task number) for the life of the process (engine/metrics.py
keeps them): a task restarted by pause/resume, a config change or a restart request goes on
counting where its predecessor stopped, so the counters only ever grow, as Prometheus
expects.  They are plain attributes updated once per upload or dead letter, never per
record, on the event loop's thread only: no lock.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from dataclasses import dataclass, field

# Upper bounds (seconds) of the upload latency buckets: a local put takes ~1 ms, an S3 put
# of a small object ~10-50 ms, a 10 MB image or a retrying store seconds.
LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)


@dataclass
class LatencyHistogram:
    """Cumulative-on-read histogram: ``counts[i]`` uploads took at most bucket i (the last
    slot: longer than every bucket)."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_S) + 1))
    total_s: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS_S, seconds)] += 1
        self.total_s += seconds
        self.count += 1


@dataclass
class TaskStats:
    records: int = 0
    bytes: int = 0
    objects: int = 0
    dead_letters: int = 0
    retries: int = 0
    upload_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    # When an offset was last stored (or skipped): the stall watchdog's clock.
    progress_at: float = field(default_factory=time.monotonic)
    # (when, records) at the previous progress line, for the rate since then
    last_report: tuple[float, int] = field(default_factory=lambda: (time.monotonic(), 0))

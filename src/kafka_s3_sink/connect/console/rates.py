"""Records/s and bytes/s per connector over the last minutes, for the console's chart.

The counters (engine/metrics.py) only hold totals; a rate needs their history.  A sample
every two seconds of a handful of integers per connector costs nothing, and keeping the
last ten minutes of them answers the chart without Prometheus.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable

from ...engine.metrics import StatsRegistry

Sample = tuple[float, int, int]  # (wall clock s, records, bytes) of one connector


class RateHistory:
    def __init__(
        self,
        stats: StatsRegistry,
        interval_s: float = 2.0,
        keep: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stats = stats
        self.interval_s = interval_s
        self.clock = clock
        self._samples: dict[str, deque[Sample]] = {}
        self._keep = keep

    def sample(self) -> None:
        now = self.clock()
        for connector, totals in self.stats.connectors():
            samples = self._samples.setdefault(connector, deque(maxlen=self._keep))
            samples.append((now, totals.records, totals.bytes))

    async def run(self, stop: asyncio.Event) -> None:
        """Sample until ``stop``."""
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)

    def series(self) -> dict[str, list[dict[str, float]]]:
        """Per connector: one point per interval, the rates over it."""
        out: dict[str, list[dict[str, float]]] = {}
        for connector, samples in self._samples.items():
            points = []
            ordered = list(samples)
            for (t0, r0, b0), (t1, r1, b1) in zip(ordered, ordered[1:], strict=False):
                span = max(t1 - t0, 1e-6)
                points.append(
                    {"t": t1, "records_per_s": (r1 - r0) / span, "bytes_per_s": (b1 - b0) / span}
                )
            out[connector] = points
        return out

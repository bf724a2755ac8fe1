"""What a task has done so far: the counters of the progress line and the REST status."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class TaskStats:
    records: int = 0
    bytes: int = 0
    dead_letters: int = 0
    retries: int = 0
    # When an offset was last stored (or skipped): the stall watchdog's clock.
    progress_at: float = field(default_factory=time.monotonic)
    # (when, records) at the previous progress line, for the rate since then
    last_report: tuple[float, int] = field(default_factory=lambda: (time.monotonic(), 0))

"""CPU time and peak memory of a process tree, read from /proc (Linux only).

The sinks run as separate processes so that each is measured alone: the broker, the S3 server
and the benchmark driver share the same two cores but not these counters.  A sink's tree is
its process and every descendant (Kafka Connect is one JVM; `kafka-s3-sink run` one Python
process; the tree covers helpers either might start).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Direct children of pid, from every thread's children list (needs Linux >= 3.5)."""
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            kids.extend(int(k) for k in text.split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return kids


def tree(pid: int) -> list[int]:
    """pid and all its descendants that exist now."""
    found = [pid]
    i = 0
    while i < len(found):
        found.extend(_children(found[i]))
        i += 1
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, all threads, in seconds (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # The command name may hold spaces or parentheses: the fields start after the last ")".
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


class TreeMonitor:
    """Samples a process tree in a background thread: peak RSS and CPU seconds.

    The kernel keeps each process's peak (VmHWM), so sampling only has to catch processes
    before they exit; CPU of a process that exited between samples is kept from its last
    sample.  Call `cpu()` for the tree's CPU seconds now, `peak_rss_mb()` for the peak.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self._interval = interval
        self._cpu: dict[int, float] = {}
        self._hwm_kb: dict[int, int] = {}
        self._rss_sum_peak_kb = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-monitor", daemon=True)

    def __enter__(self) -> TreeMonitor:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def sample(self) -> None:
        pids = tree(self.pid)
        rss_now = 0
        with self._lock:
            for pid in pids:
                cpu = cpu_seconds(pid)
                if cpu:
                    self._cpu[pid] = max(cpu, self._cpu.get(pid, 0.0))
                hwm = _status_kb(pid, "VmHWM")
                if hwm:
                    self._hwm_kb[pid] = max(hwm, self._hwm_kb.get(pid, 0))
                rss_now += _status_kb(pid, "VmRSS")
            self._rss_sum_peak_kb = max(self._rss_sum_peak_kb, rss_now)

    def cpu(self) -> float:
        """CPU seconds of the tree so far (sampled now)."""
        self.sample()
        with self._lock:
            return sum(self._cpu.values())

    def peak_rss_mb(self) -> float:
        """Peak resident memory in MB (10^6 bytes): the largest of the summed peaks of each
        process (an upper bound when there are several) and of the sampled sums."""
        self.sample()
        with self._lock:
            return round(max(sum(self._hwm_kb.values()), self._rss_sum_peak_kb) * 1024 / 1e6, 1)


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from /proc/stat's `cpu` line.

    Two readings give how busy the whole machine was in between: near 100 % means the two
    cores, not the sink's design, set the pace.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total

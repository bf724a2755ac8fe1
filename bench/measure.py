"""Measuring one running sink: throughput over a filled topic, latency at a steady rate.

Every figure comes from outside the sink: object store times (observe.py), the sink's process
tree counters (procstat.py), its consumer groups' committed offsets.  Definitions:

- messages/s: messages archived between the first and the last object, divided by that
  span, so start-up is not in the rate (it is reported as `first_object_s`).  A message is
  archived when all its objects are stored (payload and timestamp for the reference
  configuration).  With flush.size=N an object holds N messages; Quix Streams' objects
  hold what one checkpoint gathered, so its messages are counted from the objects' lines.
- CPU s / 10k messages: the tree's CPU seconds from the moment the first object was seen to
  the end of the run, per message archived in that span (start-up excluded, as for the rate).
- peak RSS: the largest resident set of the sink's processes during the run (kernel VmHWM).
- latency: for each message sent at the steady rate, the time its last object was stored
  minus the record's timestamp (stamped by the producer at send).  A message not stored by
  the end of the drain time counts as infinitely late: p99 then reads "> drain".
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from .observe import OffsetWatch, StoredObject, object_times, wait_first_object
from .procstat import TreeMonitor, cpu_seconds, machine_jiffies
from .produce import Workload, produce_paced, record_timestamps
from .s3_server import S3Server
from .sinks import SinkHandle


def completions(
    objects: list[StoredObject], kinds: tuple[str, ...], until: float | None = None
) -> list[float]:
    """Sorted times at which each (partition, first offset) had all its `kinds` stored."""
    return [t for t, _ in _completed(objects, kinds, until)]


def _completed(
    objects: list[StoredObject], kinds: tuple[str, ...], until: float | None = None
) -> list[tuple[float, tuple[int, int]]]:
    """(time, (partition, first offset)) of each completed object group, by time."""
    times: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    for obj in objects:
        if obj.ext in kinds:
            times[(obj.partition, obj.offset)][obj.ext] = obj.stored_at
    done = sorted((max(t.values()), key) for key, t in times.items() if len(t) == len(kinds))
    return [(t, key) for t, key in done if until is None or t <= until]


def _targets(workload: Workload, flush_size: int) -> dict[int, int]:
    """Offsets a sink commits once it archived the topic: with flush.size > 1 the remainder
    of each partition below flush.size stays buffered (Confluent writes only full objects)."""
    return {p: end - end % flush_size for p, end in workload.end_offsets.items()}


def throughput(
    handle: SinkHandle,
    server: S3Server,
    bucket: str,
    watch: OffsetWatch,
    workload: Workload,
    kinds: tuple[str, ...],
    time_limit: float,
    flush_size: int = 1,
    records: Callable[[], dict[tuple[int, int], int]] | None = None,
) -> dict[str, Any]:
    """Watch a started sink archive `workload`; stop watching at the end or at time_limit.

    time_limit counts from the first object, so a slow start does not shorten the work.
    `records`, for sinks whose objects hold a varying number of messages (Quix Streams
    writes what one checkpoint gathered): called after watching, it maps (partition, first
    offset) to the messages in that object, and messages are counted with it; flush_size
    then only sets the committed offsets to wait for.
    """
    with TreeMonitor(handle.pid) as monitor:
        seen = wait_first_object(server, bucket, time.monotonic() + 120)
        if seen is None:
            return {"error": "no object within 120 s of start", "notes": handle.notes}
        cpu_first = monitor.cpu()
        server_first, machine_first = cpu_seconds(server.pid), machine_jiffies()
        deadline = time.monotonic() + time_limit
        if handle.groups:
            finished = watch.wait(handle.groups, _targets(workload, flush_size), deadline)
        else:  # the naive loop exits by itself when done
            while handle.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            finished = handle.proc.poll() == 0
        end = time.time()
        cpu_end = monitor.cpu()
        server_cpu = cpu_seconds(server.pid) - server_first
        (busy_now, total_now), (busy_then, total_then) = machine_jiffies(), machine_first
        busy, total = busy_now - busy_then, total_now - total_then
        peak_rss = monitor.peak_rss_mb()
    objects = object_times(server, bucket)
    done = _completed(objects, kinds, until=end)
    counts = records() if records is not None else None

    def size(key: tuple[int, int]) -> int:
        return counts.get(key, 0) if counts is not None else flush_size

    messages = sum(size(key) for _, key in done)
    at_first = sum(size(key) for t, key in done if t <= seen)
    span = done[-1][0] - done[0][0] if len(done) > 1 else 0.0
    # The first object's messages were archived before the span starts.
    rate = (messages - size(done[0][1])) / span if span > 0 else None
    result: dict[str, Any] = {
        "messages": messages,
        "of": workload.messages,
        "complete": finished and messages >= sum(_targets(workload, flush_size).values()),
        "seconds": round(span, 2),
        "msgs_per_s": round(rate, 1) if rate else None,
        "mb_per_s": round(rate * workload.payload_bytes / 1e6, 2) if rate else None,
        "objects_per_s": round((len(done) - 1) * len(kinds) / span, 1) if rate else None,
        "peak_rss_mb": peak_rss,
        "cpu_s_per_10k": (
            round((cpu_end - cpu_first) * 1e4 / (messages - at_first), 2)
            if messages > at_first
            else None
        ),
        # What else was busy: the S3 server's CPU per 10k messages, and the share of both
        # cores in use from the first object to the end (all processes of the machine).
        "s3_cpu_s_per_10k": (
            round(server_cpu * 1e4 / (messages - at_first), 2) if messages > at_first else None
        ),
        "machine_busy": round(busy / total, 2) if total else None,
        "first_object_s": round(min(o.stored_at for o in objects) - handle.started_wall, 2),
        "ready_s": round(handle.ready_s, 2) if handle.ready_s is not None else None,
    }
    if handle.notes:
        result["notes"] = handle.notes
    return result


def _count_objects(server: S3Server, bucket: str) -> int:
    return server.count_objects(bucket)


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; inf values (never stored) sort last."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency(
    handle: SinkHandle,
    server: S3Server,
    bucket: str,
    bootstrap: str,
    topic: str,
    kinds: tuple[str, ...],
    rate: float,
    seconds: float,
    drain: float,
    warmup: int = 10,
) -> dict[str, Any]:
    """Send at `rate` for `seconds` to a sink already started on an empty topic; latencies.

    `warmup` messages go first and must be stored before the paced run: the latency is that
    of a running sink, not of its start-up.
    """
    with TreeMonitor(handle.pid) as monitor:
        produce_paced(bootstrap, topic, 1024, rate=50, seconds=warmup / 50)
        deadline = time.monotonic() + 120
        while _count_objects(server, bucket) < warmup * len(kinds):
            if time.monotonic() > deadline or handle.proc.poll() is not None:
                return {"error": "warm-up messages not stored within 120 s"}
            time.sleep(0.2)
        sent = produce_paced(bootstrap, topic, 1024, rate=rate, seconds=seconds)
        total = warmup + sent["messages"]
        deadline = time.monotonic() + drain
        while time.monotonic() < deadline:
            if _count_objects(server, bucket) >= total * len(kinds):
                break
            time.sleep(0.25)
        peak_rss = monitor.peak_rss_mb()
    stamps = record_timestamps(bootstrap, topic, total)
    objects = object_times(server, bucket)
    stored: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    for obj in objects:
        if obj.ext in kinds:
            stored[(obj.partition, obj.offset)][obj.ext] = obj.stored_at
    latencies = []
    for key, sent_at in stamps.items():
        if sent_at < sent["started_wall"] - 0.001:
            continue  # a warm-up message
        times = stored.get(key, {})
        latencies.append(max(times.values()) - sent_at if len(times) == len(kinds) else math.inf)
    if not latencies:
        return {"error": "no paced message read back"}
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    missing = sum(1 for v in latencies if math.isinf(v))
    return {
        "rate": rate,
        "messages": len(latencies),
        "send_s": sent["send_s"],
        "not_stored": missing,
        "p50_ms": round(p50 * 1000, 1) if math.isfinite(p50) else None,
        "p99_ms": round(p99 * 1000, 1) if math.isfinite(p99) else None,
        "max_ms": round(max(latencies) * 1000, 1) if not missing else None,
        "drain_s": drain,
        "peak_rss_mb": peak_rss,
    }


def consumer_latency(bootstrap: str, topic: str, rate: float, seconds: float) -> dict[str, Any]:
    """The latency floor: a bare consumer's receive time minus the send time, same pacing.

    Runs in the driver (a thread consumes while this thread produces), so it shares the GIL
    with the producer: if anything, an overestimate of what the broker costs.
    """
    import threading

    from confluent_kafka import Consumer

    received: dict[tuple[int, int], float] = {}
    stop = threading.Event()
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-latency-floor-{time.monotonic_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )

    def loop() -> None:
        consumer.subscribe([topic])
        while not stop.is_set():
            # poll returns as soon as one message is there; consume(n, timeout) would wait
            # for n messages or the whole timeout, and that wait would be measured.
            msg = consumer.poll(0.05)
            if msg is not None and msg.error() is None:
                received[(msg.partition(), msg.offset())] = time.time()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        produce_paced(bootstrap, topic, 1024, rate=50, seconds=10 / 50)
        deadline = time.monotonic() + 30
        while len(received) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        sent = produce_paced(bootstrap, topic, 1024, rate=rate, seconds=seconds)
        time.sleep(2)
    finally:
        stop.set()
        thread.join(timeout=10)
        consumer.close()
    stamps = record_timestamps(bootstrap, topic, 10 + sent["messages"])
    latencies = [
        received.get(key, math.inf) - at
        for key, at in stamps.items()
        if at >= sent["started_wall"] - 0.001
    ]
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    return {
        "rate": rate,
        "messages": len(latencies),
        "send_s": sent["send_s"],
        "not_stored": sum(1 for v in latencies if math.isinf(v)),
        "p50_ms": round(p50 * 1000, 1) if math.isfinite(p50) else None,
        "p99_ms": round(p99 * 1000, 1) if math.isfinite(p99) else None,
        "max_ms": round(max(latencies) * 1000, 1) if math.isfinite(max(latencies)) else None,
        "drain_s": 2,
        "peak_rss_mb": None,
    }

"""Quix Streams as a peer row: its Application and its own S3FileSink, measured like the others.

Quix Streams (PyPI `quixstreams`) is installed into a venv of its own in the bench cache on
first use, as profiling.py installs py-spy: it pins an older confluent-kafka (2.12.x for
3.28.1) than the project's venv, so it cannot share it.  The application is bench/quix_app.py,
run by that venv's python as its own process; `run_quix` yields a `SinkHandle` with its pid
and consumer group, so `measure.throughput` follows its committed offsets and its process
tree exactly as for the other sinks.

How Quix batches, and the two modes:
- Quix's S3FileSink is a BatchingSink: every record goes into a per-partition batch, and at
  each checkpoint every non-empty batch becomes one object (one `put_object`), then the
  offsets are committed.  A checkpoint closes after `commit_every` records counted over *all*
  assigned partitions, or `commit_interval` seconds, whichever comes first.  There is no
  per-partition size, unlike Confluent's flush.size.
- `batch`: JSON documents (value_deserializer="json"), written as JSON Lines.  commit_every =
  flush_size x partitions (3,000 for flush.size=1000 and 3 partitions), so each partition's
  object holds about 1,000 records (the exact count varies with how the consumer interleaves
  partitions, 56 to 1,876 in one run; `stored_records` counts them, and throughput counts
  with it).
  commit_interval = 10 s: long enough that the count, not the clock, closes checkpoints while
  the topic flows (Quix passed 3,000 records in 0.7 to 2 s on this busy machine), so objects
  keep their size when the machine is slow.  The remainder below 3,000 is written by the
  clock after the topic ends (Confluent keeps it unwritten); as for the other sinks it is left
  out of the rate: the watch waits for the last checkpoint closed by the count
  (`CheckpointWatch`), and the remainder is only in the record check.
- `message`: commit_every=1, so every record closes a checkpoint: one object per record, then
  a synchronous offset commit, one after another.  That is the closest Quix comes to one
  object per message; it is honest (nothing is buffered across records) and slow.  Values
  are the raw bytes (the 1 KB topic holds SINETStream messages), written as a base64 string
  in Quix's JSON Lines format, as Kafka Connect's JsonConverter writes bytes.  One object per
  message, where the reference deployment's sinks write two (payload and timestamp).

After the run, `record_check` reads back every object and counts its lines: the records in
the store must tile each partition from offset 0 up to what the group committed.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import cache_dir
from .guard import guard
from .measure import throughput
from .observe import OffsetWatch
from .produce import Workload
from .s3_server import S3Server, stop_process_group
from .sinks import SinkHandle

if TYPE_CHECKING:
    from .run import Bench

QUIXSTREAMS_VERSION = "3.28.1"
APP = Path(__file__).resolve().parent / "quix_app.py"
EXT = ".jsonl"
LABEL = "Quix Streams"
# Checkpoint settings of each mode (see the module docstring for why).
BATCH_COMMIT_INTERVAL_S = 10.0
MESSAGE_COMMIT_INTERVAL_S = 5.0  # Quix's default; commit_every=1 closes every checkpoint first
# The objects quix_app.py names: <topic>+<partition>+<first offset, 10 digits>.jsonl
_KEY = re.compile(r"\+(?P<partition>\d+)\+(?P<offset>\d{10})\.jsonl$")


def quix_python() -> Path:
    """The python of the Quix Streams venv in the bench cache; made on first use (~2 min)."""
    venv = cache_dir() / f"quixstreams-{QUIXSTREAMS_VERSION}-venv"
    python = venv / "bin" / "python"
    # Written last: a venv whose install was cut short is made again, not used half-done.
    marker = venv / ".installed"
    if not marker.exists():
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300
        )
        # The s3 extra brings boto3 and the type stubs S3FileSink imports at run time.
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             f"quixstreams[s3]=={QUIXSTREAMS_VERSION}"],
            check=True,
            timeout=900,
        )  # fmt: skip
        marker.write_text(QUIXSTREAMS_VERSION + "\n")
    return python


def mode_settings(mode: str, partitions: int, flush_size: int) -> dict[str, Any]:
    """quix_app.py's value deserializer and checkpoint settings for one mode."""
    if mode == "batch":
        return {"values": "json", "commit_every": flush_size * partitions,
                "commit_interval": BATCH_COMMIT_INTERVAL_S}  # fmt: skip
    if mode == "message":
        return {"values": "bytes", "commit_every": 1,
                "commit_interval": MESSAGE_COMMIT_INTERVAL_S}  # fmt: skip
    raise ValueError(f"mode must be batch or message, not {mode!r}")


class CheckpointWatch(OffsetWatch):
    """Waits for a total of committed records over all partitions, not for per-partition
    offsets: Quix's count closes a checkpoint every `commit_every` records over all
    partitions, so the last one the count closes is at a total, split between partitions as
    the consumer interleaved them.  Per-partition targets (Confluent's full objects) might
    only be reached by the remainder the clock writes `commit_interval` later."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, total: int) -> None:
        super().__init__(bootstrap, topic, partitions)
        self.total = total

    def wait(self, groups: list[str], targets: dict[int, int], deadline: float,
             interval: float = 0.25) -> bool:  # fmt: skip
        """Until every group committed `total` records (targets are not used)."""
        while time.monotonic() < deadline:
            if all(sum(self.committed(group).values()) >= self.total for group in groups):
                return True
            time.sleep(interval)
        return False


@contextlib.contextmanager
def run_quix(
    workdir: Path,
    bootstrap: str,
    topic: str,
    s3: S3Server,
    bucket: str,
    mode: str,
    partitions: int = 3,
    flush_size: int = 1000,
    time_limit: float = 600.0,
) -> Iterator[SinkHandle]:
    """bench/quix_app.py in the Quix venv on `topic`, writing to `bucket` of `s3`.

    `mode`: "batch" or "message" (module docstring).  `time_limit` bounds the app by itself
    (it stops gracefully then), in case this process dies without stopping it.
    """
    python = quix_python()
    workdir.mkdir(parents=True, exist_ok=True)
    settings = mode_settings(mode, partitions, flush_size)
    group = f"quix-bench-{uuid.uuid4().hex[:8]}"  # a new group: it starts at offset 0
    cmd = [
        str(python), str(APP),
        "--bootstrap", bootstrap, "--topic", topic, "--group", group,
        "--endpoint", s3.endpoint, "--bucket", bucket, "--region", s3.region,
        "--access-key", s3.access_key, "--secret-key", s3.secret_key,
        "--values", settings["values"],
        "--commit-every", str(settings["commit_every"]),
        "--commit-interval", str(settings["commit_interval"]),
        "--time-limit", str(time_limit),
    ]  # fmt: skip
    log = (workdir / "quix.log").open("wb")
    started_wall = time.time()
    proc = subprocess.Popen(
        cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    handle = SinkHandle(LABEL, proc.pid, proc, started_wall, groups=[group])
    handle.notes.append(
        f"quixstreams {QUIXSTREAMS_VERSION}, S3FileSink + JSON Lines, "
        f"commit_every={settings['commit_every']}, commit_interval={settings['commit_interval']} s"
    )
    try:
        yield handle
    finally:
        # SIGTERM is Quix's graceful stop: the open checkpoint is written and committed.
        stop_process_group(proc, grace=30)
        log.close()


def stored_records(server: S3Server, bucket: str) -> dict[tuple[int, int], int]:
    """(partition, first offset) -> records (JSON lines) in each object quix_app.py wrote."""
    found: dict[tuple[int, int], int] = {}
    root = server.data_dir / bucket if server.data_dir is not None else None
    if root is not None and root.is_dir():
        # s3s-fs keeps each object as a file: read them there, not through 1,000s of GETs.
        for path in root.rglob("*" + EXT):
            match = _KEY.search(path.name)
            if match and path.is_file():
                key = (int(match["partition"]), int(match["offset"]))
                found[key] = path.read_bytes().count(b"\n")
        return found
    client = server.boto3_client()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            name = item["Key"].replace(" ", "+")  # s3s-fs lists "+" as " "
            match = _KEY.search(name)
            if match:
                body = client.get_object(Bucket=bucket, Key=name)["Body"].read()
                found[(int(match["partition"]), int(match["offset"]))] = body.count(b"\n")
    return found


def record_check(records: dict[tuple[int, int], int], committed: dict[int, int],
                 workload: Workload) -> dict[str, Any]:  # fmt: skip
    """Every committed record is in the store, once: per partition, the objects' ranges
    [first offset, first offset + lines) must follow each other from 0 without a gap or an
    overlap, and reach at least the committed offset."""
    problems = []
    for partition, end in sorted(workload.end_offsets.items()):
        starts = sorted((off, n) for (p, off), n in records.items() if p == partition)
        upto = 0
        for first, lines in starts:
            if first != upto:
                kind = "gap" if first > upto else "overlap"
                problems.append(f"partition {partition}: {kind} at offset {upto} (next {first})")
            upto = max(upto, first + lines)
        if upto < committed.get(partition, 0):
            problems.append(
                f"partition {partition}: committed {committed[partition]} but stored up to {upto}"
            )
        if upto > end:
            problems.append(f"partition {partition}: {upto} records stored, topic holds {end}")
    stored = sum(records.values())
    done = sum(committed.values())
    if not problems and done == workload.messages:
        check = f"ok: all {workload.messages:,} records in the store"
    elif not problems:
        check = f"ok up to the commits: {stored:,} stored, {done:,} committed (run cut short)"
    else:
        check = "SHORT: " + "; ".join(problems[:5])
    return {"records_in_store": stored, "records_committed": done, "record_check": check}


def quix_row(bench: Bench, workload: Workload, mode: str, flush_size: int = 1000) -> dict[str, Any]:
    """One measured Quix row on a filled topic; `bench.watch` must follow workload.topic.

    Batch mode is given the batch cases' time (`fast_limit_s`) and waits for the last
    checkpoint the count closes (`CheckpointWatch`): on the benchmark's round-robin topics
    that is as many records as Confluent's full objects hold (18,000 of 20,000), which is
    what `complete` compares with.  Per-message mode is cut at `slow_limit_s` after its first
    object, as Kafka Connect is.
    """
    plan, offsets = bench.plan, bench.watch
    assert offsets is not None
    watch = offsets  # what throughput waits for: per-partition offsets, or (batch) a total
    bucket = bench.bucket(f"{mode}-quix")
    batch = mode == "batch"
    limit = plan["fast_limit_s"] if batch else plan["slow_limit_s"]
    partitions = len(workload.end_offsets)
    if batch:
        every = mode_settings(mode, partitions, flush_size)["commit_every"]
        watch = CheckpointWatch(bench.broker.bootstrap, workload.topic, partitions,
                                workload.messages // every * every)  # fmt: skip
    with run_quix(bench.work / f"{workload.topic}-quix-{mode}", bench.broker.bootstrap,
                  workload.topic, bench.s3, bucket, mode, partitions=partitions,
                  flush_size=flush_size, time_limit=limit + 300) as handle:  # fmt: skip
        row = throughput(handle, bench.s3, bucket, watch, workload, (EXT,), limit,
                         flush_size=flush_size if batch else 1,
                         records=lambda: stored_records(bench.s3, bucket))  # fmt: skip
        if batch:
            # Not measured, only checked: let the clock write the remainder (within one
            # commit_interval) so that the record check covers the whole topic.
            drain = time.monotonic() + BATCH_COMMIT_INTERVAL_S + 20
            offsets.wait(handle.groups, dict(workload.end_offsets), drain)
    # After the stop, which wrote and committed Quix's last checkpoint.
    committed = offsets.committed(handle.groups[0])
    row.update(record_check(stored_records(bench.s3, bucket), committed, workload))
    if not batch:
        row.setdefault("notes", []).append(
            "one object per message (the reference sinks write two: payload and timestamp)"
        )
    return row


def quix_rows(bench: Bench, workload: Workload, mode: str) -> list[dict[str, Any]]:
    """The Quix row of a case, as run.py's other rows: a failure becomes a row saying why."""
    label = LABEL if mode == "batch" else f"{LABEL} (1 object/msg)"
    row = guard(label, lambda: quix_row(bench, workload, mode))
    return [row]

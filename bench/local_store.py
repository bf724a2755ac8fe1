"""The local store (`STORE_URL=file://`): files/s against fsync per file, in one run.

    .venv/bin/python -m bench.local_store [--quick] [--concurrency 64] [--dir DIR] [--no-service]

Three measurements, one after another on the same disk:

1. **fsync per file** (the anchor): what the local store did before group commit, a raw
   loop per file of write, fsync, rename, fsync of the folder, from `concurrency` threads.
2. **LocalObjectStore.put** (group commit) with `concurrency` puts in flight.
3. **the service**: `kafka-s3-sink run` with `STORE_URL=file://...` archiving the 1 KB
   topic, one payload and one timestamp object per message, as the reference does: first
   with the store of `OLD_STORE_REV` (fsync per file; the rest of the service as it is
   now), then as it is.

(1) and (2) write 1 KB and 100 B files (payload-like and timestamp-like) under the keys the
service uses (three partitions: three folders), and are each run `repeats` times,
alternating, so that both see the same share of a busy machine; the mean is reported.  The
service row counts a file as stored when it was renamed onto its key (its ctime; its put
returns one flush later), and is timed from the first file to the last like
bench/measure.py's rows.  Files go to a folder on disk (not tmpfs: a flush there costs
nothing); the result says which file system it was.

On its own this module starts a broker and fills a topic for (3); bench/run.py calls
`local_case(...)` with its own broker and topic (case key "local").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
import types
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from kafka_s3_sink.store.local import LocalObjectStore

from .baseline import baseline_src
from .cache import cache_dir
from .measure import completions
from .observe import _KEY, OffsetWatch, StoredObject
from .procstat import TreeMonitor
from .produce import Workload
from .sinks import ks3_env, run_kafka_s3_sink

KS3_KINDS = (".bin", "-timestamp.txt")
# The last commit before the group-commit store, whose local store wrote each file with
# fsync per file: the service runs once with that store (and the rest as it is now).
OLD_STORE_REV = "2649442"
OLD_SERVICE = f"kafka-s3-sink with the store of {OLD_STORE_REV} (fsync per file), 1 KB topic"
NEW_SERVICE = "kafka-s3-sink, 1 KB topic"
PARTITIONS = 3
SIZES = (1024, 100)

PLANS: dict[str, dict[str, Any]] = {
    "full": {"files": 20_000, "time_limit_s": 15, "repeats": 2, "messages": 20_000,
             "service_limit_s": 120},
    "quick": {"files": 3_000, "time_limit_s": 6, "repeats": 1, "messages": 2_000,
              "service_limit_s": 60},
}  # fmt: skip


def file_system(path: Path) -> str:
    """The type and device of the file system holding `path` (from /proc/self/mounts)."""
    best, kind = "", "unknown"
    resolved = str(path.resolve())
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return kind
    for line in lines:
        device, mount, fstype = line.split()[:3]
        inside = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, f"{fstype} on {device}"
    return kind


def _key(index: int) -> str:
    """The index-th file: payload and timestamp objects alternate, in three partitions."""
    message, kind = divmod(index, 2)
    partition = message % PARTITIONS
    ext = KS3_KINDS[kind]
    return f"topics/bench/partition={partition}/bench+{partition}+{message:010d}{ext}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_per_file(
    root: Path, size: int, count: int, concurrency: int, time_limit: float
) -> dict[str, Any]:
    """The anchor: the old store's loop (write, fsync, rename, fsync the folder) per file."""
    bucket, temp = root / "bucket", root / "tmp"
    temp.mkdir(parents=True)
    for partition in range(PARTITIONS):
        (bucket / f"topics/bench/partition={partition}").mkdir(parents=True)
    body = os.urandom(size)
    lock = threading.Lock()
    counter = iter(range(count))
    done = [0]
    deadline = time.monotonic() + time_limit

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            final = bucket / _key(index)
            path = temp / uuid.uuid4().hex
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(path, final)
            _fsync_dir(final.parent)
            with lock:
                done[0] += 1

    cpu0, t0 = _cpu(), time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _row(size, concurrency, done[0], time.monotonic() - t0, _cpu() - cpu0)


def _cpu() -> float:
    """CPU seconds of this process (every thread), user and system."""
    times = os.times()
    return times.user + times.system


def _row(size: int, concurrency: int, files: int, seconds: float, cpu: float,
         **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "size_bytes": size,
        "concurrency": concurrency,
        "files": files,
        "seconds": round(seconds, 2),
        "files_per_s": round(files / seconds, 1) if seconds else None,
        "cpu_s_per_10k": round(cpu * 1e4 / files, 2) if files else None,
        **extra,
    }


def store_puts(
    root: Path,
    size: int,
    count: int,
    concurrency: int,
    time_limit: float,
    sync: str | None = None,
) -> dict[str, Any]:
    """LocalObjectStore.put as the service makes it, `concurrency` puts in flight; `sync`
    picks the barrier ("syncfs", "fsync"; None: the store's default)."""
    store = LocalObjectStore(root, "bucket", sync=sync)
    body = os.urandom(size)
    done = [0]

    async def go() -> dict[str, Any]:
        await store.check()
        # The folders are made and synced once per process (in the service too): not timed.
        for index in range(2 * PARTITIONS):
            await store.put(_key(index), body)
        rounds0, cpu0, t0 = store.rounds, _cpu(), time.monotonic()
        counter = iter(range(count))
        deadline = t0 + time_limit

        async def worker() -> None:
            while time.monotonic() < deadline:
                index = next(counter, None)
                if index is None:
                    return
                await store.put(_key(index), body)
                done[0] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds, cpu, rounds = time.monotonic() - t0, _cpu() - cpu0, store.rounds - rounds0
        await store.close()
        return _row(size, concurrency, done[0], seconds, cpu, sync=store.sync, rounds=rounds,
                    files_per_round=round(done[0] / rounds, 1) if rounds else None)  # fmt: skip

    return asyncio.run(go())


def compare(base: Path, files: int, concurrency: int, time_limit: float,
            repeats: int, sync: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Anchor and store, alternating, for each size; means of `repeats` runs each."""
    out: dict[str, Any] = {}
    for size in SIZES:
        runs: dict[str, list[dict[str, Any]]] = {"fsync per file": [], "group commit": []}
        for _ in range(repeats):
            for label, measure in (("fsync per file", fsync_per_file),
                                   ("group commit", partial(store_puts, sync=sync))):  # fmt: skip
                # Nothing is deleted until the end of the run: ext4 skips the inodes freed in
                # the last seconds when it allocates new ones, and a deletion of thousands of
                # files slowed every file creation after it tenfold.
                root = base / f"{label.split()[0]}-{size}-{uuid.uuid4().hex[:6]}"
                runs[label].append(measure(root, size, files, concurrency, time_limit))
        for label, items in runs.items():
            rates = [item["files_per_s"] or 0.0 for item in items]
            row = dict(items[-1])
            row["files_per_s"] = round(sum(rates) / len(rates), 1)
            row["runs_files_per_s"] = rates
            out[f"{label}, {size} B"] = row
    return out


def _ratios(rows: dict[str, dict[str, Any]]) -> None:
    """Each row's files/s over the anchor's of the same file size (the service: 1 KB)."""
    for row in rows.values():
        anchor = rows.get(f"fsync per file, {row.get('size_bytes', SIZES[0])} B", {})
        if row.get("files_per_s") and anchor.get("files_per_s"):
            row["vs_fsync_per_file"] = round(row["files_per_s"] / anchor["files_per_s"], 2)


def _stored_files(bucket_dir: Path) -> list[StoredObject]:
    """Every Confluent-named file under bucket_dir, stamped with when it got its name.

    The ctime, not the mtime: the rename onto the key sets it, while the mtime is when the
    temporary file was written, a round earlier.
    """
    found = []
    for path in bucket_dir.rglob("*"):
        match = _KEY.search(path.name)
        if match is None or not path.is_file():
            continue
        stat = path.stat()
        found.append(StoredObject(int(match["partition"]), int(match["offset"]),
                                  match["ext"], stat.st_ctime_ns / 1e9, stat.st_size))  # fmt: skip
    return found


def _has_a_file(directory: Path) -> bool:
    for _, _, names in os.walk(directory):
        if any(not name.startswith(".") for name in names):
            return True
    return False


def service(
    work: Path,
    bootstrap: str,
    workload: Workload,
    watch: OffsetWatch,
    time_limit: float,
    launcher: list[str] | None = None,
) -> dict[str, Any]:
    """kafka-s3-sink archiving `workload` into a local folder: files/s, CPU, peak RSS.

    `launcher`: another revision of the service (bench/baseline.py), else this one.
    """
    root, bucket = work / "data", "bench"
    # ks3_env's S3 settings are dropped: STORE_URL makes the service write to the folder.
    stub = types.SimpleNamespace(endpoint="", access_key="", secret_key="", region="")
    env = ks3_env(bootstrap, workload.topic, stub, bucket)  # type: ignore[arg-type]
    for key in ("S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_KEY", "S3_REGION"):
        env.pop(key, None)
    env["STORE_URL"] = f"file://{root}"
    bucket_dir = root / bucket
    with (
        run_kafka_s3_sink(work, env, launcher=launcher) as handle,
        TreeMonitor(handle.pid) as monitor,
    ):
        deadline = time.monotonic() + 120
        while not (bucket_dir.is_dir() and _has_a_file(bucket_dir)):
            if time.monotonic() > deadline or handle.proc.poll() is not None:
                return {"error": "no file within 120 s of start (see kafka-s3-sink.log)"}
            time.sleep(0.02)
        seen = time.time()
        cpu_first = monitor.cpu()
        finished = watch.wait(handle.groups, workload.end_offsets, time.monotonic() + time_limit)
        end = time.time()
        cpu = monitor.cpu() - cpu_first
        peak_rss = monitor.peak_rss_mb()
    done = completions(_stored_files(bucket_dir), KS3_KINDS, until=end)
    span = done[-1] - done[0] if len(done) > 1 else 0.0
    rate = (len(done) - 1) / span if span > 0 else None
    after_first = sum(1 for t in done if t > seen)
    return {
        "messages": len(done),
        "of": workload.messages,
        "complete": finished and len(done) >= workload.messages,
        "seconds": round(span, 2),
        "msgs_per_s": round(rate, 1) if rate else None,
        "files_per_s": round(rate * len(KS3_KINDS), 1) if rate else None,
        # Per 10k files, as the other rows (two files per message).
        "cpu_s_per_10k": (
            round(cpu * 1e4 / (after_first * len(KS3_KINDS)), 2) if after_first else None
        ),
        "peak_rss_mb": peak_rss,
        "first_file_s": round(done[0] - handle.started_wall, 2) if done else None,
    }


def old_store_launcher(rev: str = OLD_STORE_REV) -> list[str]:
    """`kafka_s3_sink.cli` as it is now, but with store/local.py of `rev` in place of the
    group-commit store: the service's own old limit, with nothing else changed."""
    old = baseline_src(rev) / "kafka_s3_sink" / "store" / "local.py"
    code = (
        "import importlib.util, sys; "
        "import kafka_s3_sink.store as store, kafka_s3_sink.store.factory as factory; "
        "spec = importlib.util.spec_from_file_location("
        f"'kafka_s3_sink.store.local', {str(old)!r}); "
        "old = importlib.util.module_from_spec(spec); spec.loader.exec_module(old); "
        "store.LocalObjectStore = factory.LocalObjectStore = old.LocalObjectStore; "
        "from kafka_s3_sink.cli import main; sys.exit(main())"
    )
    return [sys.executable, "-c", code]


def local_case(
    work: Path,
    bootstrap: str,
    workload: Workload,
    watch: OffsetWatch,
    quick: bool = False,
    concurrency: int = 64,
    with_service: bool = True,
    sync: str | None = None,
) -> dict[str, Any]:
    """Everything above, as bench/run.py's results["local_store"] (report.local_store_*)."""
    plan = PLANS["quick" if quick else "full"]
    work.mkdir(parents=True, exist_ok=True)
    rows = compare(work / "raw", plan["files"], concurrency, plan["time_limit_s"],
                   plan["repeats"], sync)  # fmt: skip
    if with_service:
        # The service before group commit first, then as it is now, on the same topic.
        for name, launcher in ((OLD_SERVICE, "old"), (NEW_SERVICE, None)):
            try:
                command = old_store_launcher() if launcher else None
                rows[name] = service(work / f"service-{launcher or 'now'}", bootstrap,
                                     workload, watch, plan["service_limit_s"], command)  # fmt: skip
            except Exception as error:  # noqa: BLE001 - reported in the row, the run goes on
                rows[name] = {"error": f"{type(error).__name__}: {error}"}
    _ratios(rows)
    old, new = rows.get(OLD_SERVICE, {}), rows.get(NEW_SERVICE, {})
    if old.get("files_per_s") and new.get("files_per_s"):
        new["vs_old_service"] = round(new["files_per_s"] / old["files_per_s"], 2)
    return {
        "directory": str(work),
        "file_system": file_system(work),
        "concurrency": concurrency,
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer files, one run each")
    parser.add_argument("--concurrency", type=int, default=64, help="puts/threads in flight")
    parser.add_argument(
        "--dir",
        type=Path,
        default=cache_dir() / "local-store",
        help="where the files go: a folder on disk (default: in the bench cache)",
    )
    parser.add_argument("--no-service", action="store_true", help="skip the service row")
    parser.add_argument(
        "--sync",
        choices=["syncfs", "fsync"],
        help="the store's barrier in the put rows (default: its own, syncfs on Linux 5.8+)",
    )
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    from kafka_s3_sink.devtools.kafka_broker import LocalKafkaBroker

    from .produce import fill
    from .report import local_store_text

    plan = PLANS["quick" if args.quick else "full"]
    with tempfile.TemporaryDirectory(prefix="bench-local-", dir=args.dir) as tmp:
        work = Path(tmp)
        if args.no_service:
            rows = compare(work / "raw", plan["files"], args.concurrency, plan["time_limit_s"],
                           plan["repeats"], args.sync)  # fmt: skip
            _ratios(rows)
            result = {"directory": str(work), "file_system": file_system(work),
                      "concurrency": args.concurrency, "rows": rows}  # fmt: skip
        else:
            with LocalKafkaBroker(work / "kafka") as broker:
                topic = broker.create_topic("bench-1k", PARTITIONS)
                print("filling bench-1k with the SINETStream writer", flush=True)
                workload = fill(broker.bootstrap, topic, PARTITIONS, 1024, plan["messages"])
                watch = OffsetWatch(broker.bootstrap, topic, PARTITIONS)
                result = local_case(work, broker.bootstrap, workload, watch,
                                    args.quick, args.concurrency, sync=args.sync)  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print()
    print(local_store_text({"local_store": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

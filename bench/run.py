"""The benchmark of issue 4: kafka-s3-sink, Kafka Connect and a naive loop, side by side.

    .venv/bin/python -m bench.run [--quick] [--s3 fast|moto] [--out bench/out] [--profile]

One Kafka broker and one S3 server on 127.0.0.1; 3-partition topics filled with SINETStream
messages by the real writer; then, one after another on the same data and servers: the raw
limits (PUT rate with many requests in flight, bare consume rate), each sink on 1 KB and
100 KB payloads one object per message, batch mode (flush.size=1000, bytearray and JSON), and
latency at a steady 200 messages/s.  Prints the table, writes <out>/results.json, and (full
runs) bench/RESULTS.md.  Every wait is bounded: about 12 minutes in full, 3 with --quick.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kafka_s3_sink.devtools.kafka_broker import DEFAULT_VERSION, LocalKafkaBroker
from kafka_s3_sink.settings.variables import OPTIONS_BY_KEY

from . import profiling
from .baseline import BASELINE_REV, baseline_launcher
from .delay_proxy import DelayProxy, run_delay_proxy
from .guard import guard as _guard
from .local_store import local_case
from .measure import consumer_latency, latency, throughput
from .observe import OffsetWatch
from .produce import Workload, fill, fill_json
from .quix_peer import quix_rows
from .raw_limits import measure_consume_limit, measure_put_limit
from .report import table, verdict_text, write_results_md
from .s3_server import S3Server, run_fast_s3, run_moto
from .sinks import (
    JSON_VALUES,
    SinkHandle,
    batch_config,
    ks3_env,
    run_connect,
    run_kafka_s3_sink,
    run_naive,
)

PARTITIONS = 3
BENCH_DIR = Path(__file__).resolve().parent

# Sizes and time limits.  kafka-s3-sink gets enough time to archive a whole topic; Kafka
# Connect and the naive loop are cut at `slow_limit_s` after their first object (their rate
# is steady by then), which is what keeps a full run within 15 minutes.
PLANS: dict[str, dict[str, Any]] = {
    "full": {
        "messages_1k": 20_000, "messages_100k": 2_000, "messages_batch": 200_000,
        "raw_puts_1k": 10_000, "raw_puts_100k": 2_000,
        "fast_limit_s": 120, "slow_limit_s": 30, "latency_s": 15, "drain_s": 15,
    },
    "quick": {
        "messages_1k": 2_000, "messages_100k": 200, "messages_batch": 20_000,
        "raw_puts_1k": 2_000, "raw_puts_100k": 300,
        "fast_limit_s": 60, "slow_limit_s": 8, "latency_s": 5, "drain_s": 8,
    },
}  # fmt: skip
FLUSH_SIZE = 1000
# Runs of this code and of the baseline's, back to back, in the batch cases.
BASELINE_PAIRS = 3
LATENCY_RATE = 200.0
KS3_KINDS = (".bin", "-timestamp.txt")
# Case "remote" (issue 16): every S3 request ~20 ms later, as from a site on AWS.
REMOTE_DELAY_MS = 20.0


def machine_info(server: S3Server) -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "unknown",
    )  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    commit = subprocess.run(
        ["git", "-C", str(BENCH_DIR), "rev-parse", "--short", "HEAD"],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    dirty = subprocess.run(
        ["git", "-C", str(BENCH_DIR), "status", "--porcelain", "--", "../src"],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return {
        "cores (nproc)": os.cpu_count(),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "CPU": cpu,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "kafka-s3-sink": f"{version('kafka-s3-sink')} (git {commit}"
        + (", src/ with uncommitted changes)" if dirty else ")"),
        "Kafka broker and connect-runtime": DEFAULT_VERSION,
        "JDK": java.splitlines()[0] if java else "unknown",
        "S3 server": server.kind,
        "confluent-kafka / librdkafka": f"{version('confluent-kafka')} / "
        + __import__("confluent_kafka").libversion()[0],
        "obstore (raw PUT client)": version("obstore"),
        "boto3 (naive loop)": version("boto3"),
        "SINETStream writer": version("sinetstream"),
    }


def _consume_rate(item: dict[str, Any]) -> float | None:
    """Bare-consumer rate from its first message on (the group join excluded, as it is from a
    sink's rate); the span includes the whole topic but the first fetch."""
    span = item["seconds"] - (item["seconds_to_first_message"] or 0)
    return round(item["messages"] / span, 1) if span > 0 else None


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, broker: LocalKafkaBroker,
                 s3: S3Server) -> None:  # fmt: skip
        self.args = args
        self.plan = PLANS["quick" if args.quick else "full"]
        self.work = work
        self.broker = broker
        self.s3 = s3
        self.watch: OffsetWatch | None = None
        self.buckets = 0

    def bucket(self, name: str) -> str:
        self.buckets += 1
        bucket = f"b{self.buckets:02d}-{name}"
        self.s3.create_bucket(bucket)
        return bucket

    @contextlib.contextmanager
    def _profiled(self, handle: SinkHandle, case: str) -> Iterator[None]:
        if not self.args.profile or handle.label != "kafka-s3-sink":
            yield
            return
        raw = self.args.out / f"profile-{case}.txt"
        with profiling.record(handle.pid, raw, self.plan["fast_limit_s"] + 60):
            yield
        (self.args.out / f"profile-{case}-summary.txt").write_text(profiling.summarize(raw))

    def one_per_message(
        self, key: str, workload: Workload, via: DelayProxy | None = None
    ) -> list[dict[str, Any]]:
        """Each sink on `workload`; `via`: the sinks reach S3 through that delay proxy (the
        objects are still read from the server itself), and each row gets its CPU."""
        bootstrap, topic, p = self.broker.bootstrap, workload.topic, self.plan
        assert self.watch is not None
        rows = []
        s3 = via.server() if via else self.s3  # what the sinks are told to write to
        measured = via.measure if via else lambda run: run()

        def ks3() -> dict[str, Any]:
            bucket = self.bucket(f"{key}-ks3")
            env = ks3_env(bootstrap, topic, s3, bucket)
            with run_kafka_s3_sink(self.work / f"{key}-ks3", env) as h, self._profiled(h, key):
                return throughput(h, self.s3, bucket, self.watch, workload, KS3_KINDS,
                                  p["fast_limit_s"])  # fmt: skip

        def connect() -> dict[str, Any]:
            bucket = self.bucket(f"{key}-connect")
            with run_connect(self.work / f"{key}-connect", bootstrap, topic, s3,
                             bucket, reference=True) as h:  # fmt: skip
                return throughput(h, self.s3, bucket, self.watch, workload, KS3_KINDS,
                                  p["slow_limit_s"])  # fmt: skip

        def naive() -> dict[str, Any]:
            bucket = self.bucket(f"{key}-naive")
            with run_naive(self.work / f"{key}-naive", bootstrap, topic, s3, bucket,
                           workload.messages, p["slow_limit_s"] + 10) as h:  # fmt: skip
                return throughput(h, self.s3, bucket, self.watch, workload, KS3_KINDS,
                                  p["slow_limit_s"])  # fmt: skip

        rows.append(_guard("kafka-s3-sink", lambda: measured(ks3)))
        rows.append(_guard("Kafka Connect", lambda: measured(connect)))
        rows.append(_guard("naive loop", lambda: measured(naive)))
        return rows

    def remote(self, workload: Workload, raw_bucket: str, limits: dict[str, Any]) -> dict[str, Any]:
        """Case "remote": the 1 KB topic again, each sink through bench/delay_proxy.py."""
        p, creds = self.plan, (self.s3.access_key, self.s3.secret_key)
        # The service's own default (per connector), so that the bound follows it.
        inflight = int(OPTIONS_BY_KEY["MAX_INFLIGHT_OBJECTS"].default or 0)
        bound = inflight / (REMOTE_DELAY_MS / 1000)
        name = f"raw PUT 1 KB, 64 in flight, S3 +{REMOTE_DELAY_MS:.0f} ms (obstore)"
        with run_delay_proxy(self.work / "delay-proxy", self.s3, REMOTE_DELAY_MS) as proxy:
            limits[name] = proxy.measure(lambda: measure_put_limit(
                proxy.endpoint, raw_bucket, creds, 1024, p["raw_puts_1k"], 64, 60))  # fmt: skip
            rows = self.one_per_message("remote", workload, via=proxy)
        text = (
            f"MAX_INFLIGHT_OBJECTS={inflight} uploads in flight per connector / "
            f"{REMOTE_DELAY_MS:.0f} ms = {bound:,.0f} objects/s per connector; each of the two "
            f"connectors writes one object per message, so at most {bound:,.0f} msgs/s (less: "
            "a PUT takes the delay plus the server's own time)"
        )
        return {
            "key": "remote",
            "name": f"1 KB, object per message, S3 +{REMOTE_DELAY_MS:.0f} ms",
            "limit_unit": "objects",
            "limit_per_s": limits[name]["puts_per_s"],
            "delay_ms": REMOTE_DELAY_MS,
            "bound": {"max_inflight_objects": inflight, "msgs_per_s": round(bound), "text": text},
            "rows": rows,
        }

    def batch(self, workload: Workload, fmt: str) -> list[dict[str, Any]]:
        bootstrap, topic, p = self.broker.bootstrap, workload.topic, self.plan
        ext = ".bin" if fmt == "bytearray" else ".json"
        assert self.watch is not None

        def ks3(launcher: list[str] | None = None, tag: str = "ks3") -> dict[str, Any]:
            bucket = self.bucket(f"batch-{fmt}-{tag}")
            env = ks3_env(bootstrap, topic, self.s3, bucket)
            config = batch_config(topic, self.s3, bucket, FLUSH_SIZE, fmt)
            with (
                run_kafka_s3_sink(self.work / f"batch-{fmt}-{tag}", env, batch=config,
                                  launcher=launcher) as h,
                self._profiled(h, f"batch-{fmt}-{tag}"),
            ):  # fmt: skip
                return throughput(h, self.s3, bucket, self.watch, workload, (ext,),
                                  p["fast_limit_s"], flush_size=FLUSH_SIZE)  # fmt: skip

        def connect() -> dict[str, Any]:
            bucket = self.bucket(f"batch-{fmt}-connect")
            extra = JSON_VALUES if fmt == "jsonvalues" else None
            with run_connect(self.work / f"batch-{fmt}-connect", bootstrap, topic, self.s3,
                             bucket, flush_size=FLUSH_SIZE, fmt="json" if extra else fmt,
                             extra=extra) as h:  # fmt: skip
                return throughput(h, self.s3, bucket, self.watch, workload, (ext,),
                                  p["fast_limit_s"], flush_size=FLUSH_SIZE)  # fmt: skip

        if fmt in ("bytearray", "jsonvalues") and "baseline" in self.args.only:
            return self._against_baseline(ks3) + [_guard("Kafka Connect", connect)]
        return [_guard("kafka-s3-sink", ks3), _guard("Kafka Connect", connect)]

    def _against_baseline(self, ks3: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
        """This code and the code at BASELINE_REV, back to back, BASELINE_PAIRS times (the
        machine's load swings between runs): a row for each one's median run, and the
        median ratio of the pairs in the first row."""
        launcher = baseline_launcher()
        label = f"kafka-s3-sink @{BASELINE_REV}"
        runs: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for attempt in range(BASELINE_PAIRS):
            current = _guard("kafka-s3-sink", lambda n=attempt: ks3(tag=f"ks3-{n}"))
            before = _guard(label, lambda n=attempt: ks3(launcher, tag=f"base-{n}"))
            runs.append((current, before))
        ratios = sorted(
            c["msgs_per_s"] / b["msgs_per_s"]
            for c, b in runs
            if c.get("msgs_per_s") and b.get("msgs_per_s")
        )
        rows = []
        for side in (0, 1):
            measured = [pair[side] for pair in runs if pair[side].get("msgs_per_s")]
            measured.sort(key=lambda row: row["msgs_per_s"])
            row = dict(measured[len(measured) // 2]) if measured else dict(runs[0][side])
            row["runs_msgs_per_s"] = [pair[side].get("msgs_per_s") for pair in runs]
            rows.append(row)
        rows[0]["vs_baseline_ratios"] = [round(r, 2) for r in ratios]
        rows[0]["vs_baseline_median"] = round(ratios[len(ratios) // 2], 2) if ratios else None
        return rows

    def latency_rows(self) -> list[dict[str, Any]]:
        bootstrap, p = self.broker.bootstrap, self.plan
        rows = []
        runners = {
            "kafka-s3-sink": KS3_KINDS,
            "Kafka Connect": (".bin",),
            "naive loop": KS3_KINDS,
        }
        for label, kinds in runners.items():
            short = label.split()[0].lower()
            topic = self.broker.create_topic(f"latency-{short}", partitions=PARTITIONS)
            bucket = self.bucket(f"latency-{short}")
            workdir = self.work / f"latency-{short}"

            def run(label: str = label, kinds: tuple[str, ...] = kinds, topic: str = topic,
                    bucket: str = bucket, workdir: Path = workdir) -> dict[str, Any]:  # fmt: skip
                if label == "kafka-s3-sink":
                    env = ks3_env(bootstrap, topic, self.s3, bucket)
                    sink = run_kafka_s3_sink(workdir, env)
                elif label == "Kafka Connect":
                    sink = run_connect(workdir, bootstrap, topic, self.s3, bucket)
                else:
                    budget = 130 + p["latency_s"] + p["drain_s"]
                    sink = run_naive(workdir, bootstrap, topic, self.s3, bucket, 10**9, budget)
                with sink as h, self._profiled(h, "latency"):
                    return latency(h, self.s3, bucket, bootstrap, topic, kinds, LATENCY_RATE,
                                   p["latency_s"], p["drain_s"])  # fmt: skip

            rows.append(_guard(label, run))
        topic = self.broker.create_topic("latency-floor", partitions=PARTITIONS)
        rows.append(_guard("bare consumer (floor)", lambda: consumer_latency(
            bootstrap, topic, LATENCY_RATE, p["latency_s"])))  # fmt: skip
        return rows

    def run(self) -> dict[str, Any]:
        p, bootstrap = self.plan, self.broker.bootstrap
        creds = (self.s3.access_key, self.s3.secret_key)
        print("filling topics with the SINETStream writer", flush=True)
        w1k = fill(bootstrap, self.broker.create_topic("bench-1k", PARTITIONS), PARTITIONS,
                   1024, p["messages_1k"])  # fmt: skip
        w100k = fill(bootstrap, self.broker.create_topic("bench-100k", PARTITIONS), PARTITIONS,
                     100 * 1024, p["messages_100k"])  # fmt: skip
        wbatch = fill(bootstrap, self.broker.create_topic("bench-batch", PARTITIONS),
                      PARTITIONS, 1024, p["messages_batch"])  # fmt: skip
        wjson = fill_json(bootstrap, self.broker.create_topic("bench-jsonvalues", PARTITIONS),
                          PARTITIONS, 1024, p["messages_batch"])  # fmt: skip
        workloads = {
            w.topic: f"{w.messages:,} messages of {w.payload_bytes:,} B payload, "
            f"{PARTITIONS} partitions (produced in {w.produce_s:.1f} s)"
            for w in (w1k, w100k, wbatch)
        }
        workloads[wjson.topic] = (
            f"{wjson.messages:,} JSON documents of ~{wjson.payload_bytes:,} B (plain producer), "
            f"{PARTITIONS} partitions (produced in {wjson.produce_s:.1f} s)"
        )
        print("limits", flush=True)
        raw_bucket = self.bucket("raw")
        limits = {
            "raw PUT 1 KB, 64 in flight (obstore)": measure_put_limit(
                self.s3.endpoint, raw_bucket, creds, 1024, p["raw_puts_1k"], 64, 60),
            "raw PUT 100 KB, 64 in flight (obstore)": measure_put_limit(
                self.s3.endpoint, raw_bucket, creds, 100 * 1024, p["raw_puts_100k"], 64, 60),
        }  # fmt: skip
        for w in (w1k, w100k, wbatch, wjson):
            item = measure_consume_limit(bootstrap, w.topic, w.messages, 60)
            item["steady_messages_per_s"] = _consume_rate(item)
            limits[f"bare consume {w.topic}"] = item
        cases = []
        only = set(self.args.only.split(","))
        for key, w, put in (("1k", w1k, "1 KB"), ("100k", w100k, "100 KB")):
            if key not in only:
                continue
            print(f"one object per message, {put}", flush=True)
            self.watch = OffsetWatch(bootstrap, w.topic, PARTITIONS)
            limit = limits[f"raw PUT {put}, 64 in flight (obstore)"]["puts_per_s"]
            cases.append({"key": key, "name": f"{put}, object per message",
                          "limit_unit": "objects", "limit_per_s": limit,
                          "rows": self.one_per_message(key, w)})  # fmt: skip
            if key == "1k" and "quix" in only:  # a peer: Quix Streams, an object per message
                cases[-1]["rows"] += quix_rows(self, w, "message")
        if "remote" in only:
            print(f"one object per message, 1 KB, S3 +{REMOTE_DELAY_MS:.0f} ms", flush=True)
            self.watch = OffsetWatch(bootstrap, w1k.topic, PARTITIONS)
            cases.append(self.remote(w1k, raw_bucket, limits))
        self.watch = OffsetWatch(bootstrap, wbatch.topic, PARTITIONS)
        for fmt in ("bytearray", "json") if "batch" in only else ():
            print(f"batch, flush.size={FLUSH_SIZE}, {fmt}", flush=True)
            limit = limits[f"bare consume {wbatch.topic}"]["steady_messages_per_s"]
            cases.append({"key": f"batch-{fmt}", "name": f"1 KB, batch {FLUSH_SIZE} {fmt}",
                          "limit_unit": "messages", "limit_per_s": limit,
                          "rows": self.batch(wbatch, fmt)})  # fmt: skip
        if "jsonvalues" in only:
            print(f"batch, flush.size={FLUSH_SIZE}, JSON values parsed and written", flush=True)
            self.watch = OffsetWatch(bootstrap, wjson.topic, PARTITIONS)
            limit = limits[f"bare consume {wjson.topic}"]["steady_messages_per_s"]
            cases.append({"key": "batch-jsonvalues",
                          "name": f"1 KB JSON values, batch {FLUSH_SIZE}, JsonConverter",
                          "limit_unit": "messages", "limit_per_s": limit,
                          "rows": self.batch(wjson, "jsonvalues")})  # fmt: skip
            if "quix" in only:  # a peer: Quix Streams' S3FileSink, ~1000 records an object
                cases[-1]["rows"] += quix_rows(self, wjson, "batch")
        local = None
        if "local" in only:  # STORE_URL=file://: group commit vs fsync per file, the service
            print("local store: fsync per file, group commit, the service", flush=True)
            watch = OffsetWatch(bootstrap, w1k.topic, PARTITIONS)
            local = local_case(self.work / "local", bootstrap, w1k, watch, self.args.quick)
        print(f"latency at {LATENCY_RATE:.0f} messages/s", flush=True)
        lat = self.latency_rows() if "latency" in only else []
        return {"cases": cases, "latency": lat, "limits": limits, "workloads": workloads,
                "local_store": local}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller topics, shorter limits")
    parser.add_argument("--s3", choices=["fast", "moto"], default="fast")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    parser.add_argument(
        "--only",
        default="1k,100k,remote,batch,jsonvalues,baseline,quix,local,latency",
        help="comma-separated cases to run (the limits are always measured); quix adds "
        "Quix Streams' rows to 1k and jsonvalues, baseline the code at BASELINE_REV to the "
        "batch cases",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample kafka-s3-sink with py-spy into <out> (not a measured run)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run_s3 = {"fast": run_fast_s3, "moto": run_moto}[args.s3]
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        work = Path(tmp)
        with LocalKafkaBroker(work / "kafka") as broker, run_s3(work / "s3") as s3:
            machine = machine_info(s3)
            results = Bench(args, work, broker, s3).run()
    results["machine"] = machine
    results["plan"] = "quick" if args.quick else "full"
    results["profiled"] = args.profile
    results["duration_s"] = round(time.monotonic() - started, 1)
    results["finished_at"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print(table(results))
    print()
    print(verdict_text(results))
    command = "python -m bench.run" + (" --quick" if args.quick else "")
    # RESULTS.md holds a full, unprofiled run against the fast server only.
    target = BENCH_DIR / "RESULTS.md"
    if args.quick or args.profile or args.s3 != "fast" or args.only != parser.get_default("only"):
        target = args.out / "RESULTS.md"
    write_results_md(results, target, command)
    print(f"\nwrote {args.out / 'results.json'} and {target} in {results['duration_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Check the benchmark building blocks end to end: Kafka Connect + bench/java's S3 sink archiving
a topic into an S3 server on loopback, with the raw limits measured beside it.

    python -m bench.connect_smoke --messages 2000 --size 1024 --partitions 3 [--s3 fast|moto]

Prints one JSON object per measurement.  Bounded: every wait has a timeout, and the number of
messages is fixed up front.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from kafka_s3_sink.devtools.kafka_broker import LocalKafkaBroker

from .kafka_connect import run_kafka_connect
from .raw_limits import measure_consume_limit, measure_put_limit
from .s3_server import S3Server, run_fast_s3, run_gofakes3, run_moto


def produce(bootstrap: str, topic: str, count: int, body: bytes) -> float:
    """Send `count` messages with value `body`; return seconds taken."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    t0 = time.monotonic()
    for i in range(count):
        while True:
            try:
                producer.produce(topic, value=body, key=str(i).encode())
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    if producer.flush(60) != 0:
        raise RuntimeError("messages still unsent after 60 s")
    return time.monotonic() - t0


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (a JVM here), from /proc, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def committed_messages(bootstrap: str, group: str, topic: str) -> int:
    """Sum over partitions of the group's committed offset (0 where nothing is committed).

    The connector hands Kafka Connect only the offsets of stored objects (preCommit), so this
    counts archived messages whatever the object layout.
    """
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        committed = consumer.committed([TopicPartition(topic, p) for p in parts], timeout=10)
        return sum(max(tp.offset, 0) for tp in committed)
    finally:
        consumer.close()


def watch_offsets(
    bootstrap: str, group: str, topic: str, expected: int, started_at: float, timeout: float
) -> dict[str, Any]:
    """Poll the group's committed offsets until they cover `expected` messages."""
    first = last = None
    done = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = committed_messages(bootstrap, group, topic)
        now = time.monotonic()
        if done and first is None:
            first = now
        if done >= expected:
            last = now
            break
        time.sleep(0.2)
    return {
        "committed": done,
        "first_commit_s": round(first - started_at, 2) if first else None,
        "all_committed_s": round(last - started_at, 2) if last else None,
        "timed_out": last is None,
    }


def watch_bucket(
    server: S3Server, bucket: str, expected: int, started_at: float, timeout: float
) -> dict[str, Any]:
    """Poll the bucket with List until `expected` objects exist; time first and last seen."""
    first = last = None
    count = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = server.count_objects(bucket)
        now = time.monotonic()
        if count and first is None:
            first = now
        if count >= expected:
            last = now
            break
        time.sleep(0.2)
    return {
        "objects": count,
        "first_object_s": round(first - started_at, 2) if first else None,
        "all_objects_s": round(last - started_at, 2) if last else None,
        "timed_out": last is None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--flush-size", type=int, default=1)
    parser.add_argument("--format", choices=["bytearray", "json"], default="bytearray")
    parser.add_argument("--s3", choices=["fast", "gofakes3", "moto"], default="fast")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--keep-log", type=Path, help="copy Kafka Connect's log here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="connect-smoke-") as tmp:
        work = Path(tmp)
        run_s3 = {"fast": run_fast_s3, "gofakes3": run_gofakes3, "moto": run_moto}[args.s3]
        with LocalKafkaBroker(work / "kafka") as broker, run_s3(work / "s3") as s3:
            topic = broker.create_topic(f"bench-{uuid.uuid4().hex[:6]}", args.partitions)
            bucket = "bench-connect"
            s3.create_bucket(bucket)
            s3.create_bucket("bench-raw")
            # Random bytes, but no newline: one object per record must hold the value and the
            # single line separator the connector adds, nothing else.
            body = os.urandom(args.size).replace(b"\n", b"x")
            produce_s = produce(broker.bootstrap, topic, args.messages, body)
            print(
                json.dumps(
                    {"what": "produce", "messages": args.messages, "seconds": round(produce_s, 2)}
                )
            )
            print(
                json.dumps(
                    {
                        "server": s3.kind,
                        **measure_put_limit(
                            s3.endpoint,
                            "bench-raw",
                            (s3.access_key, s3.secret_key),
                            args.size,
                            args.messages,
                            concurrency=64,
                            time_limit=60,
                        ),
                    }
                )
            )
            print(json.dumps(measure_consume_limit(broker.bootstrap, topic, args.messages, 60)))

            with run_kafka_connect(
                work / "connect",
                broker.bootstrap,
                topic,
                s3.endpoint,
                bucket,
                s3.access_key,
                s3.secret_key,
                flush_size=args.flush_size,
                fmt=args.format,
            ) as connect:
                running_s = connect.wait_running(timeout=180)
                # Start-up (class loading, JIT) costs the JVM CPU seconds; count it apart.
                cpu_at_running = process_cpu_seconds(connect.pid)
                if args.flush_size == 1:
                    watched = watch_bucket(
                        s3, bucket, args.messages, connect.started_at, args.timeout
                    )
                    first, last = watched["first_object_s"], watched["all_objects_s"]
                else:
                    # Objects per flush depend on timing; the committed offsets do not.
                    watched = watch_offsets(
                        broker.bootstrap,
                        connect.consumer_group,
                        topic,
                        args.messages,
                        connect.started_at,
                        args.timeout,
                    )
                    watched["objects"] = s3.count_objects(bucket)
                    first, last = watched["first_commit_s"], watched["all_committed_s"]
                cpu = process_cpu_seconds(connect.pid)
            sample = s3.boto3_client().list_objects_v2(Bucket=bucket, MaxKeys=1)["Contents"][0]
            # s3s-fs 0.14.1 lists "+" in keys as " " (it stores and serves them right).
            sample["Key"] = sample["Key"].replace(" ", "+")
            got = s3.boto3_client().get_object(Bucket=bucket, Key=sample["Key"])["Body"].read()
            watched["sample_key"] = sample["Key"]
            if args.format == "json":
                first_line = json.loads(got.split(b"\n", 1)[0])
                watched["sample_body"] = (
                    "json, value base64"
                    if base64.b64decode(first_line) == body
                    else f"json, other: {str(first_line)[:80]}"
                )
            elif args.flush_size == 1:
                # As Confluent's ByteArrayFormat: the value, then "\n".
                watched["sample_body"] = (
                    "value"
                    if got == body
                    else "value+newline"
                    if got == body + b"\n"
                    else f"other ({len(got)} bytes)"
                )
            result = {
                "what": "kafka_connect",
                "server": s3.kind,
                "messages": args.messages,
                "size_bytes": args.size,
                "flush_size": args.flush_size,
                "format": args.format,
                "connector_running_s": round(running_s, 2),
                **watched,
                "jvm_cpu_s_total": round(cpu, 1),
                "jvm_cpu_s_after_running": round(cpu - cpu_at_running, 1),
                "jvm_cpu_s_per_10k_messages": round(
                    (cpu - cpu_at_running) * 1e4 / args.messages, 1
                ),
            }
            if first and last:
                # From RUNNING includes the consumer group's join; first-to-last is the steady
                # rate, meaningful only when the work spans several flushes.
                n = args.messages
                result["messages_per_s_from_running"] = round(n / (last - running_s), 1)
                if last - first > 2.0:
                    result["messages_per_s_first_to_last"] = round(n / (last - first), 1)
            print(json.dumps(result))
            if args.keep_log:
                args.keep_log.write_bytes((work / "connect" / "connect.log").read_bytes())


if __name__ == "__main__":
    main()

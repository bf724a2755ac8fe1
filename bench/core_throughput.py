"""Messages/s of `kafka-s3-sink run` (reference configuration) into moto and a local folder.

    .venv/bin/python -m bench.core_throughput [--messages 5000] [--size 1024]

Starts a Kafka broker and moto on 127.0.0.1, fills a 3-partition topic with SINETStream
messages made by the real writer, then for each store runs the service on a .env and times
it until both consumer groups have committed the end of the topic (every object stored).
Bounded: each run stops after --timeout seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from kafka_s3_sink.devtools.kafka_broker import LocalKafkaBroker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import produce_sinetstream  # noqa: E402

PARTITIONS = 3


def committed_total(bootstrap: str, topic: str, groups: tuple[str, ...]) -> int:
    total = 0
    for group in groups:
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
        try:
            tps = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], 10)
        finally:
            consumer.close()
        total += sum(max(tp.offset, 0) for tp in tps)
    return total


def time_service(
    env: dict[str, str], workdir: Path, bootstrap: str, topic: str, count: int, timeout: float
) -> dict[str, float]:
    """Run the service until both groups committed ``count`` records; rates in messages/s."""
    groups = (f"connect-{env['DATA_CONNECTOR']}", f"connect-{env['TIMESTAMP_CONNECTOR']}")
    env_file = workdir / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "kafka_s3_sink.cli", "run", "--env-file", str(env_file)],
        stdout=(workdir / "service.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    first: tuple[float, int] | None = None  # (when, committed) at the first commit seen
    try:
        while time.monotonic() - started < timeout:
            done = committed_total(bootstrap, topic, groups)
            if done and first is None:
                first = (time.monotonic(), done)
            if done >= 2 * count:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    done = committed_total(bootstrap, topic, groups)
    if done < 2 * count:
        raise RuntimeError(f"only {done}/{2 * count} committed after {timeout}s")
    first_at, first_done = first or (started, 0)
    steady = (2 * count - first_done) / 2 / max(started + elapsed - first_at, 1e-9)
    return {"steady": steady, "total": count / elapsed, "seconds": elapsed}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    port = free_port()
    moto = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp, LocalKafkaBroker(Path(tmp) / "kafka") as broker:
            root = Path(tmp)
            topic = broker.create_topic("bench-core", partitions=PARTITIONS)
            produce_sinetstream(broker.bootstrap, topic, [os.urandom(args.size)] * args.messages)
            base = {
                "BROKER_HOSTNAME": broker.bootstrap,
                "KAFKA_TOPIC": topic,
                "S3_BUCKET_NAME": "bench",
                "PROGRESS_INTERVAL_S": "5",
            }
            stores = {
                "local": {"STORE_URL": f"file://{root / 'data'}"},
                "moto": {
                    "S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                    "AWS_ACCESS_KEY_ID": "x",
                    "AWS_SECRET_KEY": "x",
                },
            }
            for store, extra in stores.items():
                workdir = root / store
                workdir.mkdir()
                # Own connector names per store: each run reads the topic from the start.
                names = {"DATA_CONNECTOR": f"{store}-data", "TIMESTAMP_CONNECTOR": f"{store}-ts"}
                results[store] = time_service(
                    base | extra | names,
                    workdir,
                    broker.bootstrap,
                    topic,
                    args.messages,
                    args.timeout,
                )
    finally:
        moto.kill()
    print(
        f"{args.messages} SINETStream messages of {args.size} B, {PARTITIONS} partitions, "
        "2 objects per message"
    )
    for store, r in results.items():
        print(
            f"  {store:6s} {r['steady']:8.0f} messages/s steady "
            f"({r['total']:.0f}/s including start-up; {r['seconds']:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Restore rate (messages/s) of ``kafka-s3-sink restore`` from the local store and from moto.

    .venv/bin/python -m bench.restore_rate [--messages 20000] [--s3-messages 5000] [--size 100]

Starts its own Kafka broker (and moto for the S3 rows), writes an archive of ``--messages``
messages in both layouts straight into a folder (reference: a payload and a timestamp
object each; lossless: ``--batch`` records per object; 3 partitions), and runs the real
command on it, as an operator would, to a new topic per layout; the S3 rows upload a
smaller archive to moto first (moto serves about a hundred requests per second here).
The rate printed is the command's own: messages acknowledged by the broker per second of
restore, listing and reading included.  Not part of bench/run.py.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kafka_s3_sink.devtools.kafka_broker import LocalKafkaBroker

from .s3_server import run_fast_s3, run_moto

TOPIC = "sensors"


def write_archive(bucket_dir: Path, count: int, size: int) -> None:
    hour = bucket_dir / "topics" / TOPIC / "year=2022/month=04/day=18/hour=10"
    hour.mkdir(parents=True)
    msg = b"x" * size
    for n in range(count):
        stem = f"{TOPIC}+{n % 3}+{n // 3:010d}"
        (hour / f"{stem}.bin").write_bytes(msg + b"\n")
        (hour / f"{stem}-timestamp.txt").write_bytes(b"2022-04-18T01:00:00.%03d\n" % (n % 1000))


def write_lossless_archive(bucket_dir: Path, count: int, size: int, batch: int) -> None:
    """The lossless layout with ``batch`` records per object (flush.size), 3 partitions."""
    from kafka_s3_sink.pipeline.formats.lossless import encode_line
    from kafka_s3_sink.pipeline.records import Record

    hour = bucket_dir / "topics" / TOPIC / "year=2022/month=04/day=18/hour=10"
    hour.mkdir(parents=True, exist_ok=True)
    per_partition = count // 3
    for partition in range(3):
        for first in range(0, per_partition, batch):
            lines = [
                encode_line(Record(TOPIC, partition, o, 1650243600000 + o, b"key", b"x" * size,
                                   (("h", b"v"),), 1))
                for o in range(first, min(first + batch, per_partition))
            ]
            (hour / f"{TOPIC}+{partition}+{first:010d}.jsonl").write_bytes(b"".join(lines))


def env_file(directory: Path, bootstrap: str, store: dict[str, str]) -> Path:
    values = {"BROKER_HOSTNAME": bootstrap, "KAFKA_TOPIC": TOPIC, "S3_BUCKET_NAME": "archive",
              **store}
    path = directory / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def restore(env: Path, broker: LocalKafkaBroker, target: str, layout: str) -> tuple[float, str]:
    broker.create_topic(target, partitions=3)
    done = subprocess.run(
        [sys.executable, "-m", "kafka_s3_sink.cli", "restore", "--env-file", str(env),
         "--to-topic", target, "--checkpoint", str(env.parent / f"{target}.json"),
         "--layout", layout],
        capture_output=True, text=True, check=True, cwd=env.parent,
    )
    summary = done.stdout.strip().splitlines()[-1]
    rate = re.search(r"([\d.]+) msg/s", summary)
    assert rate is not None, done.stdout
    return float(rate.group(1)), summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--s3-messages", type=int, default=5000)
    parser.add_argument("--size", type=int, default=100, help="msg bytes")
    parser.add_argument("--batch", type=int, default=100, help="records per lossless object")
    parser.add_argument("--fast-s3", action="store_true",
                        help="also s3s-fs (bench/s3_server.py; built once with cargo)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp, LocalKafkaBroker(Path(temp) / "kafka") as broker:
        root = Path(temp)
        local = root / "local"
        write_archive(local / "data" / "archive", args.messages, args.size)
        write_lossless_archive(local / "data" / "archive", args.messages, args.size, args.batch)
        env = env_file(local, broker.bootstrap, {"STORE_URL": f"file://{local / 'data'}"})
        for layout in ("reference", "lossless"):
            rate, line = restore(env, broker, f"restored-local-{layout}", layout)
            print(f"local store, {layout}: {args.messages} messages, {rate:.0f} msg/s  ({line})")
        servers = [("moto S3", run_moto)] if args.s3_messages else []
        if args.s3_messages and args.fast_s3:
            servers.append(("s3s-fs", run_fast_s3))
        for name, server_of in servers:
            s3_rows(root / name.replace(" ", "-"), name, server_of, broker, args)


def s3_rows(directory: Path, name: str, server_of: Any, broker: LocalKafkaBroker,
            args: argparse.Namespace) -> None:
    upload = directory / "upload"
    write_archive(upload, args.s3_messages, args.size)
    write_lossless_archive(upload, args.s3_messages, args.size, args.batch)
    with server_of(directory) as server:
        client = server.boto3_client()
        client.create_bucket(Bucket="archive")
        files = [p for p in upload.rglob("*") if p.is_file()]
        started = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda p: client.put_object(
                Bucket="archive", Key=p.relative_to(upload).as_posix(), Body=p.read_bytes()),
                files))
        print(f"(uploaded {len(files)} objects to {name} in {time.monotonic() - started:.0f} s)")
        env = env_file(directory, broker.bootstrap, {
            "S3_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_KEY": server.secret_key})
        for layout in ("reference", "lossless"):
            slug = name.split()[0].lower().replace("-", "")
            rate, line = restore(env, broker, f"restored-{slug}-{layout}", layout)
            print(f"{name}, {layout}: {args.s3_messages} messages, {rate:.0f} msg/s  ({line})")

if __name__ == "__main__":
    main()

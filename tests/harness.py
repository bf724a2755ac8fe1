"""Running the real service as users do (a subprocess on a .env) and reading what it wrote.

The expected keys and bodies here are computed independently of the service's code, from
the contract (reference-deployment.md §4), so the tests check the service against the
contract rather than against itself.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
from confluent_kafka import Consumer, TopicPartition
from cryptography.fernet import Fernet

from kafka_s3_sink.pipeline.sinetstream_codec import decode

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class TopicRecord:
    partition: int
    offset: int
    timestamp_ms: int
    value: bytes | None


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 60) -> list[TopicRecord]:
    """Every record of ``topic`` (with its partition, offset and time) via a fresh group."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{time.time_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    out: list[TopicRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            for m in consumer.consume(1000, 0.5):
                if m.error() is None:
                    out.append(TopicRecord(m.partition(), m.offset(), m.timestamp()[1], m.value()))
    finally:
        consumer.close()
    assert len(out) == count, f"read {len(out)} of {count} records from {topic}"
    return out


def payload_of(record: TopicRecord) -> bytes:
    """The SINETStream msg of a record, decoded with the service's codec (tested apart)."""
    return bytes(decode(record.value).msg)


def tstamp_of(record: TopicRecord) -> int:
    return decode(record.value).tstamp_us


def hour_dir(topic: str, timestamp_ms: int) -> str:
    t = datetime.fromtimestamp(timestamp_ms / 1000, TOKYO)
    return f"topics/{topic}/year={t:%Y}/month={t:%m}/day={t:%d}/hour={t:%H}"


def expected_objects(
    topic: str,
    records: Iterable[TopicRecord],
    payload_of: Callable[[TopicRecord], bytes],
    tstamp_us_of: Callable[[TopicRecord], int],
    extension: str = ".bin",
) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for r in records:
        stem = f"{hour_dir(topic, r.timestamp_ms)}/{topic}+{r.partition}+{r.offset:010d}"
        out[f"{stem}{extension}"] = payload_of(r) + b"\n"
        written = datetime.fromtimestamp(tstamp_us_of(r) // 1000 / 1000, UTC)
        out[f"{stem}-timestamp.txt"] = (
            written.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "\n"
        ).encode()
    return out


def local_objects(root: Path, bucket: str) -> dict[str, bytes]:
    base = root / bucket
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


def s3_objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    client = s3_client(endpoint)
    try:
        keys = [
            obj["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for obj in page.get("Contents", [])
        ]
    except client.exceptions.NoSuchBucket:
        return {}  # not created yet by the service
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        tps = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], 10)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in tps}


def commit_offsets(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit as a Kafka Connect deployment would have left them."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        consumer.commit(
            offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False
        )
    finally:
        consumer.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_env(path: Path, **values: str) -> Path:
    """A .env for one service of one test: its own REST port and config topic on loopback.

    Connectors may write to any bucket under the test's folder or the .env's endpoint, and
    carry secrets (stored encrypted with a key file next to the .env): the tests of the
    control plane's limits (tests/faults/test_control_plane.py) set these themselves."""
    key_file = path.parent / "config-encryption.key"
    if not key_file.exists():
        key_file.write_bytes(Fernet.generate_key())
        key_file.chmod(0o600)
    values = {
        "REST_HOST": "127.0.0.1",
        "REST_PORT": str(free_port()),
        "CONFIG_STORAGE_TOPIC": f"configs-{uuid.uuid4().hex[:12]}",
        "CONNECTOR_STORES": f"file://{path.parent}",
        "CONNECTOR_BUCKETS": "*",
        "CONFIG_ENCRYPTION_KEY_FILE": str(key_file),
        **values,
    }
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def s3_env(
    directory: Path, bootstrap: str, topic: str, endpoint: str, bucket: str, **extra: str
) -> Path:
    """``directory/.env`` archiving ``topic`` into ``bucket`` of the S3 server at ``endpoint``
    (moto, or a proxy in front of it: it takes any credentials)."""
    return write_env(
        directory / ".env",
        BROKER_HOSTNAME=bootstrap,
        KAFKA_TOPIC=topic,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_KEY="test",
        S3_BUCKET_NAME=bucket,
        S3_ENDPOINT_URL=endpoint,
        **extra,
    )


def local_env(
    directory: Path, bootstrap: str, topic: str, bucket: str = "mybucket", **extra: str
) -> Path:
    """``directory/.env`` archiving ``topic`` into the folder ``directory/data``."""
    return write_env(
        directory / ".env",
        BROKER_HOSTNAME=bootstrap,
        KAFKA_TOPIC=topic,
        S3_BUCKET_NAME=bucket,
        STORE_URL=f"file://{directory / 'data'}",
        PROGRESS_INTERVAL_S="1",
        **extra,
    )


def env_value(env_file: Path, key: str) -> str:
    for line in env_file.read_text().splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise KeyError(key)


def rest(env_file: Path, method: str, path: str, body: object = None) -> tuple[int, object]:
    """Call the service's REST API as curl would; returns (status, decoded JSON or None)."""
    url = f"http://127.0.0.1:{env_value(env_file, 'REST_PORT')}{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


class Service:
    """``kafka-s3-sink run --env-file ...`` in a subprocess, its log kept in a file."""

    def __init__(self, env_file: Path, log_path: Path) -> None:
        self.env_file = env_file
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kafka_s3_sink.cli", "run", "--env-file", str(self.env_file)],
            cwd=self.env_file.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))},
        )
        return self

    def stop(self, timeout: float = 60) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def wait(self, timeout: float = 60) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        if self.running:
            self.kill()


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_for_api(env_file: Path, service: Service | None = None) -> None:
    """Wait until the service's REST API serves connectors, start-up done (failing at once if
    the service exited).  Until then every endpoint but / and /health answers 503."""

    def answering() -> bool:
        if service is not None and not service.running:
            raise AssertionError(f"the service exited:\n{service.log()}")
        try:
            return rest(env_file, "GET", "/connectors")[0] == 200
        except OSError:
            return False

    wait_until(answering, 60, "the REST API")

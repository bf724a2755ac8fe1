"""The sinks under test, each started as its own process and handed back as a `SinkHandle`.

- `run_kafka_s3_sink`: `kafka-s3-sink run` on a .env.  In the reference configuration it runs
  the two connectors of the .env (payload and timestamp object per message).  For batch mode
  the .env says `REGISTER_DEFAULTS=false` and the connector is POSTed to its Kafka
  Connect–compatible REST API, as a Kafka Connect user would register it.
- `run_connect`: Kafka Connect with bench/java's connector (see kafka_connect.py).
- `run_naive`: bench/naive_sink.py, the hand-written loop.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .kafka_connect import run_kafka_connect
from .s3_server import S3Server, free_port, stop_process_group

BYTE_ARRAY_CONVERTER = "org.apache.kafka.connect.converters.ByteArrayConverter"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
FORMATS = {
    "bytearray": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
    "json": "io.confluent.connect.s3.format.json.JsonFormat",
}
# Values that are JSON documents, parsed by the converter and written again by JsonFormat
# (the converter and its setting, as a Kafka Connect user would give them).
JSON_VALUES = {"value.converter": JSON_CONVERTER, "value.converter.schemas.enable": "false"}


class SinkSkipped(RuntimeError):
    """The sink cannot run this case (the reason is reported in the results)."""


@dataclass
class SinkHandle:
    """A running sink: its process, when it was started, and the groups it commits with."""

    label: str
    pid: int
    proc: subprocess.Popen[bytes]
    started_wall: float  # time.time() just before the process was started
    groups: list[str]
    # Seconds from start to "ready" by the sink's own signal (REST answering, task RUNNING),
    # where it has one.
    ready_s: float | None = None
    notes: list[str] = field(default_factory=list)


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> float | None:
    """Poll url every 20 ms until it answers; seconds waited, or None (timeout, or exited)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return time.monotonic() - t0
        except urllib.error.HTTPError:
            return time.monotonic() - t0  # an error status is an answer all the same
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.02)
    return None


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll url every 20 ms until it answers 200; False on timeout or exit."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.02)
    return False


def _probe_rest(handle: SinkHandle, rest: str) -> None:
    waited = _wait_http(rest + "/", handle.proc, timeout=10)
    if waited is None:
        handle.notes.append("REST API did not answer within 10 s")
    else:
        handle.ready_s = time.time() - handle.started_wall


def _post_json(url: str, body: dict, timeout: float = 10.0) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def ks3_env(bootstrap: str, topic: str, server: S3Server, bucket: str) -> dict[str, str]:
    """The reference .env for one run: its own connector names (so its own consumer groups,
    which start at the earliest offset), REST on loopback only."""
    run_id = uuid.uuid4().hex[:6]
    return {
        "BROKER_HOSTNAME": bootstrap,
        "KAFKA_TOPIC": topic,
        "S3_BUCKET_NAME": bucket,
        "S3_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_KEY": server.secret_key,
        "S3_REGION": server.region,
        "DATA_CONNECTOR": f"bench-data-{run_id}",
        "TIMESTAMP_CONNECTOR": f"bench-ts-{run_id}",
        "REST_HOST": "127.0.0.1",
        "REST_PORT": str(free_port()),
        "CONFIG_STORAGE_TOPIC": f"bench-configs-{run_id}",
        "PROGRESS_INTERVAL_S": "5",
    }


@contextlib.contextmanager
def run_kafka_s3_sink(
    workdir: Path,
    env: dict[str, str],
    batch: dict[str, str] | None = None,
    launcher: list[str] | None = None,
) -> Iterator[SinkHandle]:
    """`kafka-s3-sink run` on a .env made of `env`; with `batch`, one POSTed connector instead.

    `batch` is a Kafka Connect connector config (without name); SinkSkipped is raised when the
    REST API does not take it, so the benchmark can report why.  `launcher` replaces
    `python -m kafka_s3_sink.cli` (for experiments that patch the sink before src/ changes).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(env)
    name = f"bench-batch-{uuid.uuid4().hex[:6]}"
    if batch is not None:
        env["REGISTER_DEFAULTS"] = "false"
    env_file = workdir / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    log = (workdir / "kafka-s3-sink.log").open("wb")
    started_wall = time.time()
    proc = subprocess.Popen(
        [
            *(launcher or [sys.executable, "-m", "kafka_s3_sink.cli"]),
            "run",
            "--env-file",
            str(env_file),
        ],  # fmt: skip
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    groups = [f"connect-{env['DATA_CONNECTOR']}", f"connect-{env['TIMESTAMP_CONNECTOR']}"]
    handle = SinkHandle("kafka-s3-sink", proc.pid, proc, started_wall, groups)
    rest = f"http://127.0.0.1:{env['REST_PORT']}"
    try:
        if batch is None:
            # Probed in a thread: the caller starts watching for the first object at once.
            threading.Thread(target=_probe_rest, args=(handle, rest), daemon=True).start()
        else:
            waited = _wait_http(rest + "/", proc, timeout=15)
            if waited is None:
                raise SinkSkipped(
                    "REST API not answering within 15 s of `kafka-s3-sink run` with "
                    f"REGISTER_DEFAULTS=false (exit code {proc.poll()}; see {log.name})"
                )
            handle.ready_s = time.time() - started_wall
            # The REST API answers 503 to writes until the worker has started (GET /health).
            if not _wait_healthy(rest + "/health", proc, timeout=60):
                raise SinkSkipped(f"GET /health not 200 within 60 s (see {log.name})")
            status, text = _post_json(rest + "/connectors", {"name": name, "config": batch})
            if status not in (200, 201):
                raise SinkSkipped(f"POST /connectors answered {status}: {text[:300]}")
            handle.groups = [f"connect-{name}"]
        yield handle
    finally:
        stop_process_group(proc, grace=30)
        log.close()


def batch_config(
    topic: str, server: S3Server, bucket: str, flush_size: int, fmt: str
) -> dict[str, str]:
    """Confluent S3 sink settings for batch mode, as a Kafka Connect user would POST them.
    ``fmt``: bytearray, json (raw bytes as base64 strings) or jsonvalues (JSON documents
    parsed by JsonConverter and written by JsonFormat)."""
    config = {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "flush.size": str(flush_size),
        "format.class": FORMATS["json" if fmt == "jsonvalues" else fmt],
        "key.converter": BYTE_ARRAY_CONVERTER,
        "value.converter": BYTE_ARRAY_CONVERTER,
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
        "s3.bucket.name": bucket,
        "s3.region": server.region,
        "store.url": server.endpoint,
        # No aws.* keys: the .env store's own credentials apply (as the AWS default chain
        # does for Kafka Connect), and a config carrying a secret needs an encryption key.
    }
    if fmt == "jsonvalues":
        config.update(JSON_VALUES)
    return config


@contextlib.contextmanager
def run_connect(
    workdir: Path,
    bootstrap: str,
    topic: str,
    server: S3Server,
    bucket: str,
    flush_size: int = 1,
    fmt: str = "bytearray",
    reference: bool = False,
    extra: dict[str, str] | None = None,
) -> Iterator[SinkHandle]:
    """Kafka Connect + bench/java's connector; the handle's ready_s is the task's RUNNING.

    ``reference``: both connectors of the reference deployment (payload and timestamp).
    ``extra``: connector properties added or overridden (e.g. the value converter).
    """
    with run_kafka_connect(
        workdir,
        bootstrap,
        topic,
        server.endpoint,
        bucket,
        server.access_key,
        server.secret_key,
        flush_size=flush_size,
        fmt=fmt,
        timestamp_connector=reference,
        extra=extra,
    ) as connect:
        # run_kafka_connect stamps a monotonic start; convert to the wall clock of mtimes.
        started_wall = time.time() - (time.monotonic() - connect.started_at)
        handle = SinkHandle(
            "Kafka Connect", connect.pid, connect.proc, started_wall, connect.consumer_groups
        )
        handle.ready_s = connect.wait_running(timeout=120)
        yield handle


@contextlib.contextmanager
def run_naive(
    workdir: Path,
    bootstrap: str,
    topic: str,
    server: S3Server,
    bucket: str,
    count: int,
    time_limit: float,
) -> Iterator[SinkHandle]:
    """bench/naive_sink.py; it exits by itself after `count` messages or `time_limit`."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / "naive.log").open("wb")
    cmd = [
        sys.executable, "-m", "bench.naive_sink",
        "--bootstrap", bootstrap, "--topic", topic,
        "--endpoint", server.endpoint, "--bucket", bucket,
        "--access-key", server.access_key, "--secret-key", server.secret_key,
        "--count", str(count), "--time-limit", str(time_limit),
    ]  # fmt: skip
    started_wall = time.time()
    proc = subprocess.Popen(
        cmd,
        cwd=Path(__file__).resolve().parents[1],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield SinkHandle("naive loop", proc.pid, proc, started_wall, groups=[])
    finally:
        stop_process_group(proc)
        log.close()

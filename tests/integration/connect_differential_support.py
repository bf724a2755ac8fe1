"""Support for tests/integration/test_connect_differential.py: a real Apache Kafka Connect
worker in distributed mode, one HTTP call as a script would make it, and the JSON "shape"
of an answer (keys and value types, recursively), compared between two servers.

The worker is connect-runtime from Maven Central with the benchmark's own small S3 sink
(bench/java), fetched and built by bench/kafka_connect.py into the bench cache: the same
jars the benchmark runs, in the mode a deployment runs them (ConnectDistributed, state in
Kafka topics), which is the mode this service's REST API imitates (config topic, many
workers). bench/kafka_connect.py's own runner starts ConnectStandalone, whose REST API
differs (no offsets topic, PATCH offsets answered differently), hence this thin wrapper.
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# bench/ is a directory of the repository, not an installed package: import it from there.
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))

from bench.kafka_connect import CONNECTOR_CLASS as BENCH_CONNECTOR_CLASS  # noqa: E402
from bench.kafka_connect import build_bench_connector, install_kafka_connect  # noqa: E402

__all__ = ["BENCH_CONNECTOR_CLASS"]

# -- the Kafka Connect worker ---------------------------------------------------------------

_LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
"""


_PROVIDERS = "org.apache.kafka.common.config.provider"


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return int(s.getsockname()[1])


@dataclass
class ConnectWorker:
    """A running ConnectDistributed worker (its REST API on ``url``)."""

    url: str
    log_file: Path
    proc: subprocess.Popen[bytes] = field(repr=False)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _wait_ready(worker: ConnectWorker, timeout: float) -> None:
    """Until GET /health (KIP-1017) says the worker has joined its group and read its
    config topic: before that a POST may be refused with 409 (rebalance in progress)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.proc.poll() is not None:
            raise RuntimeError(
                f"Kafka Connect exited with code {worker.proc.returncode}:\n{worker.log_tail()}"
            )
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{worker.url}/health", timeout=5) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"Kafka Connect not ready after {timeout}s:\n{worker.log_tail()}")


@contextlib.contextmanager
def run_connect_distributed(
    workdir: Path,
    bootstrap: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Iterator[ConnectWorker]:
    """Start one ConnectDistributed worker on ``bootstrap`` with the bench S3 sink plugin.

    Its group and its three internal topics are new on every call, so two runs never share
    state. ``env`` is added to the JVM's environment (for ``${env:...}`` config values).
    """
    runtime = install_kafka_connect()
    plugins = build_bench_connector()
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    run = uuid.uuid4().hex[:8]
    log_file = workdir / "connect.log"
    worker_props: dict[str, object] = {
        "bootstrap.servers": bootstrap,
        "group.id": f"diff-connect-{run}",
        # Loopback only, as this service: nothing else on the machine should reach it.
        "listeners": f"http://127.0.0.1:{port}",
        "rest.advertised.host.name": "127.0.0.1",
        "rest.advertised.port": port,
        "config.storage.topic": f"diff-connect-{run}-configs",
        "offset.storage.topic": f"diff-connect-{run}-offsets",
        "status.storage.topic": f"diff-connect-{run}-status",
        # One broker: replication factor 1; few partitions, as they are created at start.
        "config.storage.replication.factor": 1,
        "offset.storage.replication.factor": 1,
        "status.storage.replication.factor": 1,
        "offset.storage.partitions": 1,
        "status.storage.partitions": 1,
        "key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "plugin.path": plugins,
        # The bench jar has a ServiceLoader manifest: no reflection scan of the plugin path.
        "plugin.discovery": "service_load",
        # A lone worker: no need to wait for a departed member to come back (default 5 min).
        "scheduled.rebalance.max.delay.ms": 0,
        # Both servers run the same connector name; each connector is given its own
        # consumer group through consumer.override.group.id (allowed by this policy).
        "connector.client.config.override.policy": "All",
        # Config providers as deployments commonly set them, so that `${env:...}` and
        # `${file:...}` values have a defined meaning to compare against.
        "config.providers": "env,file",
        "config.providers.env.class": f"{_PROVIDERS}.EnvVarConfigProvider",
        "config.providers.file.class": f"{_PROVIDERS}.FileConfigProvider",
        "consumer.auto.offset.reset": "earliest",
        "offset.flush.interval.ms": 1000,
    }
    worker_file = workdir / "worker.properties"
    worker_file.write_text("".join(f"{k}={v}\n" for k, v in worker_props.items()))
    log4j_file = workdir / "log4j2.properties"
    log4j_file.write_text(_LOG4J2.format(log_file=log_file))
    cmd = [
        "java",
        "-Xms128M",
        "-Xmx512M",
        # Start-up, not throughput, is what counts here: C1 only and the serial collector
        # start the worker faster on 2 cores.
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j_file}",
        "-cp",
        str(runtime / "*"),
        "org.apache.kafka.connect.cli.ConnectDistributed",
        str(worker_file),
    ]
    with (workdir / "connect.stdout").open("wb") as stdout:
        # Its own process group, so that stopping it reaps the JVM and nothing else.
        proc = subprocess.Popen(
            cmd,
            cwd=workdir,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    worker = ConnectWorker(url=f"http://127.0.0.1:{port}", log_file=log_file, proc=proc)
    try:
        _wait_ready(worker, timeout)
        yield worker
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


# -- one HTTP call --------------------------------------------------------------------------

# A body that is not JSON (e.g. a Jetty HTML error page) is compared as this "type".
TEXT = "text"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # decoded JSON, None when empty, or Text(...) when not JSON


@dataclass(frozen=True)
class Text:
    text: str


def call(
    base_url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = "application/json",
    timeout: float = 60,
) -> Answer:
    """One request as curl would send it; every status (2xx or not) is an answer."""
    request = urllib.request.Request(f"{base_url}{path}", data=body, method=method)
    if content_type is not None:
        request.add_header("Content-Type", content_type)
    request.add_header("Accept", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    if not raw.strip():
        return Answer(status, None)
    try:
        return Answer(status, json.loads(raw))
    except ValueError:
        return Answer(status, Text(raw.decode(errors="replace")[:300]))


# -- shapes ----------------------------------------------------------------------------------


@dataclass
class Shape:
    """What a JSON value looks like: the scalar types it was seen as, the keys of the objects
    (each with its own shape) and the shape of array elements (all elements merged).

    Merging all elements of an array into one shape compares lists of different lengths (a
    plugin's list of config definitions, the loggers of a JVM and of a Python process) by
    what one element may hold; an empty array has no element to compare."""

    scalars: set[str] = field(default_factory=set)
    keys: dict[str, Shape] | None = None
    items: Shape | None = None
    is_array: bool = False

    def merge(self, other: Shape) -> None:
        self.scalars |= other.scalars
        if other.keys is not None:
            if self.keys is None:
                self.keys = {}
            for key, shape in other.keys.items():
                if key in self.keys:
                    self.keys[key].merge(shape)
                else:
                    self.keys[key] = shape
        if other.is_array:
            self.is_array = True
            if other.items is not None:
                if self.items is None:
                    self.items = Shape()
                self.items.merge(other.items)


def _scalar_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"  # Jackson and Python's json agree on what is a number, not on 1 vs 1.0
    if isinstance(value, str):
        return "string"
    if isinstance(value, Text):
        return TEXT
    raise TypeError(type(value))


def shape_of(value: Any) -> Shape:
    if isinstance(value, dict):
        return Shape(keys={key: shape_of(item) for key, item in value.items()})
    if isinstance(value, list):
        shape = Shape(is_array=True)
        for item in value:
            if shape.items is None:
                shape.items = Shape()
            shape.items.merge(shape_of(item))
        return shape
    return Shape(scalars={_scalar_type(value)})


def _kinds(shape: Shape) -> list[str]:
    kinds = sorted(shape.scalars)
    if shape.keys is not None:
        kinds.append("object")
    if shape.is_array:
        kinds.append("array")
    return kinds


def shape_differences(
    ours: Shape, theirs: Shape, path: str = "$"
) -> list[str]:
    """Differences between the shape of this service's answer (``ours``) and Kafka Connect's
    (``theirs``), one line each, named by JSON path: ``$.connector: key 'version' only in
    Kafka Connect``, ``$.tasks[]: types ['array'] vs Kafka Connect ['null']``."""
    out: list[str] = []
    if _kinds(ours) != _kinds(theirs):
        out.append(f"{path}: types {_kinds(ours)} vs Kafka Connect {_kinds(theirs)}")
    if ours.keys is not None and theirs.keys is not None:
        for key in sorted(theirs.keys.keys() - ours.keys.keys()):
            out.append(f"{path}: key '{key}' only in Kafka Connect")
        for key in sorted(ours.keys.keys() - theirs.keys.keys()):
            out.append(f"{path}: key '{key}' only here")
        for key in sorted(ours.keys.keys() & theirs.keys.keys()):
            out.extend(shape_differences(ours.keys[key], theirs.keys[key], f"{path}.{key}"))
    if ours.items is not None and theirs.items is not None:
        out.extend(shape_differences(ours.items, theirs.items, f"{path}[]"))
    return out


def answer_differences(ours: Answer, theirs: Answer) -> list[str]:
    """Status first; the shapes of the bodies only when both answered the same status (a
    400 next to a 500 is one difference, not also one of their bodies)."""
    if ours.status != theirs.status:
        return [f"status {ours.status} vs Kafka Connect {theirs.status}"]
    return shape_differences(shape_of(ours.body), shape_of(theirs.body))

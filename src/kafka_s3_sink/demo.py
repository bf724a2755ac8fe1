"""``kafka-s3-sink demo``: the whole path on one machine, with nothing else installed.

Starts a local Kafka broker (fetched from Maven Central on first use), writes a ``.env``
that archives into a local folder, sends sample sensor readings with the real SINETStream
writer (and one message that is not SINETStream, to show the dead-letter folder), runs
``kafka-s3-sink run`` on that ``.env`` and shows the objects that appear.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .devtools.kafka_broker import DEFAULT_VERSION, LocalKafkaBroker, cache_root, fetch_kafka

TOPIC = "sinetstream.sensor"
BUCKET = "mybucket"


# Written into the demo folder: a later run may then clear what an earlier one left.
MARKER = ".kafka-s3-sink-demo"


def run_demo(workdir: Path, messages: int) -> int:
    workdir = workdir.resolve()
    problem = _missing_prerequisite() or _unusable_folder(workdir)
    if problem:
        print(f"kafka-s3-sink demo: {problem}", file=sys.stderr)
        return 1
    _start_afresh(workdir)
    print(f"demo folder: {workdir}")
    if not _kafka_cached():
        print("fetching Apache Kafka from Maven Central with mvn (first run only, ~1 min)...")
    try:
        fetch_kafka()
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0]
        print(f"kafka-s3-sink demo: cannot fetch Kafka: {first_line}", file=sys.stderr)
        return 1
    with LocalKafkaBroker(workdir / "broker") as broker:
        print(f"Kafka broker ready at {broker.bootstrap}")
        broker.create_topic(TOPIC, partitions=3)
        env_file = _write_env(workdir, broker.bootstrap)
        print(f"wrote {env_file}:\n{env_file.read_text()}")
        _send_samples(broker.bootstrap, messages)
        return _archive(workdir, env_file, expected=2 * messages + 2)


def _missing_prerequisite() -> str | None:
    """The demo's broker is Apache Kafka: a JVM, and Maven to fetch its jars once."""
    if shutil.which("java") is None:
        return (
            "java is needed to run the demo's Kafka broker and was not found on PATH: "
            "install a Java 17+ runtime (e.g. apt-get install default-jre-headless)"
        )
    if not _kafka_cached() and shutil.which("mvn") is None:
        return (
            "mvn (Maven) is needed once to download Kafka and was not found on PATH: "
            "install it (e.g. apt-get install maven)"
        )
    return None


def _kafka_cached() -> bool:
    home = cache_root() / f"kafka-{DEFAULT_VERSION}"
    return (home / "log4j2.properties").is_file() and (home / "libs").is_dir()


def _unusable_folder(workdir: Path) -> str | None:
    if workdir.exists() and any(workdir.iterdir()) and not (workdir / MARKER).exists():
        return (
            f"{workdir} is not empty and is not a demo folder: choose another --dir "
            "(the demo clears its folder at each run)"
        )
    return None


def _start_afresh(workdir: Path) -> None:
    """Each run starts from an empty broker and archive, so that running the demo again
    in the same folder shows the same thing (no topic left over, no old objects)."""
    leftovers = [workdir / name for name in ("broker", "data", ".env") if (workdir / name).exists()]
    if leftovers:
        print(f"clearing the previous demo run in {workdir}")
    for path in leftovers:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by `kafka-s3-sink demo`; cleared at each run\n")


def _write_env(workdir: Path, bootstrap: str) -> Path:
    env_file = workdir / ".env"
    env_file.write_text(
        "\n".join(
            [
                f"BROKER_HOSTNAME={bootstrap}",
                f"KAFKA_TOPIC={TOPIC}",
                f"S3_BUCKET_NAME={BUCKET}",
                "S3_OBJECT_EXTENSION=.json",
                f"STORE_URL=file://{workdir / 'data'}",
                "PROGRESS_INTERVAL_S=2",
                # The demo's REST API stays on this machine, on a port nothing else uses.
                "REST_HOST=127.0.0.1",
                f"REST_PORT={_free_port()}",
                "",
            ]
        )
    )
    return env_file


def _send_samples(bootstrap: str, count: int) -> None:
    from confluent_kafka import Producer
    from sinetstream import MessageWriter

    with MessageWriter(
        service="demo",
        no_config=True,
        type="kafka",
        brokers=bootstrap,
        topic=TOPIC,
        value_type="byte_array",
        consistency="AT_LEAST_ONCE",
    ) as writer:
        for i in range(count):
            reading = {"sensor": f"sensor-{i % 3}", "temperature": round(20 + i * 0.1, 1)}
            writer.publish(json.dumps(reading).encode())
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(TOPIC, b"this is not a SINETStream message", partition=0)
    producer.flush(10)
    print(f"sent {count} SINETStream messages and 1 plain message to {TOPIC}")


def _archive(workdir: Path, env_file: Path, expected: int) -> int:
    data = workdir / "data"
    service = subprocess.Popen(
        [sys.executable, "-m", "kafka_s3_sink.cli", "run", "--env-file", str(env_file)],
        cwd=workdir,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    found: list[Path] = []
    while time.monotonic() < deadline and service.poll() is None:
        found = sorted(p for p in (data / BUCKET).rglob("*") if p.is_file())
        if len(found) >= expected:
            break
        time.sleep(0.5)
    service.send_signal(signal.SIGTERM)
    code = service.wait(60)
    print(f"\n{len(found)} objects under {data}:")
    for path in found[:8]:
        print(f"  {path.relative_to(data)}")
    if len(found) > 8:
        print(f"  ... and {len(found) - 8} more")
    first = f"{TOPIC}+0+0000000000"
    for path in found:
        if (
            path.name in (f"{first}.json", f"{first}-timestamp.txt")
            or path.suffix == ".json"
            and ("dead-letter" in path.parts)
        ):
            print(f"\n{path.relative_to(data)}:\n{path.read_text()}")
    ok = len(found) >= expected and code == 0
    print("demo finished" if ok else f"demo failed: service exit code {code}")
    return 0 if ok else 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

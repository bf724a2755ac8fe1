"""Operating the service as a site would: start-up that waits for its dependencies,
GET /health (KIP-1017) and GET /metrics (Prometheus), against a real broker and S3 server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import (
    Service,
    env_value,
    free_port,
    local_env,
    local_objects,
    rest,
    s3_env,
    s3_objects,
    wait_until,
)
from helpers import produce_sinetstream, unique_name
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUCKET = "mybucket"


def health(env_file: Path) -> tuple[int, dict]:
    try:
        status, body = rest(env_file, "GET", "/health")
    except OSError:
        return 0, {}
    return status, body if isinstance(body, dict) else {}


def health_command(env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kafka_s3_sink.cli", "health", "--env-file", str(env_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def scrape(env_file: Path) -> dict[str, float]:
    """The samples of GET /metrics: "name{label=value,...}" -> value (labels sorted)."""
    url = f"http://127.0.0.1:{env_value(env_file, 'REST_PORT')}/metrics"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def archived(env_file: Path) -> int:
    return len(local_objects(env_file.parent / "data", BUCKET))


def test_waits_for_the_broker_then_archives_by_itself(tmp_path, kafka_broker_private):
    broker = kafka_broker_private
    topic = broker.create_topic(unique_name("late-broker"), partitions=2)
    broker.stop()
    env_file = local_env(tmp_path, broker.bootstrap, topic, BUCKET)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(
            lambda: "waiting for the Kafka broker" in service.log(), 60, "a waiting line"
        )
        # The REST port is bound before the broker answers: /health says what it waits for.
        status, body = health(env_file)
        assert status == 503 and body["status"] == "starting"
        assert body["message"].startswith("Worker is still starting up.")
        assert broker.bootstrap in body["message"]
        assert rest(env_file, "GET", "/connectors")[0] == 503
        assert service.running
        broker.start(timeout=120)
        produce_sinetstream(broker.bootstrap, topic, [b"m%d" % i for i in range(10)])
        wait_until(lambda: archived(env_file) == 20, 90, "20 objects")
        assert health(env_file)[0] == 200
        assert "available after" in service.log()
        assert service.stop() == 0
    assert "Traceback" not in service.log()


def test_waits_for_a_topic_created_after_start(tmp_path, kafka_broker):
    topic = unique_name("late-topic")
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, BUCKET)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: f"waiting for topic {topic}" in service.log(), 60, "a waiting line")
        assert health(env_file)[1]["status"] == "starting"
        # The container HEALTHCHECK's command: not healthy yet, and says why in one line.
        probe = health_command(env_file)
        assert probe.returncode == 1 and probe.stdout.startswith("starting: Worker is still")
        kafka_broker.create_topic(topic, partitions=2)
        produce_sinetstream(kafka_broker.bootstrap, topic, [b"m%d" % i for i in range(5)])
        wait_until(lambda: archived(env_file) == 10, 90, "10 objects")
        status, body = health(env_file)
        assert (status, body["status"]) == (200, "healthy")
        assert body["message"] == "Worker has completed startup and is ready to handle requests."
        assert health_command(env_file).returncode == 0
        assert service.stop() == 0


def test_metrics_count_what_was_archived_and_survive_pause_resume(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=3)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, BUCKET)
    data = 's3-sink-data'
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: health(env_file)[0] == 200, 60, "ready")
        produce_sinetstream(kafka_broker.bootstrap, topic, [b"x" * 10] * 12)
        wait_until(lambda: archived(env_file) == 24, 60, "24 objects")
        before = scrape(env_file)
        assert before[f"kafka_s3_sink_records_total{{connector={data}}}"] == 12
        assert before[f"kafka_s3_sink_objects_total{{connector={data}}}"] == 12
        # Each payload object is the 10 bytes plus the line separator.
        assert before[f"kafka_s3_sink_bytes_total{{connector={data}}}"] == 12 * 11
        assert before[f"kafka_s3_sink_dead_letters_total{{connector={data}}}"] == 0
        assert before[f"kafka_s3_sink_upload_duration_seconds_count{{connector={data}}}"] == 12
        assert before[f"kafka_s3_sink_connector_state{{connector={data},state=RUNNING}}"] == 1
        assert before[f"kafka_s3_sink_task_state{{connector={data},state=RUNNING,task=0}}"] == 1
        assert before["kafka_s3_sink_ready{}"] == 1
        wait_until(
            lambda: sum(
                v for k, v in scrape(env_file).items()
                if k.startswith(f"kafka_s3_sink_committed_offset{{connector={data},")
            ) == 12,
            30,
            "offsets committed",
        )
        assert rest(env_file, "PUT", f"/connectors/{data}/pause")[0] == 202
        wait_until(
            lambda: scrape(env_file).get(
                f"kafka_s3_sink_connector_state{{connector={data},state=PAUSED}}"
            ) == 1,
            30,
            "paused",
        )
        assert scrape(env_file)[f"kafka_s3_sink_records_total{{connector={data}}}"] == 12
        assert rest(env_file, "PUT", f"/connectors/{data}/resume")[0] == 202
        produce_sinetstream(kafka_broker.bootstrap, topic, [b"y" * 10] * 5)
        wait_until(lambda: archived(env_file) == 34, 60, "34 objects")
        wait_until(
            lambda: scrape(env_file)[f"kafka_s3_sink_records_total{{connector={data}}}"] == 17,
            30,
            "17 records counted across the pause",
        )
        after = scrape(env_file)
        assert after["kafka_s3_sink_records_total{connector=s3-sink-timestamp}"] == 17
        assert after[f"kafka_s3_sink_bytes_total{{connector={data}}}"] == 17 * 11
        assert service.stop() == 0


@contextlib.contextmanager
def moto_on(port: int, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A moto S3 server on a fixed port (so that it can be stopped and started again)."""
    script = Path(sys.executable).with_name("moto_server")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    with open(workdir / "moto.log", "ab") as log:
        proc = subprocess.Popen(
            [*cmd, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        def up() -> bool:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2).close()
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False
            return True

        wait_until(up, 60, "moto")
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_health_is_unhealthy_while_the_s3_server_is_down(tmp_path, kafka_broker, topic_factory):
    topic = topic_factory(partitions=1)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env_file = s3_env(
        tmp_path, kafka_broker.bootstrap, topic, endpoint, BUCKET,
    )
    with moto_on(port, tmp_path), Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: health(env_file)[0] == 200, 60, "ready")
        assert "created bucket" in service.log()
    # moto is gone (the service is not: restarted below around it).
    with Service(env_file, tmp_path / "service2.log") as service:
        wait_until(
            lambda: "waiting for the object store" in service.log(), 60, "a waiting line"
        )
        assert health(env_file)[1]["status"] == "starting"
        with moto_on(port, tmp_path):
            wait_until(lambda: health(env_file)[0] == 200, 60, "ready once S3 is up")
            produce_sinetstream(kafka_broker.bootstrap, topic, [b"a", b"b"])
            wait_until(lambda: len(s3_objects(endpoint, BUCKET)) == 4, 60, "4 objects")
        # The server stopped while running: /health says so, naming the object store.
        wait_until(lambda: health(env_file)[0] == 503, 30, "503 while S3 is down")
        status, body = health(env_file)
        assert body["status"] == "unhealthy" and "object store" in body["message"]
        assert scrape(env_file)["kafka_s3_sink_ready{}"] == 0
        with moto_on(port, tmp_path):  # a new, empty server: the bucket is created again
            wait_until(lambda: health(env_file)[0] == 200, 60, "healthy again")
            assert "reachable again" in service.log()
        assert service.stop() == 0


def test_the_demo_runs_again_in_the_same_folder(tmp_path):
    for run in (1, 2):
        done = subprocess.run(
            [sys.executable, "-m", "kafka_s3_sink.cli", "demo", "--dir", str(tmp_path / "demo"),
             "--messages", "5"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"run {run}:\n{done.stdout}\n{done.stderr}"
        assert "demo finished" in done.stdout and "Traceback" not in done.stderr


def test_json_log_lines(tmp_path, kafka_broker, topic_factory):
    import json

    topic = topic_factory(partitions=1)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, BUCKET, LOG_FORMAT="json")
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: health(env_file)[0] == 200, 60, "ready")
        assert service.stop() == 0
    entries = [json.loads(line) for line in service.log().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["message"].startswith("REST API on http://") for e in entries)


def test_a_changed_env_is_logged_as_a_restart(tmp_path, kafka_broker, topic_factory):
    topic = topic_factory(partitions=1)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, BUCKET)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(lambda: health(env_file)[0] == 200, 60, "ready")
        assert service.stop() == 0
    env_file.write_text(env_file.read_text() + "S3_OBJECT_EXTENSION=.json\n")
    with Service(env_file, tmp_path / "service2.log") as service:
        wait_until(lambda: health(env_file)[0] == 200, 60, "ready")
        assert service.stop() == 0
    assert (
        "connector s3-sink-data: .env changed (format.bytearray.extension): restarting it "
        "with the new config" in service.log()
    )

"""GET /health (KIP-1017), the start-up gate, and GET /metrics, without servers."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from kafka_s3_sink.connect.rest.app import create_app
from kafka_s3_sink.connect.rest.health import HEALTHY, StartupGate
from kafka_s3_sink.connect.rest.metrics import WorkerCollector, metrics_renderer
from kafka_s3_sink.engine.metrics import StatsRegistry
from kafka_s3_sink.startup import Readiness

from .fake_registry import PLUGINS, FakeRegistry, FakeValidator, mask, sink_config


def app_with(readiness: Readiness, registry: FakeRegistry, stats: StatsRegistry) -> StartupGate:
    collector = WorkerCollector(stats, registry, lambda: [], readiness)
    app = create_app(
        registry,
        FakeValidator(),
        PLUGINS,
        mask,
        "0.1.0",
        health=readiness,
        metrics=metrics_renderer(collector),
    )
    return StartupGate(app, lambda: readiness.starting)


def test_health_follows_start_up_and_dependencies() -> None:
    readiness = Readiness()
    client = TestClient(app_with(readiness, FakeRegistry(), StatsRegistry()))
    readiness.waiting("the Kafka broker at kafka:9092: cannot reach it")
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "starting",
        "message": "Worker is still starting up. Waiting: the Kafka broker at kafka:9092: "
        "cannot reach it",
    }
    # Until started, connector endpoints answer 503 at once instead of hanging.
    assert client.get("/connectors").status_code == 503
    assert client.get("/").status_code == 503  # scripts take GET / 200 as "ready"
    assert client.get("/metrics").status_code == 200
    readiness.ready()
    assert client.get("/").status_code == 200
    assert client.get("/health").json() == {"status": "healthy", "message": HEALTHY}
    assert client.get("/connectors").status_code == 200
    assert readiness.problem("S3", "cannot reach the object store at http://minio:9000")
    answer = client.get("/health")
    assert answer.status_code == 503 and answer.json()["status"] == "unhealthy"
    assert answer.json()["message"].startswith(
        "Worker was unable to handle this request and may be unable to handle other requests."
    )
    assert "object store" in answer.json()["message"]
    assert readiness.problem("S3", None)
    assert client.get("/health").status_code == 200


def test_metrics_counters_outlive_tasks_and_parse() -> None:
    stats = StatsRegistry()
    first = stats.for_task("s3-sink-data", 0)
    first.records, first.bytes, first.objects = 10, 110, 10
    first.upload_latency.observe(0.003)
    first.upload_latency.observe(0.2)
    # A task started again (resume, restart) continues the same counters.
    again = stats.for_task("s3-sink-data", 0)
    assert again is first
    again.records += 5
    registry = FakeRegistry()
    asyncio.run(registry.create("s3-sink-data", sink_config()))
    readiness = Readiness()
    readiness.ready()
    client = TestClient(app_with(readiness, registry, stats))
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
    data = (("connector", "s3-sink-data"),)
    assert samples[("kafka_s3_sink_records_total", data)] == 15
    assert samples[("kafka_s3_sink_bytes_total", data)] == 110
    assert samples[("kafka_s3_sink_upload_duration_seconds_count", data)] == 2
    assert samples[("kafka_s3_sink_upload_duration_seconds_bucket", (*data, ("le", "0.005")))] == 1
    assert samples[("kafka_s3_sink_upload_duration_seconds_bucket", (*data, ("le", "+Inf")))] == 2
    running = (("connector", "s3-sink-data"), ("state", "RUNNING"))
    assert samples[("kafka_s3_sink_connector_state", running)] == 1
    assert samples[("kafka_s3_sink_ready", ())] == 1

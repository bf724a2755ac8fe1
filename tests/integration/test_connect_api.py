"""The Kafka Connect REST API of a running service, driven as sites drive Kafka Connect."""

from __future__ import annotations

import gzip
import json
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from harness import (
    Service,
    env_value,
    expected_objects,
    local_env,
    local_objects,
    read_topic,
    rest,
    s3_env,
    s3_objects,
    wait_for_api,
    wait_until,
    write_env,
)
from helpers import make_bucket, produce_sinetstream, unique_name

from kafka_s3_sink.pipeline.sinetstream_codec import decode

pytestmark = pytest.mark.integration

WRITER_TIME = 1650243600.123456
S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
TIME_BASED = "io.confluent.connect.storage.partitioner.TimeBasedPartitioner"


def registration_bodies(env: dict[str, str]) -> list[dict]:
    """The two POST bodies of the reference registration script, built from a .env."""
    common = {
        "connector.class": S3_SINK,
        "value.converter": "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "tasks.max": 1,
        "flush.size": "1",
        "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        "path.format": "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
        "partition.duration.ms": "3600000",
        "timestamp.extractor": "Record",
        "locale": "C",
        "timezone": "Asia/Tokyo",
        "s3.region": env.get("S3_REGION", "us-east-1"),
        "s3.bucket.name": env["S3_BUCKET_NAME"],
        "topics": env["KAFKA_TOPIC"],
        "store.url": env["S3_ENDPOINT_URL"],
    }
    cast = "jp.ad.sinet.sinetstream.connect.transforms.ByteArrayCast$Value"
    extract = "org.apache.kafka.connect.transforms.ExtractField$Value"
    timestamp = {
        **common,
        "group.id": "kafka-connect-s3-sink-timestamp",
        "transforms": "Timestamp,ExtractField,ByteArrayCast",
        "transforms.Timestamp.type": "jp.ad.sinet.sinetstream.connect.transforms."
        "MicrosecondTimestampConverter$Value",
        "transforms.Timestamp.field": "tstamp",
        "transforms.Timestamp.format": "yyyy-MM-dd'T'HH:mm:ss.SSS",
        "transforms.Timestamp.target.type": "string",
        "transforms.ExtractField.type": extract,
        "transforms.ExtractField.field": "tstamp",
        "transforms.ByteArrayCast.type": cast,
        "format.bytearray.extension": "-timestamp.txt",
    }
    data = {
        **common,
        "group.id": "kafka-connect-s3-sink-data",
        "transforms": "ExtractField,ByteArrayCast",
        "transforms.ExtractField.type": extract,
        "transforms.ExtractField.field": "msg",
        "transforms.ByteArrayCast.type": cast,
        "format.bytearray.extension": env.get("S3_OBJECT_EXTENSION", ".bin"),
    }
    return [
        {"name": "s3-sink-timestamp", "config": timestamp},
        {"name": "s3-sink-data", "config": data},
    ]


def curl(env_file: Path, *args: str) -> str:
    port = env_value(env_file, "REST_PORT")
    command = ["curl", "-s", "--fail-with-body", *args]
    command[-1] = command[-1].replace("localhost:8083", f"127.0.0.1:{port}")
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def test_registration_script_and_guide_checks_work_unchanged(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    topic = topic_factory(partitions=3)
    payloads = [f'{{"n": {i}}}'.encode() for i in range(30)]
    produce_sinetstream(kafka_broker.bootstrap, topic, payloads, timestamp=WRITER_TIME)
    bucket = make_bucket(s3_endpoint)
    env = {
        "BROKER_HOSTNAME": kafka_broker.bootstrap,
        "KAFKA_TOPIC": topic,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_KEY": "test",
        "S3_BUCKET_NAME": bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_OBJECT_EXTENSION": ".json",
    }
    env_file = write_env(tmp_path / ".env", **env, REGISTER_DEFAULTS="false")
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        assert json.loads(curl(env_file, "http://localhost:8083/connectors")) == []
        for body in registration_bodies(env):
            created = json.loads(
                curl(
                    env_file,
                    "-X",
                    "POST",
                    "-H",
                    "Content-Type: application/json",
                    "--data",
                    json.dumps(body),
                    "http://localhost:8083/connectors",
                )
            )
            assert created["name"] == body["name"]
            assert created["type"] == "sink"
        names = json.loads(curl(env_file, "-X", "GET", "http://localhost:8083/connectors"))
        assert sorted(names) == ["s3-sink-data", "s3-sink-timestamp"]
        for name in names:
            status = json.loads(
                curl(
                    env_file, "-X", "GET", f"http://localhost:8083/connectors/{name}/tasks/0/status"
                )
            )
            # The guide's shape, and the plugin version Kafka Connect 4.1 adds.
            assert set(status) == {"id", "state", "worker_id", "version"}
            assert status["id"] == 0 and status["state"] == "RUNNING"
        records = read_topic(kafka_broker.bootstrap, topic, len(payloads))
        expected = expected_objects(
            topic,
            records,
            lambda r: bytes(decode(r.value).msg),
            lambda r: decode(r.value).tstamp_us,
            extension=".json",
        )
        wait_until(
            lambda: len(s3_objects(s3_endpoint, bucket)) >= len(expected),
            60,
            "the objects of both connectors",
        )
        # The secret never shows in clear; the guide's DELETE calls work.
        config = json.loads(curl(env_file, "http://localhost:8083/connectors/s3-sink-data/config"))
        assert (
            "aws.secret.access.key" not in config or config["aws.secret.access.key"] == "[hidden]"
        )
        curl(env_file, "-X", "DELETE", "http://localhost:8083/connectors/s3-sink-data")
        assert json.loads(curl(env_file, "http://localhost:8083/connectors")) == [
            "s3-sink-timestamp"
        ]
        assert service.stop() == 0, service.log()
    assert s3_objects(s3_endpoint, bucket) == expected


def test_api_errors_from_a_real_worker(tmp_path, kafka_broker, topic_factory):
    topic = topic_factory(partitions=1)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, bucket="b")
    config = {
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "connector.class": "S3SinkConnector",
        "topics": topic,
        "s3.bucket.name": "b",
        "flush.size": "10",
        "aws.access.key.id": "id",
        "aws.secret.access.key": "very-secret",
        "store.url": f"file://{tmp_path / 'data'}",
    }
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        assert rest(env_file, "POST", "/connectors", {"name": "c1", "config": config})[0] == 201
        status, body = rest(env_file, "POST", "/connectors", {"name": "c1", "config": config})
        assert (status, body["error_code"]) == (409, 409)
        status, body = rest(env_file, "GET", "/connectors/nope/status")
        assert (status, body["error_code"]) == (404, 404)
        bad = {**config, "s3.acl.frobnicate": "x"}
        status, body = rest(env_file, "POST", "/connectors", {"name": "c2", "config": bad})
        assert status == 400 and "s3.acl.frobnicate" in body["message"]
        status, body = rest(env_file, "GET", "/connectors/c1/config")
        assert body["aws.secret.access.key"] != "very-secret"
        assert "very-secret" not in service.log()
        assert rest(env_file, "GET", "/openapi.json")[0] == 200
        service.stop()


def empty_worker_env(tmp_path: Path, bootstrap: str, topic: str, root: Path) -> Path:
    """A .env for a worker that starts with no connector (they come by POST), store ``root``."""
    return write_env(
        tmp_path / ".env",
        BROKER_HOSTNAME=bootstrap,
        KAFKA_TOPIC=topic,
        S3_BUCKET_NAME="batch",
        STORE_URL=f"file://{root}",
        REGISTER_DEFAULTS="false",
    )


def batch_connector(name: str, topic: str, root: Path, **extra: str) -> dict:
    return {
        "name": name,
        "config": {
            "connector.class": S3_SINK,
            "topics": topic,
            "s3.bucket.name": "batch",
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            "store.url": f"file://{root}",
            "flush.size": "100",
            **extra,
        },
    }


def test_flush_size_100_objects_as_the_confluent_connector_writes_them(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=1)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    values = [json.dumps({"n": i, "sensor": "s1"}).encode() for i in range(250)]
    for value in values:
        producer.produce(topic, value, timestamp=1650243600000 + 1000)
    producer.flush(10)
    root = tmp_path / "archive"
    env_file = empty_worker_env(tmp_path, kafka_broker.bootstrap, topic, root)
    byte_array = "org.apache.kafka.connect.converters.ByteArrayConverter"
    connectors = [
        batch_connector("raw", topic, root, **{"value.converter": byte_array, "topics.dir": "raw"}),
        batch_connector(
            "raw-gz",
            topic,
            root,
            **{"value.converter": byte_array, "topics.dir": "rawgz", "s3.compression.type": "gzip"},
        ),
        batch_connector(
            "json-hourly",
            topic,
            root,
            **{
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "false",
                "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
                "partitioner.class": TIME_BASED,
                "path.format": "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
                "partition.duration.ms": "3600000",
                "locale": "en-US",
                "timezone": "UTC",
                "timestamp.extractor": "Record",
                "topics.dir": "json",
                "s3.compression.type": "gzip",
            },
        ),
    ]
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        for body in connectors:
            status, answer = rest(env_file, "POST", "/connectors", body)
            assert status == 201, answer
        wait_until(
            lambda: root.exists() and len(local_objects(root, "batch")) >= 6,
            60,
            "two objects of 100 records per connector",
        )
        assert service.stop() == 0, service.log()
    objects = local_objects(root, "batch")
    first, second = (
        b"".join(v + b"\n" for v in values[:100]),
        b"".join(v + b"\n" for v in values[100:200]),
    )
    hour = "year=2022/month=04/day=18/hour=01"
    assert objects == {
        f"raw/{topic}/partition=0/{topic}+0+0000000000.bin": first,
        f"raw/{topic}/partition=0/{topic}+0+0000000100.bin": second,
        f"rawgz/{topic}/partition=0/{topic}+0+0000000000.bin.gz": objects[
            f"rawgz/{topic}/partition=0/{topic}+0+0000000000.bin.gz"
        ],
        f"rawgz/{topic}/partition=0/{topic}+0+0000000100.bin.gz": objects[
            f"rawgz/{topic}/partition=0/{topic}+0+0000000100.bin.gz"
        ],
        f"json/{topic}/{hour}/{topic}+0+0000000000.json.gz": objects[
            f"json/{topic}/{hour}/{topic}+0+0000000000.json.gz"
        ],
        f"json/{topic}/{hour}/{topic}+0+0000000100.json.gz": objects[
            f"json/{topic}/{hour}/{topic}+0+0000000100.json.gz"
        ],
    }  # records 200-249 wait in the open batch, as with Confluent, and are not committed
    assert (
        gzip.decompress(objects[f"rawgz/{topic}/partition=0/{topic}+0+0000000000.bin.gz"]) == first
    )
    lines = gzip.decompress(objects[f"json/{topic}/{hour}/{topic}+0+0000000100.json.gz"])
    assert [json.loads(line) for line in lines.splitlines()] == [
        json.loads(v) for v in values[100:200]
    ]


@pytest.mark.parametrize("storage", ["topic", "file"])
def test_connectors_and_their_state_survive_a_restart(
    tmp_path, kafka_broker, topic_factory, storage
):
    topic = topic_factory(partitions=1)
    config_file = tmp_path / "state" / "connectors.json"
    standalone = {"CONFIG_STORAGE_FILE": str(config_file)} if storage == "file" else {}
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, bucket="b", **standalone)
    extra = batch_connector("extra", topic, tmp_path / "data")
    with Service(env_file, tmp_path / "first.log") as service:
        wait_for_api(env_file, service)
        assert rest(env_file, "POST", "/connectors", extra)[0] == 201
        assert rest(env_file, "PUT", "/connectors/s3-sink-timestamp/pause")[0] == 202
        assert rest(env_file, "PUT", "/connectors/extra/stop")[0] == 204
        assert service.stop() == 0
    if storage == "file":  # standalone: the file holds everything, and no topic was made
        stored = json.loads(config_file.read_text())["connectors"]
        assert stored["extra"]["target_state"] == "STOPPED"
        assert stored["s3-sink-timestamp"]["origin"] == "env"
        admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
        topics = admin.list_topics(timeout=10).topics
        assert env_value(env_file, "CONFIG_STORAGE_TOPIC") not in topics
    with Service(env_file, tmp_path / "second.log") as service:
        wait_for_api(env_file, service)
        names = rest(env_file, "GET", "/connectors")[1]
        assert sorted(names) == ["extra", "s3-sink-data", "s3-sink-timestamp"]
        state = {
            name: rest(env_file, "GET", f"/connectors/{name}/status")[1]["connector"]["state"]
            for name in names
        }
        assert state == {
            "extra": "STOPPED",
            "s3-sink-data": "RUNNING",
            "s3-sink-timestamp": "PAUSED",
        }
        assert rest(env_file, "PUT", "/connectors/s3-sink-timestamp/resume")[0] == 202
        status = rest(env_file, "GET", "/connectors/s3-sink-timestamp/status")[1]
        assert status["connector"]["state"] == "RUNNING"
        assert status["tasks"][0]["state"] == "RUNNING"
        assert service.stop() == 0


def test_batches_are_exactly_once_across_crashes(tmp_path, kafka_broker, topic_factory):
    """flush.size=100 under SIGKILLs: every object holds the same 100 records as without."""
    topic = topic_factory(partitions=1)
    root = tmp_path / "archive"
    env_file = empty_worker_env(tmp_path, kafka_broker.bootstrap, topic, root)
    values = [f"record {i:05d}".encode() for i in range(5000)]
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    connector = batch_connector(
        "eo",
        topic,
        root,
        **{"value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter"},
    )
    service = Service(env_file, tmp_path / "service.log").start()
    try:
        wait_for_api(env_file, service)
        assert rest(env_file, "POST", "/connectors", connector)[0] == 201
        for chunk in range(5):
            for value in values[chunk * 1000 : (chunk + 1) * 1000]:
                producer.produce(topic, value)
            producer.flush(10)
            before = len(local_objects(root, "batch")) if root.exists() else 0
            wait_until(
                lambda b=before: root.exists() and len(local_objects(root, "batch")) > b,
                60,
                "a new object before the kill",
            )
            service.kill()
            service = Service(env_file, tmp_path / "service.log").start()  # config from topic
        wait_until(lambda: len(local_objects(root, "batch")) >= 50, 90, "all 50 objects")
        wait_for_api(env_file, service)
        assert service.stop() == 0, service.log()
    finally:
        if service.running:
            service.kill()
    expected = {
        f"topics/{topic}/partition=0/{topic}+0+{start:010d}.bin": b"".join(
            v + b"\n" for v in values[start : start + 100]
        )
        for start in range(0, 5000, 100)
    }
    assert local_objects(root, "batch") == expected


def test_connectors_dropped_from_env_are_deleted_at_restart(tmp_path, kafka_broker, topic_factory):
    topic = topic_factory(partitions=1)
    common = {
        "BROKER_HOSTNAME": kafka_broker.bootstrap,
        "KAFKA_TOPIC": topic,
        "S3_BUCKET_NAME": "b",
        "STORE_URL": f"file://{tmp_path / 'data'}",
        "CONFIG_STORAGE_TOPIC": f"cfg-{topic}",
    }
    first = write_env(tmp_path / "first.env", **common, DATA_CONNECTOR="old-data")
    with Service(first, tmp_path / "first.log") as service:
        wait_for_api(first, service)
        extra = batch_connector("from-api", topic, tmp_path / "data")
        assert rest(first, "POST", "/connectors", extra)[0] == 201
        assert service.stop() == 0
    second = write_env(tmp_path / "second.env", **common, DATA_CONNECTOR="new-data")
    with Service(second, tmp_path / "second.log") as service:
        wait_for_api(second, service)
        names = sorted(rest(second, "GET", "/connectors")[1])
        # The one renamed in .env is gone; the one added through the API stays.
        assert names == ["from-api", "new-data", "s3-sink-timestamp"]
        assert service.stop() == 0


def test_offsets_altered_and_reset_while_stopped_set_where_archiving_resumes(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=1)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(30):
        producer.produce(topic, f"record {i}".encode())
    producer.flush(10)
    root = tmp_path / "archive"
    env_file = empty_worker_env(tmp_path, kafka_broker.bootstrap, topic, root)
    body = batch_connector("c", topic, root, **{"flush.size": "1"})

    def archived() -> set[str]:
        return set(local_objects(root, "batch")) if root.exists() else set()

    def key(offset: int) -> str:
        return f"topics/{topic}/partition=0/{topic}+0+{offset:010d}.bin"

    def change(method: str, change_body: object = None) -> tuple[int, object]:
        # Right after a stop the group may still hold the task's member for a moment (409).
        answer: list = []
        wait_until(
            lambda: (
                answer.append(rest(env_file, method, "/connectors/c/offsets", change_body))
                or answer[-1][0] != 409
            ),
            30,
            "the consumer group to empty",
        )
        return answer[-1]

    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        assert rest(env_file, "POST", "/connectors", body)[0] == 201
        wait_until(lambda: len(archived()) == 30, 60, "30 objects")
        wait_until(
            lambda: (
                rest(env_file, "GET", "/connectors/c/offsets")[1]["offsets"]
                == [
                    {
                        "partition": {"kafka_topic": topic, "kafka_partition": 0},
                        "offset": {"kafka_offset": 30},
                    }
                ]
            ),
            30,
            "offset 30 committed",
        )
        to_25 = {
            "offsets": [
                {
                    "partition": {"kafka_topic": topic, "kafka_partition": 0},
                    "offset": {"kafka_offset": 25},
                }
            ]
        }
        status, answer = rest(env_file, "PATCH", "/connectors/c/offsets", to_25)
        assert status == 400 and "STOPPED" in answer["message"]  # running: refused

        assert rest(env_file, "PUT", "/connectors/c/stop")[0] == 204
        status, answer = change("PATCH", to_25)
        assert status == 200, answer
        assert rest(env_file, "GET", "/connectors/c/offsets")[1]["offsets"][0]["offset"] == {
            "kafka_offset": 25
        }
        for path in (root / "batch").rglob("*.bin"):
            path.unlink()
        assert rest(env_file, "PUT", "/connectors/c/resume")[0] == 202
        wait_until(lambda: len(archived()) == 5, 60, "offsets 25-29 archived again")
        assert archived() == {key(o) for o in range(25, 30)}

        assert rest(env_file, "PUT", "/connectors/c/stop")[0] == 204
        status, answer = change("DELETE")
        assert status == 200, answer
        assert rest(env_file, "GET", "/connectors/c/offsets")[1] == {"offsets": []}
        assert rest(env_file, "PUT", "/connectors/c/resume")[0] == 202
        wait_until(lambda: len(archived()) == 30, 60, "everything archived again")
        assert archived() == {key(o) for o in range(30)}
        assert service.stop() == 0, service.log()


def test_a_connector_created_stopped_archives_from_the_offsets_set_before_it_resumes(
    tmp_path, kafka_broker, topic_factory
):
    """KIP-980: create STOPPED, set offsets, resume. No task may run before the resume."""
    topic = topic_factory(partitions=1)
    name = unique_name("stopped")  # a group of its own: connect-<name>
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(20):
        producer.produce(topic, f"record {i}".encode())
    producer.flush(10)
    root = tmp_path / "archive"
    env_file = empty_worker_env(tmp_path, kafka_broker.bootstrap, topic, root)
    body = {**batch_connector(name, topic, root, **{"flush.size": "1"}), "initial_state": "STOPPED"}
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        assert rest(env_file, "POST", "/connectors", body)[0] == 201
        status = rest(env_file, "GET", f"/connectors/{name}/status")[1]
        assert status["connector"]["state"] == "STOPPED" and status["tasks"] == []
        assert rest(env_file, "GET", f"/connectors/{name}/offsets")[1] == {"offsets": []}
        to_15 = {
            "offsets": [
                {
                    "partition": {"kafka_topic": topic, "kafka_partition": 0},
                    "offset": {"kafka_offset": 15},
                }
            ]
        }
        status, answer = rest(env_file, "PATCH", f"/connectors/{name}/offsets", to_15)
        assert status == 200, answer
        assert not root.exists() or local_objects(root, "batch") == {}
        assert rest(env_file, "PUT", f"/connectors/{name}/resume")[0] == 202
        wait_until(
            lambda: root.exists() and len(local_objects(root, "batch")) == 5, 60, "5 objects"
        )
        time.sleep(2)  # nothing more may come
        assert set(local_objects(root, "batch")) == {
            f"topics/{topic}/partition=0/{topic}+0+{offset:010d}.bin" for offset in range(15, 20)
        }
        assert service.stop() == 0, service.log()


def test_secrets_by_reference_are_resolved_at_start_and_shown_as_stored(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    """Config providers: the config holds ${file:...}; the task uses the secret it names."""
    topic = topic_factory(partitions=1)
    bucket = make_bucket(s3_endpoint)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "s3.properties").write_text("key=test\nsecret=s3cr3t-by-reference\n")
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"m0", b"m1"], timestamp=WRITER_TIME)
    env_file = s3_env(
        tmp_path, kafka_broker.bootstrap, topic, s3_endpoint, bucket,
        REGISTER_DEFAULTS="false",
        CONFIG_PROVIDERS="file",
        CONFIG_PROVIDERS_ALLOWED_PATHS=str(secrets),
    )
    name = unique_name("ref")
    config = {
        **registration_bodies(
            {"S3_BUCKET_NAME": bucket, "KAFKA_TOPIC": topic, "S3_ENDPOINT_URL": s3_endpoint}
        )[0]["config"],
        "aws.access.key.id": f"${{file:{secrets}/s3.properties:key}}",
        "aws.secret.access.key": f"${{file:{secrets}/s3.properties:secret}}",
    }
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        status, answer = rest(env_file, "POST", "/connectors", {"name": name, "config": config})
        assert status == 201, answer
        wait_until(lambda: len(s3_objects(s3_endpoint, bucket)) == 2, 60, "two objects")
        shown = rest(env_file, "GET", f"/connectors/{name}/config")[1]
        assert shown["aws.secret.access.key"] == config["aws.secret.access.key"]
        broken = {**config, "aws.secret.access.key": f"${{file:{secrets}/s3.properties:nope}}"}
        status, answer = rest(env_file, "PUT", f"/connectors/{name}/config", broken)
        assert status == 400 and "aws.secret.access.key" in answer["message"], answer
        clone = {**config, "aws.secret.access.key": "[hidden]"}
        status, answer = rest(
            env_file, "POST", "/connectors", {"name": name + "-2", "config": clone}
        )
        assert status == 400 and "send the real value" in answer["message"], answer
        assert service.stop() == 0, service.log()
    assert "s3cr3t-by-reference" not in service.log()

"""Config-topic records that cannot be read: shown as FAILED connectors, never fatal.

A record of the compacted config topic that is not JSON, or names a connector class the
service does not have, must neither stop start-up nor the thread that follows the topic. It
is logged, and its connector is listed with state FAILED and the reason as ``trace``, as Kafka
Connect shows a connector that fails to start; a corrected record or a tombstone for that
key repairs or removes it while the service runs. The same for CONFIG_STORAGE_FILE.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confluent_kafka import Producer
from harness import Service, rest, s3_objects, wait_for_api, wait_until, write_env
from helpers import make_bucket, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.slow]

S3_SINK = "io.confluent.connect.s3.S3SinkConnector"


def s3_connector(topic: str, endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "connector.class": S3_SINK,
        "topics": topic,
        "s3.bucket.name": bucket,
        "s3.region": "us-east-1",
        "store.url": endpoint,
        "aws.access.key.id": "test",
        "aws.secret.access.key": "test",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "flush.size": "1",
    }


def stored(config: dict[str, str], state: str = "RUNNING") -> bytes:
    """A config-topic value as the service writes it."""
    return json.dumps({"config": config, "target_state": state, "origin": "api"}).encode()


def put_records(bootstrap: str, topic: str, records: list[tuple[str, bytes | None]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for key, value in records:
        producer.produce(topic, key=key.encode(), value=value)
    assert producer.flush(30) == 0, "the config records were not acknowledged"


def connector_status(env_file: Path, name: str) -> dict:
    code, body = rest(env_file, "GET", f"/connectors/{name}/status")
    assert code == 200, (code, body)
    return body["connector"]


def state_of(env_file: Path, name: str) -> str | None:
    code, body = rest(env_file, "GET", f"/connectors/{name}/status")
    return body["connector"]["state"] if code == 200 else None


def test_unreadable_config_records_are_failed_connectors_until_fixed(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    bootstrap = kafka_broker.bootstrap
    data_topic = topic_factory(partitions=1)
    config_topic = kafka_broker.create_topic(
        unique_name("configs"), partitions=1, config={"cleanup.policy": "compact"}
    )
    bucket = make_bucket(s3_endpoint)
    good = s3_connector(data_topic, s3_endpoint, bucket)
    wrong_class = {**good, "connector.class": "com.example.NoSuchConnector"}
    put_records(
        bootstrap,
        config_topic,
        [
            ("not-json", b"{this is not json"),
            ("wrong-class", stored(wrong_class)),
            ("good", stored(good)),
        ],
    )
    env_file = write_env(
        tmp_path / ".env",
        BROKER_HOSTNAME=bootstrap,
        KAFKA_TOPIC=data_topic,
        S3_BUCKET_NAME=bucket,
        S3_ENDPOINT_URL=s3_endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_KEY="test",
        REGISTER_DEFAULTS="false",
        CONFIG_STORAGE_TOPIC=config_topic,
    )
    producer = Producer({"bootstrap.servers": bootstrap})
    with Service(env_file, tmp_path / "first.log") as service:
        wait_for_api(env_file, service)  # today: exit 1 with a traceback, never answers
        assert sorted(rest(env_file, "GET", "/connectors")[1]) == [
            "good",
            "not-json",
            "wrong-class",
        ]
        not_json = connector_status(env_file, "not-json")
        assert not_json["state"] == "FAILED"
        assert "not valid JSON" in not_json["trace"]
        wrong = connector_status(env_file, "wrong-class")
        assert wrong["state"] == "FAILED"
        assert "com.example.NoSuchConnector" in wrong["trace"]
        expanded = rest(env_file, "GET", "/connectors?expand=status&expand=info")[1]
        assert expanded["not-json"]["status"]["connector"]["state"] == "FAILED"
        assert expanded["not-json"]["status"]["tasks"] == []

        # The connector next to them archives.
        wait_until(lambda: state_of(env_file, "good") == "RUNNING", 30, "good RUNNING")
        producer.produce(data_topic, b"first")
        producer.flush(10)
        first_key = f"topics/{data_topic}/partition=0/{data_topic}+0+0000000000.bin"
        wait_until(lambda: first_key in s3_objects(s3_endpoint, bucket), 60, "first object")

        # While running: a new bad record must not stop the follower; the records after it
        # (a tombstone, a corrected config) are applied.
        put_records(bootstrap, config_topic, [("later", b"\xff\xfe garbage")])
        wait_until(lambda: state_of(env_file, "later") == "FAILED", 30, "later FAILED")
        put_records(bootstrap, config_topic, [("not-json", None)])
        wait_until(lambda: state_of(env_file, "not-json") is None, 30, "not-json deleted")
        fixed = {**good, "topics.dir": "fixed"}
        put_records(bootstrap, config_topic, [("wrong-class", stored(fixed))])
        wait_until(lambda: state_of(env_file, "wrong-class") == "RUNNING", 30, "fixed RUNNING")
        fixed_key = f"fixed/{data_topic}/partition=0/{data_topic}+0+0000000000.bin"
        wait_until(lambda: fixed_key in s3_objects(s3_endpoint, bucket), 60, "fixed archives")

        # A connector that cannot be read can be replaced or deleted through the API too.
        code, _ = rest(env_file, "DELETE", "/connectors/later")
        assert code == 204
        assert service.stop() == 0
    first_log = service.log()
    assert "Traceback" not in first_log, first_log
    for name in ("not-json", "wrong-class", "later"):  # each logged once, not per look
        assert first_log.count(f"connector {name}: FAILED") == 1, first_log

    # The next start-up reads the same topic (compacted or not) to the same state.
    with Service(env_file, tmp_path / "second.log") as service:
        wait_for_api(env_file, service)
        assert sorted(rest(env_file, "GET", "/connectors")[1]) == ["good", "wrong-class"]
        assert service.stop() == 0


def test_an_unreadable_config_file_is_a_clear_error(tmp_path, kafka_broker, topic_factory):
    config_file = tmp_path / "connectors.json"
    config_file.write_text("{not json")
    env_file = write_env(
        tmp_path / ".env",
        BROKER_HOSTNAME=kafka_broker.bootstrap,
        KAFKA_TOPIC=topic_factory(partitions=1),
        S3_BUCKET_NAME="b",
        STORE_URL=f"file://{tmp_path / 'data'}",
        REGISTER_DEFAULTS="false",
        CONFIG_STORAGE_FILE=str(config_file),
    )
    with Service(env_file, tmp_path / "service.log") as service:
        assert service.wait(60) == 1
    log = service.log()
    assert "Traceback" not in log, log
    assert str(config_file) in log, log


def test_an_unreadable_config_file_entry_is_a_failed_connector(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=1)
    root = tmp_path / "data"
    good = {
        "connector.class": S3_SINK,
        "topics": topic,
        "s3.bucket.name": "b",
        "store.url": f"file://{root}",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "flush.size": "1",
    }
    config_file = tmp_path / "connectors.json"
    entries = {
        "good": {"config": good, "target_state": "RUNNING", "origin": "api"},
        "no-config": {"target_state": "RUNNING"},
    }
    config_file.write_text(json.dumps({"connectors": entries}))
    env_file = write_env(
        tmp_path / ".env",
        BROKER_HOSTNAME=kafka_broker.bootstrap,
        KAFKA_TOPIC=topic,
        S3_BUCKET_NAME="b",
        STORE_URL=f"file://{root}",
        REGISTER_DEFAULTS="false",
        CONFIG_STORAGE_FILE=str(config_file),
    )
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        broken = connector_status(env_file, "no-config")
        assert broken["state"] == "FAILED"
        assert str(config_file) in broken["trace"]
        wait_until(lambda: state_of(env_file, "good") == "RUNNING", 30, "good RUNNING")
        # Another change rewrites the file: the unreadable entry is kept as it was.
        assert rest(env_file, "PUT", "/connectors/good/pause")[0] == 202
        assert json.loads(config_file.read_text())["connectors"]["no-config"] == {
            "target_state": "RUNNING"
        }
        assert service.stop() == 0
    assert "Traceback" not in service.log(), service.log()

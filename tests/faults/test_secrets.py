"""A secret key, given in .env (AWS_SECRET_KEY) or through the REST API
(aws.secret.access.key), must appear nowhere: not in the service's log (at DEBUG), its REST
answers (error answers included), the objects it stores (dead letters included), or the
records of its config topic.

The scenario runs once (module fixture) and each place is its own test, so that a place known
to leak is recorded as such (xfail, strict) without hiding the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from audit import (
    DATA_GROUP,
    TIMESTAMP_GROUP,
    Place,
    S3Bucket,
    audit,
    dead_letter_expectation,
    file_places,
    reference_expectation,
    s3_places,
    scan_for_secrets,
    text_place,
    topic_places,
)
from chaos import (
    WRITER_TIME,
    payloads,
    records_now,
    stop_cleanly,
    wait_for_commits,
    wait_for_objects,
    wait_until_ready,
)
from confluent_kafka import Producer
from harness import Service, env_value, rest, write_env
from helpers import make_bucket, make_topic, produce_sinetstream

S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
VALIDATE = f"/connector-plugins/{S3_SINK}/config/validate"


@dataclass
class Leaks:
    """Where the scenario left things to scan, and the two secrets."""

    env_secret: str
    rest_secret: str
    log: list[Place] = field(default_factory=list)
    answers: list[Place] = field(default_factory=list)
    stored: list[Place] = field(default_factory=list)
    config_topic: list[Place] = field(default_factory=list)

    def found(self, places: list[Place]) -> dict[str, list[str]]:
        return {
            name: hits
            for name, secret in (("env", self.env_secret), ("rest", self.rest_secret))
            if (hits := scan_for_secrets(secret, places))
        }


def rest_connector(topic: str, endpoint: str, bucket: str, secret: str) -> dict[str, str]:
    return {
        "connector.class": S3_SINK,
        "topics": topic,
        "topics.dir": "via-rest",
        "s3.bucket.name": bucket,
        "s3.region": "us-east-1",
        "store.url": endpoint,
        "aws.access.key.id": "rest-key-id",
        "aws.secret.access.key": secret,
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
        "flush.size": "1",
        "errors.tolerance": "all",
    }


@pytest.fixture(scope="module")
def leaks(tmp_path_factory, kafka_broker, s3_endpoint) -> Leaks:
    tmp_path: Path = tmp_path_factory.mktemp("secrets")
    # Distinctive: no other text of the run can contain them by chance.
    scan = Leaks(f"EnvSecret{uuid.uuid4().hex}", f"RestSecret{uuid.uuid4().hex}")
    topic = make_topic(kafka_broker, partitions=2)
    bucket = make_bucket(s3_endpoint)
    env_file = write_env(
        tmp_path / ".env",
        BROKER_HOSTNAME=kafka_broker.bootstrap,
        KAFKA_TOPIC=topic,
        AWS_ACCESS_KEY_ID="env-key-id",
        AWS_SECRET_KEY=scan.env_secret,
        S3_BUCKET_NAME=bucket,
        S3_ENDPOINT_URL=s3_endpoint,
        LOG_LEVEL="DEBUG",  # the most the service ever logs
        PROGRESS_INTERVAL_S="1",
    )
    produce_sinetstream(kafka_broker.bootstrap, topic, payloads(60), timestamp=WRITER_TIME)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    producer.produce(topic, b"not a SINETStream message", partition=0)  # a dead letter
    producer.flush(30)
    records = records_now(kafka_broker.bootstrap, topic)
    store = S3Bucket(s3_endpoint, bucket)
    config = rest_connector(topic, s3_endpoint, bucket, scan.rest_secret)

    def call(method: str, path: str, body: object = None) -> int:
        status, answer = rest(env_file, method, path, body)
        scan.answers.append(text_place(f"{method} {path} -> {status}", repr(answer)))
        return status

    with Service(env_file, tmp_path / "service.log") as service:
        wait_until_ready(env_file, service)
        created = call("POST", "/connectors", {"name": "via-rest", "config": config})
        assert created == 201, scan.answers[-1]
        call("PUT", "/connectors/via-rest/config", config)  # an update with the same secret
        call("PATCH", "/connectors/via-rest/config", {"aws.secret.access.key": scan.rest_secret})
        # Refused configs: their error messages must not quote the secret either.
        call("POST", "/connectors",
             {"name": "bad", "config": {**config, "flush.size": "not a number"}})
        call("PUT", "/connectors/bad2/config", {**config, "s3.proxy.password": scan.rest_secret})
        call("PUT", VALIDATE, {**config, "flush.size": "-1"})
        call("PUT", VALIDATE, config)
        [dead] = [r for r in records if r.value == b"not a SINETStream message"]
        good = [r for r in records if r is not dead]
        expected = [*reference_expectation(topic, good),
                    *dead_letter_expectation(topic, dead, (DATA_GROUP, TIMESTAMP_GROUP))]
        wait_for_objects(store, len(good) * 2, 90, [service], "the reference objects")
        wait_for_objects(store, len(records), 90, [service], "the objects of via-rest",
                         prefix="via-rest/")
        for path in ("/", "/connectors?expand=status&expand=info", "/connectors/via-rest",
                     "/connectors/via-rest/config", "/connectors/via-rest/status",
                     "/connectors/via-rest/tasks", "/connectors/via-rest/tasks/0/status",
                     "/connectors/via-rest/topics", "/connectors/via-rest/offsets",
                     "/connectors/s3-sink-data/config", "/connectors/s3-sink-timestamp",
                     "/admin/loggers", "/connector-plugins"):
            call("GET", path)
        wait_for_commits(kafka_broker.bootstrap, topic, 2, expected, 30, [service])
        stop_cleanly(service)
    audit(store, expected, bootstrap=kafka_broker.bootstrap, topic=topic, partitions=2,
          fully_committed=True)
    scan.log = file_places(tmp_path / "service.log")
    scan.stored = s3_places(s3_endpoint, bucket)
    assert any("dead-letter/" in name for name, _ in scan.stored)  # dead letters were scanned
    scan.config_topic = topic_places(kafka_broker.bootstrap,
                                     env_value(env_file, "CONFIG_STORAGE_TOPIC"))
    assert scan.config_topic, "the config topic is empty: nothing was scanned"
    return scan


def test_no_secret_in_the_log(leaks: Leaks) -> None:
    assert leaks.found(leaks.log) == {}


def test_no_secret_in_rest_answers(leaks: Leaks) -> None:
    assert len(leaks.answers) > 15
    assert leaks.found(leaks.answers) == {}


def test_no_secret_in_stored_objects(leaks: Leaks) -> None:
    assert leaks.found(leaks.stored) == {}


def test_no_env_secret_in_the_config_topic(leaks: Leaks) -> None:
    assert scan_for_secrets(leaks.env_secret, leaks.config_topic) == []


def test_no_rest_secret_in_the_config_topic(leaks: Leaks) -> None:
    assert scan_for_secrets(leaks.rest_secret, leaks.config_topic) == []

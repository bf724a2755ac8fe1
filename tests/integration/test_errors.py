"""Start-up errors: one line saying what is wrong and what to do, and a non-zero exit."""

from __future__ import annotations

import pytest
from harness import Service, free_port, write_env

pytestmark = pytest.mark.integration


def run_to_exit(tmp_path, **env: str) -> tuple[int, str]:
    env_file = write_env(tmp_path / ".env", **env)
    service = Service(env_file, tmp_path / "service.log").start()
    code = service.wait(60)
    return code, service.log()


def local(tmp_path, bootstrap: str, topic: str) -> dict[str, str]:
    return {
        "BROKER_HOSTNAME": bootstrap,
        "KAFKA_TOPIC": topic,
        "S3_BUCKET_NAME": "b",
        "STORE_URL": f"file://{tmp_path / 'data'}",
    }


def test_unreachable_broker(tmp_path):
    code, log = run_to_exit(tmp_path, **local(tmp_path, f"127.0.0.1:{free_port()}", "t"))
    assert code == 1
    assert "cannot reach the Kafka broker" in log and "BROKER_HOSTNAME" in log


def test_unknown_topic(tmp_path, kafka_broker):
    code, log = run_to_exit(tmp_path, **local(tmp_path, kafka_broker.bootstrap, "no-such-topic"))
    assert code == 1
    assert "topic 'no-such-topic' does not exist" in log and "KAFKA_TOPIC" in log


def test_invalid_env_value_names_the_key(tmp_path, kafka_broker):
    env = local(tmp_path, kafka_broker.bootstrap, "t")
    code, log = run_to_exit(tmp_path, **env, MAX_INFLIGHT_OBJECTS="lots")
    assert code == 2
    assert log.strip().splitlines() == [
        "kafka-s3-sink: configuration error: MAX_INFLIGHT_OBJECTS='lots' is not valid: "
        "expected a positive integer"
    ]


def test_missing_required_variable(tmp_path):
    code, log = run_to_exit(tmp_path, KAFKA_TOPIC="t", S3_BUCKET_NAME="b")
    assert code == 2
    assert "BROKER_HOSTNAME is not set" in log


def test_missing_bucket_without_creation(tmp_path, kafka_broker, s3_endpoint, topic_factory):
    topic = topic_factory(partitions=1)
    code, log = run_to_exit(
        tmp_path,
        BROKER_HOSTNAME=kafka_broker.bootstrap,
        KAFKA_TOPIC=topic,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_KEY="test",
        S3_BUCKET_NAME="never-created",
        S3_ENDPOINT_URL=s3_endpoint,
        S3_CREATE_BUCKET="false",  # as on AWS, where the bucket must exist beforehand
    )
    assert code == 1
    assert "bucket 'never-created' does not exist" in log and "S3_BUCKET_NAME" in log


def test_unreachable_s3_endpoint(tmp_path, kafka_broker, topic_factory):
    topic = topic_factory(partitions=1)
    code, log = run_to_exit(
        tmp_path,
        BROKER_HOSTNAME=kafka_broker.bootstrap,
        KAFKA_TOPIC=topic,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_KEY="test",
        S3_BUCKET_NAME="b",
        S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
    )
    assert code == 1
    assert "cannot reach the object store" in log and "S3_ENDPOINT_URL" in log


def test_wrong_s3_credentials(
    tmp_path, kafka_broker, s3_endpoint_checking_credentials, topic_factory
):
    topic = topic_factory(partitions=1)
    code, log = run_to_exit(
        tmp_path,
        BROKER_HOSTNAME=kafka_broker.bootstrap,
        KAFKA_TOPIC=topic,
        AWS_ACCESS_KEY_ID="AKIAWRONGWRONGWRONG0",
        AWS_SECRET_KEY="not-the-secret",
        S3_BUCKET_NAME="b",
        S3_ENDPOINT_URL=s3_endpoint_checking_credentials,
    )
    assert code == 1
    assert "rejected the credentials (InvalidAccessKeyId)" in log
    assert "AWS_SECRET_KEY" in log and "not-the-secret" not in log

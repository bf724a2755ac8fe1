"""Start-up errors: one line saying what is wrong and what to do, and a non-zero exit."""

from __future__ import annotations

import os

import pytest
from harness import Service, free_port, write_env

from kafka_s3_sink.settings.variables import OPTIONS_BY_KEY

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
    # Waited for (as Kafka Connect does) until STARTUP_WAIT_S runs out.
    env = local(tmp_path, f"127.0.0.1:{free_port()}", "t")
    code, log = run_to_exit(tmp_path, **env, STARTUP_WAIT_S="1")
    assert code == 1
    assert "cannot reach the Kafka broker" in log and "BROKER_HOSTNAME" in log
    assert "gave up waiting for the Kafka broker" in log and "Traceback" not in log


def test_unknown_topic(tmp_path, kafka_broker):
    env = local(tmp_path, kafka_broker.bootstrap, "no-such-topic")
    code, log = run_to_exit(tmp_path, **env, STARTUP_WAIT_S="1")
    assert code == 1
    assert "topic 'no-such-topic' does not exist" in log and "KAFKA_TOPIC" in log


def test_endpoint_without_scheme_names_the_variable(tmp_path):
    env = local(tmp_path, "127.0.0.1", "t")
    del env["STORE_URL"]
    code, log = run_to_exit(
        tmp_path, **env, AWS_ACCESS_KEY_ID="a", AWS_SECRET_KEY="s", S3_ENDPOINT_URL="minio:9000"
    )
    assert code == 2
    assert log.strip().splitlines() == [
        "kafka-s3-sink: configuration error: S3_ENDPOINT_URL='minio:9000' is not valid: "
        "expected http(s)://host:port: the scheme is missing (did you mean http://minio:9000?)"
    ]


def test_misspelt_variable_is_named_with_the_likely_one(tmp_path):
    env = local(tmp_path, f"127.0.0.1:{free_port()}", "t")
    code, log = run_to_exit(tmp_path, **env, S3_ENDPOINT="http://minio:9000", STARTUP_WAIT_S="1")
    assert code == 1
    assert (
        "S3_ENDPOINT in " in log
        and "is not a setting of kafka-s3-sink and is ignored; did you mean S3_ENDPOINT_URL?"
        in log
    )


def test_no_env_file_says_where_it_looked(tmp_path):
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if k not in OPTIONS_BY_KEY}
    done = subprocess.run(
        [sys.executable, "-m", "kafka_s3_sink.cli", "run"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"no .env file found at {tmp_path / '.env'}" in lines[0]
    assert "BROKER_HOSTNAME is not set" in lines[0]


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
        STARTUP_WAIT_S="1",
    )
    assert code == 1
    assert "cannot reach the object store" in log and "S3_ENDPOINT_URL" in log
    assert "gave up waiting for the object store" in log


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


def test_sigterm_while_waiting_for_the_broker_stops_at_once(tmp_path):
    import time

    env_file = write_env(tmp_path / ".env", **local(tmp_path, f"127.0.0.1:{free_port()}", "t"))
    service = Service(env_file, tmp_path / "service.log").start()
    deadline = time.monotonic() + 60
    while "waiting for the Kafka broker" not in service.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    started = time.monotonic()
    assert service.stop(timeout=30) == 0
    assert time.monotonic() - started < 10
    assert "stop requested while starting" in service.log()
    assert "Traceback" not in service.log()

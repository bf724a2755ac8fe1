"""Faults that once stalled a partition while its status said RUNNING.

Each ends in one of: retried (and shown in the status while it lasts), a dead letter with
its reason, or the task FAILED with the reason as its trace, which a restart mends.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from faulty_proxy import FaultyProxy
from harness import (
    Service,
    committed_offsets,
    expected_objects,
    local_env,
    local_objects,
    payload_of,
    read_topic,
    rest,
    s3_client,
    s3_env,
    s3_objects,
    tstamp_of,
    wait_for_api,
    wait_until,
)
from helpers import make_bucket, produce_sinetstream, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WRITER_TIME = 1650243600.123456
S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
FIELD_PARTITIONER = "io.confluent.connect.storage.partitioner.FieldPartitioner"
# 10000-01-01T00:00:00Z: accepted by a broker whose topic allows future timestamps.
YEAR_10000_MS = 253402300800000


def task_status(env_file: Path, connector: str) -> dict:
    status, body = rest(env_file, "GET", f"/connectors/{connector}/status")
    assert status == 200, body
    assert isinstance(body, dict)
    return body["tasks"][0] if body["tasks"] else {}


def field_connector(name: str, topic: str, root: Path) -> dict:
    return {
        "name": name,
        "config": {
            "connector.class": S3_SINK,
            "topics": topic,
            "s3.bucket.name": "fields",
            "store.url": f"file://{root}",
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "value.converter": JSON_CONVERTER,
            "value.converter.schemas.enable": "false",
            "partitioner.class": FIELD_PARTITIONER,
            "partition.field.name": "site",
            "flush.size": "1",
            "errors.tolerance": "all",
        },
    }


def test_bucket_deleted_while_running_fails_the_task_and_restart_resumes(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    """Finding 1: obstore's FileNotFoundError killed the upload unnoticed (RUNNING, frozen)."""
    topic = topic_factory(partitions=1)
    bucket = make_bucket(s3_endpoint)
    env_file = s3_env(
        tmp_path, kafka_broker.bootstrap, topic, s3_endpoint, bucket,
    )
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"first"], timestamp=WRITER_TIME)
    s3 = s3_client(s3_endpoint)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        wait_until(lambda: len(s3_objects(s3_endpoint, bucket)) == 2, 60, "the first objects")
        for key in s3_objects(s3_endpoint, bucket):
            s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_bucket(Bucket=bucket)
        produce_sinetstream(kafka_broker.bootstrap, topic, [b"second"], timestamp=WRITER_TIME)
        wait_until(
            lambda: task_status(env_file, "s3-sink-data").get("state") == "FAILED",
            60,
            "the data task FAILED",
        )
        assert "does not exist" in task_status(env_file, "s3-sink-data")["trace"]
        s3.create_bucket(Bucket=bucket)
        for name in ("s3-sink-data", "s3-sink-timestamp"):
            status, _ = rest(
                env_file, "POST", f"/connectors/{name}/restart?includeTasks=true&onlyFailed=true"
            )
            assert status in (202, 204)
        records = read_topic(kafka_broker.bootstrap, topic, 2)
        second = expected_objects(topic, records[1:], payload_of, tstamp_of)
        wait_until(
            lambda: s3_objects(s3_endpoint, bucket) == second, 60, "the second message stored"
        )
        assert task_status(env_file, "s3-sink-data")["state"] == "RUNNING"
        assert service.stop() == 0, service.log()


def test_settings_that_cannot_make_a_key_are_refused(tmp_path, kafka_broker, topic_factory):
    """Finding 1: topics.dir=../../etc (a ValueError at upload) and a huge pad width (a Rust
    panic at 3.5 GB) were accepted; both are refused with the key named."""
    topic = topic_factory(partitions=1)
    root = tmp_path / "archive"
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, REGISTER_DEFAULTS="false")
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        for key, value in (
            ("topics.dir", "../../etc"),
            ("topics.dir", "a//b"),
            ("filename.offset.zero.pad.width", "1000000000"),
        ):
            body = field_connector("bad", topic, root)
            body["config"][key] = value
            status, answer = rest(env_file, "POST", "/connectors", body)
            assert status == 400, answer
            assert isinstance(answer, dict) and key in answer["message"]
        assert rest(env_file, "GET", "/connectors")[1] == []
        assert service.stop() == 0, service.log()


def test_field_values_that_cannot_be_keys_become_dead_letters(
    tmp_path, kafka_broker, topic_factory
):
    """Findings 1 and 4: a field value 'a/../b' or with a lone surrogate killed the task or
    froze the partition; each is now a dead letter and the records after it are archived."""
    topic = topic_factory(partitions=1)
    root = tmp_path / "archive"
    values = [
        b'{"site": "ok1", "v": 1}',
        b'{"site": "a/../b", "v": 2}',
        b'{"site": "\\ud800", "v": 3}',
        b'{"site": "x/..", "v": 4}',
        b'{"site": "ok2", "v": 5}',
    ]
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for value in values:
        producer.produce(topic, value)
    producer.flush(10)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, REGISTER_DEFAULTS="false")
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        status, answer = rest(env_file, "POST", "/connectors", field_connector("f", topic, root))
        assert status == 201, answer
        prefix = f"dead-letter/{topic}/{topic}+0+"
        wanted = {
            f"topics/{topic}/site=ok1/{topic}+0+0000000000.json",
            f"topics/{topic}/site=ok2/{topic}+0+0000000004.json",
            *(f"{prefix}{o:010d}{ext}" for o in (1, 2, 3) for ext in (".bin", ".reason.json")),
        }
        wait_until(
            lambda: (root / "fields").exists() and set(local_objects(root, "fields")) == wanted,
            60,
            "two objects and three dead letters",
        )
        objects = local_objects(root, "fields")
        assert objects[f"{prefix}0000000001.bin"] == values[1]
        reasons = [
            json.loads(objects[f"{prefix}{o:010d}.reason.json"])["reason"] for o in (1, 2, 3)
        ]
        assert "'..'" in reasons[0] and "surrogate" in reasons[1] and "'..'" in reasons[2]
        assert task_status(env_file, "f")["state"] == "RUNNING"
        assert service.stop() == 0, service.log()


def test_record_timestamp_in_year_10000_is_a_dead_letter(tmp_path, kafka_broker):
    """Finding 3: 'year 10000 is out of range' failed both reference connectors for good,
    even with errors.tolerance=all."""
    topic = unique_name("future")
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    future = {"message.timestamp.after.max.ms": str(2**63 - 1)}
    admin.create_topics([NewTopic(topic, 1, 1, config=future)])[topic].result(30)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"before"], timestamp=WRITER_TIME)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    producer.produce(
        topic, read_topic(kafka_broker.bootstrap, topic, 1)[0].value, timestamp=YEAR_10000_MS
    )
    producer.flush(10)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"after"], timestamp=WRITER_TIME)
    records = read_topic(kafka_broker.bootstrap, topic, 3)
    assert records[1].timestamp_ms == YEAR_10000_MS
    expected = expected_objects(topic, [records[0], records[2]], payload_of, tstamp_of)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic)
    data = tmp_path / "data"
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(
            lambda: (
                (data / "mybucket").exists()
                and expected.items() <= local_objects(data, "mybucket").items()
            ),
            60,
            "the records on both sides of it",
        )
        dead = f"dead-letter/{topic}/{topic}+0+0000000001.reason.json"
        wait_until(lambda: dead in local_objects(data, "mybucket"), 30, "the dead letter")
        reason = json.loads(local_objects(data, "mybucket")[dead])["reason"]
        assert "outside 0001-01-02 to 9999-12-30" in reason
        assert task_status(env_file, "s3-sink-data")["state"] == "RUNNING"
        assert task_status(env_file, "s3-sink-timestamp")["state"] == "RUNNING"
        assert service.stop() == 0, service.log()


def test_local_root_moved_away_while_running_is_made_again(tmp_path, kafka_broker, topic_factory):
    """Finding 2: ENOENT was retried forever from cached folders; nothing was committed."""
    topic = topic_factory(partitions=1)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic)
    data = tmp_path / "data"
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"first"], timestamp=WRITER_TIME)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(
            lambda: (data / "mybucket").exists() and len(local_objects(data, "mybucket")) == 2,
            60,
            "the first objects",
        )
        shutil.move(data, tmp_path / "moved-away")
        produce_sinetstream(kafka_broker.bootstrap, topic, [b"second"], timestamp=WRITER_TIME)
        records = read_topic(kafka_broker.bootstrap, topic, 2)
        second = expected_objects(topic, records[1:], payload_of, tstamp_of)
        wait_until(
            lambda: (data / "mybucket").exists() and local_objects(data, "mybucket") == second,
            30,
            "the second message in the folder made again",
        )
        assert service.stop() == 0, service.log()
    assert "was missing: made it again" in service.log()


def test_s3_outage_shows_in_the_status_and_sigterm_exits_in_time(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    """Finding 6: with S3 unreachable, SIGTERM did not end the process within 120 s
    (SHUTDOWN_TIMEOUT_S=10). Also: the retries show in the task's status while they last,
    and nothing is committed beyond what is stored."""
    topic = topic_factory(partitions=1)
    bucket = make_bucket(s3_endpoint)
    with FaultyProxy(s3_endpoint, put_failure_rate=0.0) as proxy:
        env_file = s3_env(
            tmp_path, kafka_broker.bootstrap, topic, proxy.url, bucket,
            SHUTDOWN_TIMEOUT_S="10",
            MAX_INFLIGHT_OBJECTS="4",
        )
        with Service(env_file, tmp_path / "service.log") as service:
            wait_for_api(env_file, service)
            proxy.outage(600)
            produce_sinetstream(
                kafka_broker.bootstrap,
                topic,
                [f"m{i}".encode() for i in range(50)],
                timestamp=WRITER_TIME,
            )
            wait_until(
                lambda: (
                    "retrying uploads" in (task_status(env_file, "s3-sink-data").get("trace") or "")
                ),
                60,
                "the retries shown in the status",
            )
            assert task_status(env_file, "s3-sink-data")["state"] == "RUNNING"
            started = time.monotonic()
            service.stop(timeout=40)
            assert time.monotonic() - started < 25, "SHUTDOWN_TIMEOUT_S + 10 s at most"
    assert s3_objects(s3_endpoint, bucket) == {}
    for group in ("connect-s3-sink-data", "connect-s3-sink-timestamp"):
        committed = committed_offsets(kafka_broker.bootstrap, group, topic, 1)
        assert all(offset <= 0 for offset in committed.values()), (group, committed)

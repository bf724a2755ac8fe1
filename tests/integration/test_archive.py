"""End to end: the real SINETStream writer -> real Kafka -> the service -> real S3 / a folder."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer
from harness import (
    Service,
    commit_offsets,
    committed_offsets,
    expected_objects,
    local_env,
    local_objects,
    payload_of,
    read_topic,
    rest,
    s3_objects,
    tstamp_of,
    wait_until,
    write_env,
)
from helpers import produce_sinetstream

pytestmark = pytest.mark.integration

WRITER_TIME = 1650243600.123456  # the contract's example: 2022-04-18T01:00:00.123 UTC
BUCKET = "mybucket"


def s3_env(tmp_path: Path, bootstrap: str, topic: str, endpoint: str, bucket: str) -> Path:
    return write_env(
        tmp_path / ".env",
        BROKER_HOSTNAME=bootstrap,
        KAFKA_TOPIC=topic,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_KEY="test",
        S3_BUCKET_NAME=bucket,
        S3_ENDPOINT_URL=endpoint,
        S3_OBJECT_EXTENSION=".json",
    )


def test_every_message_becomes_two_objects_in_s3(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    topic = topic_factory(partitions=3)
    payloads = [f'{{"n": {i}}}'.encode() for i in range(60)] + [b""]
    produce_sinetstream(kafka_broker.bootstrap, topic, payloads[:30], timestamp=WRITER_TIME)
    produce_sinetstream(kafka_broker.bootstrap, topic, payloads[30:], timestamp=0, message_format=2)
    records = read_topic(kafka_broker.bootstrap, topic, len(payloads))
    expected = expected_objects(topic, records, payload_of, tstamp_of, extension=".json")
    assert b"2022-04-18T01:00:00.123\n" in expected.values()

    bucket = f"bucket-{topic}".lower().replace("_", "-")[:60]  # created by the service
    env_file = s3_env(tmp_path, kafka_broker.bootstrap, topic, s3_endpoint, bucket)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(
            lambda: len(s3_objects(s3_endpoint, bucket)) >= len(expected), 90, "all objects in S3"
        )
        assert service.stop() == 0, service.log()
    assert s3_objects(s3_endpoint, bucket) == expected


def test_local_store_holds_the_same_keys_and_bytes_as_minio_data(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=3)
    big = bytes(range(256)) * (6 * 1024 * 1024 // 256)  # a 6 MB camera image
    payloads = [b"first", b"", big, *[f"reading {i}".encode() for i in range(40)]]
    produce_sinetstream(kafka_broker.bootstrap, topic, payloads, timestamp=WRITER_TIME)
    records = read_topic(kafka_broker.bootstrap, topic, len(payloads))
    expected = expected_objects(topic, records, payload_of, tstamp_of)

    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(
            lambda: len(local_objects(tmp_path / "data", BUCKET)) >= len(expected),
            60,
            "all objects on disk",
        )
        assert service.stop() == 0, service.log()
    assert local_objects(tmp_path / "data", BUCKET) == expected
    # Graceful stop commits everything it stored: both groups are at the end of the topic.
    ends = {p: sum(1 for r in records if r.partition == p) for p in range(3)}
    for group in ("connect-s3-sink-data", "connect-s3-sink-timestamp"):
        assert committed_offsets(kafka_broker.bootstrap, group, topic, 3) == ends


def test_sigkill_during_a_stream_loses_nothing_and_adds_nothing(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=3)
    count = 10_000
    payloads = [f"sample {i:05d} ".encode() * 8 for i in range(count)]
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, MAX_INFLIGHT_OBJECTS="64")
    data = tmp_path / "data"
    service = Service(env_file, tmp_path / "service.log").start()
    try:
        # Kill the service at several points while messages are still arriving.
        for chunk in range(5):
            part = payloads[chunk * 2000 : (chunk + 1) * 2000]
            produce_sinetstream(kafka_broker.bootstrap, topic, part, timestamp=WRITER_TIME)
            stored_before = len(local_objects(data, BUCKET)) if (data / BUCKET).exists() else 0
            wait_until(
                lambda before=stored_before: (
                    (data / BUCKET).exists() and len(local_objects(data, BUCKET)) > before + 50
                ),
                60,
                "some progress before the kill",
            )
            service.kill()
            service = Service(env_file, tmp_path / "service.log").start()
        records = read_topic(kafka_broker.bootstrap, topic, count)
        expected = expected_objects(topic, records, payload_of, tstamp_of)
        wait_until(
            lambda: len(local_objects(data, BUCKET)) >= len(expected),
            120,
            "all 20,000 objects after the restarts",
        )
        assert service.stop() == 0, service.log()
    finally:
        if service.running:
            service.kill()
    assert local_objects(data, BUCKET) == expected
    assert service.log().count("started, consuming") == 12  # 6 starts x 2 connectors


def test_bad_input_goes_to_dead_letters_and_archiving_goes_on(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=1)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"good 0"], timestamp=WRITER_TIME)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    valid = None
    bad_values = {
        "not SINETStream": b"plain text",
        "truncated": None,  # filled below from a real message
        "fingerprint": b"\xc3\x01" + b"\x00" * 8 + b"\x02\x02ab",
        "encrypted": b"\xdf\x03\x00\x00\x00\x01" + b"\x11" * 40,
        "null": None,
    }
    records = read_topic(kafka_broker.bootstrap, topic, 1)
    valid = records[0].value
    bad_values["truncated"] = valid[:-3]
    for value in bad_values.values():
        producer.produce(topic, value)
    producer.flush(10)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"good 6"], timestamp=WRITER_TIME)

    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic)
    data = tmp_path / "data"
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(
            lambda: len(local_objects(data, BUCKET)) >= 4 + 2 * len(bad_values),
            60,
            "valid objects and dead letters",
        )
        time.sleep(1)
        assert service.running, service.log()
        assert service.stop() == 0
    objects = local_objects(data, BUCKET)
    archived = sorted(v for k, v in objects.items() if k.endswith(".bin") and "topics/" in k)
    assert archived == [b"good 0\n", b"good 6\n"]
    for offset, (label, value) in enumerate(bad_values.items(), start=1):
        stem = f"dead-letter/{topic}/{topic}+0+{offset:010d}"
        assert objects[f"{stem}.bin"] == (value or b""), label
        reason = objects[f"{stem}.reason.json"].decode()
        assert f'"offset": {offset}' in reason
        expected_word = {"not SINETStream": "not a SINETStream", "null": "null"}.get(label, label)
        assert expected_word in reason, (label, reason)
    assert service.log().count("dead letter") >= len(bad_values)


def test_errors_tolerance_none_stops_at_the_first_bad_message(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=1)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"a", b"b"], timestamp=WRITER_TIME)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    producer.produce(topic, b"garbage")
    producer.flush(10)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"c"], timestamp=WRITER_TIME)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, ERRORS_TOLERANCE="none")
    with Service(env_file, tmp_path / "service.log") as service:
        # As in Kafka Connect: the task fails, the worker stays up and says why.
        def task_failed() -> bool:
            try:
                status, body = rest(env_file, "GET", "/connectors/s3-sink-data/tasks/0/status")
            except OSError:  # not listening yet
                return False
            return status == 200 and body["state"] == "FAILED"

        wait_until(task_failed, 60, "the data task to fail")
        _, body = rest(env_file, "GET", "/connectors/s3-sink-data/tasks/0/status")
        assert "errors.tolerance=none" in body["trace"]
        assert service.running
        assert service.stop() == 0, service.log()
    objects = local_objects(tmp_path / "data", BUCKET)
    assert sorted(k.rsplit("+", 1)[1] for k in objects) == [
        "0000000000-timestamp.txt",
        "0000000000.bin",
        "0000000001-timestamp.txt",
        "0000000001.bin",
    ]
    # The failed task committed what it stored, so a restart resumes at the bad message.
    assert committed_offsets(kafka_broker.bootstrap, "connect-s3-sink-data", topic, 1) == {0: 2}


def test_offsets_committed_by_kafka_connect_are_continued(tmp_path, kafka_broker, topic_factory):
    topic = topic_factory(partitions=3)
    produce_sinetstream(
        kafka_broker.bootstrap, topic, [f"m{i}".encode() for i in range(30)], timestamp=WRITER_TIME
    )
    records = read_topic(kafka_broker.bootstrap, topic, 30)
    # Kafka Connect had archived the first 4 records of each partition of each connector.
    done = {p: 4 for p in range(3)}
    commit_offsets(kafka_broker.bootstrap, "connect-s3-sink-data", topic, done)
    commit_offsets(kafka_broker.bootstrap, "connect-s3-sink-timestamp", topic, done)
    remaining = [r for r in records if r.offset >= 4]
    expected = expected_objects(topic, remaining, payload_of, tstamp_of)

    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_until(
            lambda: len(local_objects(tmp_path / "data", BUCKET)) >= len(expected),
            60,
            "the records after the committed offsets",
        )
        time.sleep(1.5)  # would anything below the committed offsets show up late?
        assert service.stop() == 0
    assert local_objects(tmp_path / "data", BUCKET) == expected


def test_sigterm_finishes_uploads_and_commits_within_the_timeout(
    tmp_path, kafka_broker, topic_factory
):
    topic = topic_factory(partitions=3)
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"x" * 1000] * 3000, timestamp=WRITER_TIME)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic, SHUTDOWN_TIMEOUT_S="20")
    service = Service(env_file, tmp_path / "service.log").start()
    wait_until(
        lambda: (
            (tmp_path / "data" / BUCKET).exists()
            and len(local_objects(tmp_path / "data", BUCKET)) > 200
        ),
        60,
        "uploads under way",
    )
    started = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    assert service.wait(40) == 0, service.log()
    assert time.monotonic() - started < 25
    names = {key.rsplit("/", 1)[1] for key in local_objects(tmp_path / "data", BUCKET)}
    for group, suffix in (
        ("connect-s3-sink-data", ".bin"),
        ("connect-s3-sink-timestamp", "-timestamp.txt"),
    ):
        committed = committed_offsets(kafka_broker.bootstrap, group, topic, 3)
        assert max(committed.values()) > 0, committed  # it did commit what it stored
        for partition, position in committed.items():
            # Everything below the committed position is stored (none committed: -1001).
            for offset in range(max(position, 0)):
                assert f"{topic}+{partition}+{offset:010d}{suffix}" in names


def test_two_services_share_the_partitions_and_survive_one_dying(
    tmp_path, kafka_broker, topic_factory
):
    """Two workers on one .env split the groups' partitions; when one is killed, the other
    takes its partitions over (rebalance) and the archive ends complete and exact."""
    topic = topic_factory(partitions=3)
    data = tmp_path / "data"
    first_env = local_env(tmp_path, kafka_broker.bootstrap, topic)
    config_topic = first_env.read_text().split("CONFIG_STORAGE_TOPIC=")[1].split("\n")[0]
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    second_env = local_env(
        second_dir, kafka_broker.bootstrap, topic, CONFIG_STORAGE_TOPIC=config_topic
    )
    second_env.write_text(second_env.read_text().replace(str(second_dir / "data"), str(data)))
    payloads = [f"shared {i}".encode() for i in range(3000)]
    second_log = tmp_path / "second.log"
    with (
        Service(first_env, tmp_path / "first.log") as first,
        Service(second_env, second_log) as second,
    ):
        # Both connectors of the second worker hold partitions before anything is sent.
        wait_until(
            lambda: second_log.read_text().count(": assigned") >= 2,
            60,
            "the second worker to get partitions",
        )
        produce_sinetstream(kafka_broker.bootstrap, topic, payloads[:1500], timestamp=WRITER_TIME)
        wait_until(
            lambda: data.exists() and len(local_objects(data, BUCKET)) > 1000,
            60,
            "both workers archiving",
        )
        second.kill()
        produce_sinetstream(kafka_broker.bootstrap, topic, payloads[1500:], timestamp=WRITER_TIME)
        records = read_topic(kafka_broker.bootstrap, topic, len(payloads))
        expected = expected_objects(topic, records, payload_of, tstamp_of)
        wait_until(
            lambda: len(local_objects(data, BUCKET)) >= len(expected),
            90,
            "the survivor to archive everything",
        )
        assert first.stop() == 0, first.log()
    assert local_objects(data, BUCKET) == expected

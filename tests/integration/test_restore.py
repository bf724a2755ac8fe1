"""Restore and audit end to end: the real SINETStream writer -> Kafka -> the service (the two
reference connectors and a lossless third one, added through the REST API) -> a folder or
the moto S3 server -> ``kafka-s3-sink restore`` -> Kafka -> the real SINETStream reader.

One archive is made once for the module (the service is the slow part) and copied for the
tests that damage it.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from harness import Service, local_env, rest, wait_for_api, wait_until
from helpers import (
    consume_all,
    make_bucket,
    make_topic,
    produce_sinetstream,
    s3_client,
    unique_name,
)
from sinetstream import MessageReader, SINETStreamMessageEncoder

from kafka_s3_sink.archive.rebuild import encode_sinetstream
from kafka_s3_sink.pipeline.sinetstream_codec import decode

pytestmark = pytest.mark.integration

WRITER_TIME = 1650243600.123456  # µs part must come back cut to the millisecond
LOSSLESS = "io.kafkas3sink.format.LosslessJsonLinesFormat"


def cli(env_file: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kafka_s3_sink.cli", *args, "--env-file", str(env_file)],
        cwd=env_file.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def lossless_config(topic: str, data_dir: Path) -> dict[str, str]:
    return {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": LOSSLESS,
        "topics": topic,
        "s3.bucket.name": "mybucket",
        "store.url": f"file://{data_dir}",
        # Batches of up to 4 records; the wall-clock rotation closes the last ones.
        "flush.size": "4",
        "rotate.schedule.interval.ms": "1000",
        "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        "path.format": "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
        "partition.duration.ms": "3600000",
        "timestamp.extractor": "Record",
        "locale": "C",
        "timezone": "Asia/Tokyo",
    }


def lossless_lines(data_dir: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in data_dir.rglob("*.jsonl"))


def reference_objects(data_dir: Path) -> int:
    return sum(1 for p in data_dir.rglob("topics/*/*/*/*/*/*") if not p.name.endswith(".jsonl"))


class Archive:
    def __init__(self, directory: Path, topic: str, records: list) -> None:
        self.directory = directory
        self.topic = topic
        self.records = records  # confluent Messages of the source topic
        self.env_file = directory / ".env"
        self.data = directory / "data"

    def copy(self, tmp_path: Path) -> Path:
        """A copy of the archive with its own .env (same topic, same broker)."""
        shutil.copytree(self.directory, tmp_path / "copy", ignore=shutil.ignore_patterns("*.log"))
        env = tmp_path / "copy" / ".env"
        env.write_text(env.read_text().replace(str(self.directory), str(tmp_path / "copy")))
        return env

    def sinetstream(self) -> list:
        return [r for r in self.records if r.value() and r.value()[:1] in (b"\xc3", b"\xdf")]


@pytest.fixture(scope="module")
def archive(kafka_broker, tmp_path_factory) -> Archive:
    directory = tmp_path_factory.mktemp("archive")
    bootstrap = kafka_broker.bootstrap
    topic = make_topic(kafka_broker, partitions=3, prefix="restore")
    texts = [f'{{"n": {i}, "text": "reading {i}"}}'.encode() for i in range(20)]
    binary = [bytes(range(256)) * 4, b"\x00\n\xff", bytes(range(7))]
    produce_sinetstream(bootstrap, topic, texts[:10] + [b""], timestamp=WRITER_TIME)
    produce_sinetstream(bootstrap, topic, binary + texts[10:], message_format=2)
    # Records with keys, headers and chosen record times (SINETStream values, so that the
    # reference connectors archive them too), and one that is not SINETStream (a dead
    # letter for them, an ordinary record for the lossless connector).
    with SINETStreamMessageEncoder(value_type="byte_array") as encoder:
        keyed = [encoder.encode(b"keyed %d" % i, timestamp=WRITER_TIME + i) for i in range(6)]
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i, value in enumerate(keyed):
        producer.produce(
            topic, value=value, key=b"sensor-%d" % (i % 2), partition=i % 3,
            headers=[("trace", b"\x00\x01%d" % i), ("empty", None), ("trace", b"again")],
            timestamp=1650243600000 + i * 1000,
        )
    producer.produce(topic, value=b"not sinetstream", key=b"\xff", partition=1)
    producer.flush(30)
    total = len(texts) + 1 + len(binary) + len(keyed) + 1
    records = consume_all(bootstrap, topic, total)
    env_file = local_env(directory, bootstrap, topic)
    with Service(env_file, directory / "service.log") as service:
        wait_for_api(env_file, service)
        config = lossless_config(topic, directory / "data")
        status, body = rest(env_file, "POST", "/connectors", {"name": "lossless", "config": config})
        assert status == 201, body
        wait_until(lambda: lossless_lines(directory / "data") >= total, 90, "lossless records")
        wait_until(lambda: reference_objects(directory / "data") >= 2 * (total - 1), 90,
                   "reference objects")
        assert service.stop() == 0, service.log()
    return Archive(directory, topic, records)


def by_partition(items) -> dict[int, list]:
    out: dict[int, list] = defaultdict(list)
    for partition, item in items:
        out[partition].append(item)
    return dict(out)


def read_with_sinetstream(bootstrap: str, topic: str, count: int) -> list:
    """Every message of ``topic`` through the real SINETStream reader (kafka-python)."""
    got = []
    with MessageReader(
        service="restore-test", topics=topic, no_config=True, type="kafka", brokers=bootstrap,
        value_type="byte_array", receive_timeout_ms=10_000, consistency="AT_LEAST_ONCE",
        type_spec={"auto_offset_reset": "earliest", "group_id": unique_name("reader")},
    ) as reader:
        for message in reader:
            got.append(message)
            if len(got) >= count:
                break
    assert len(got) == count, f"the SINETStream reader got {len(got)} of {count}"
    return got


def test_the_reference_layout_restores_every_message(archive, kafka_broker, topic_factory):
    target = topic_factory(partitions=3, prefix="restored")
    done = cli(archive.env_file, "restore", "--layout", "reference", "--to-topic", target,
               "--checkpoint", str(archive.directory / f"{target}.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    originals = archive.sinetstream()
    restored = read_with_sinetstream(kafka_broker.bootstrap, target, len(originals))
    expected = by_partition(
        (r.partition(), (bytes(decode(r.value()).msg), decode(r.value()).tstamp_us // 1000))
        for r in sorted(originals, key=lambda r: (r.partition(), r.offset()))
    )
    got = by_partition(
        (m.raw.partition, (m.value, m.timestamp_us // 1000))
        for m in sorted(restored, key=lambda m: (m.raw.partition, m.raw.offset))
    )
    assert got == expected  # every msg identical, tstamp to the ms, order kept per partition
    assert any(m.value == b"" for m in restored)
    assert f"{len(originals)} messages sent" in done.stdout
    # The µs are what the reference layout cannot give back.
    assert {m.timestamp_us % 1000 for m in restored} == {0}


def test_the_lossless_layout_restores_records_byte_for_byte(archive, kafka_broker, topic_factory):
    target = topic_factory(partitions=3, prefix="lossless")
    done = cli(archive.env_file, "restore", "--layout", "lossless", "--to-topic", target,
               "--checkpoint", str(archive.directory / f"{target}.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    restored = consume_all(kafka_broker.bootstrap, target, len(archive.records))

    def fields(m) -> tuple:
        return (m.value(), m.key(), m.headers(), m.timestamp())

    expected = by_partition((r.partition(), fields(r)) for r in
                            sorted(archive.records, key=lambda r: (r.partition(), r.offset())))
    got = by_partition((m.partition(), fields(m)) for m in
                       sorted(restored, key=lambda m: (m.partition(), m.offset())))
    assert got == expected
    assert any(m.headers() and ("empty", None) in m.headers() for m in restored)


def test_lossless_connector_from_env_restores_byte_for_byte(kafka_broker, topic_factory,
                                                            tmp_path):
    """LOSSLESS_CONNECTOR in .env: `run` adds the third connector by itself."""
    topic = topic_factory(partitions=2, prefix="envlossless")
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"reading %d" % i for i in range(9)],
                        timestamp=WRITER_TIME)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    producer.produce(topic, value=b"not sinetstream", key=b"k", partition=0,
                     headers=[("h", b"\x00")])
    producer.flush(30)
    records = consume_all(kafka_broker.bootstrap, topic, 10)
    env_file = local_env(tmp_path, kafka_broker.bootstrap, topic,
                         LOSSLESS_CONNECTOR="s3-sink-lossless", LOSSLESS_FLUSH_SIZE="4",
                         LOSSLESS_ROTATE_INTERVAL_MS="1000")
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        status, names = rest(env_file, "GET", "/connectors")
        assert status == 200 and "s3-sink-lossless" in names, names
        wait_until(lambda: lossless_lines(tmp_path / "data") >= len(records), 90,
                   "the lossless connector's records")
        assert service.stop() == 0, service.log()
    target = topic_factory(partitions=2, prefix="envrestored")
    done = cli(env_file, "restore", "--layout", "lossless", "--to-topic", target,
               "--checkpoint", str(tmp_path / "checkpoint.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    restored = consume_all(kafka_broker.bootstrap, target, len(records))

    def fields(m) -> tuple:
        return (m.partition(), m.value(), m.key(), m.headers(), m.timestamp())

    ordered = sorted(records, key=lambda m: (m.partition(), m.offset()))
    assert [fields(m) for m in sorted(restored, key=lambda m: (m.partition(), m.offset()))] \
        == [fields(m) for m in ordered]


def test_restore_reads_the_s3_server_too(archive, kafka_broker, s3_endpoint, tmp_path):
    bucket = make_bucket(s3_endpoint)
    client = s3_client(s3_endpoint)
    for path in (archive.data / "mybucket").rglob("*"):
        if path.is_file():
            key = path.relative_to(archive.data / "mybucket").as_posix()
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    env = tmp_path / ".env"
    text = archive.env_file.read_text().replace(f"STORE_URL=file://{archive.data}\n", "")
    text = text.replace("S3_BUCKET_NAME=mybucket", f"S3_BUCKET_NAME={bucket}")
    env.write_text(text + f"S3_ENDPOINT_URL={s3_endpoint}\nAWS_ACCESS_KEY_ID=testing\n"
                   "AWS_SECRET_KEY=testing\n")
    target = unique_name("from-s3")  # created by the restore, with the archive's partitions
    done = cli(env, "restore", "--to-topic", target, "--layout", "reference")
    assert done.returncode == 0, done.stdout + done.stderr
    restored = consume_all(kafka_broker.bootstrap, target, len(archive.sinetstream()))
    assert {m.partition() for m in restored} == {0, 1, 2}
    dry = cli(env, "restore", "--dry-run", "--layout", "lossless", "--partitions", "1")
    assert dry.returncode == 0, dry.stderr
    in_partition_1 = sum(1 for r in archive.records if r.partition() == 1)
    assert f"total: {in_partition_1} messages" in dry.stdout


def test_bad_objects_are_reported_and_skipped(archive, kafka_broker, topic_factory, tmp_path):
    env = archive.copy(tmp_path)
    bucket = tmp_path / "copy" / "data" / "mybucket"
    payloads = sorted((bucket / "topics").rglob("*.bin"))
    truncated = payloads[0]
    truncated.write_bytes(truncated.read_bytes()[:-1])
    foreign = bucket / "topics" / archive.topic / "notes.txt"
    foreign.write_text("someone's notes")
    wrong = payloads[1].with_name(payloads[1].name.replace(".bin", ".jpeg"))
    wrong.write_bytes(b"image\n")
    target = topic_factory(partitions=3, prefix="bad")
    done = cli(env, "restore", "--layout", "reference", "--to-topic", target)
    assert done.returncode == 0, done.stdout + done.stderr
    skipped = [line for line in done.stdout.splitlines() if line.startswith("restore: skipped ")]
    named = {line.removeprefix("restore: skipped ").split(":", 1)[0] for line in skipped}
    root = bucket.as_posix() + "/"
    assert named == {p.as_posix().removeprefix(root) for p in (truncated, foreign, wrong)}
    consume_all(kafka_broker.bootstrap, target, len(archive.sinetstream()) - 1)


def test_audit_finds_exactly_the_damaged_offsets(archive, tmp_path):
    env = archive.copy(tmp_path)
    clean = cli(env, "audit")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "complete" in clean.stdout
    bucket = tmp_path / "copy" / "data" / "mybucket"
    by_offset = defaultdict(dict)
    for path in bucket.rglob(f"{archive.topic}+0+*"):
        offset = int(path.name.split("+")[2][:10])
        by_offset[offset]["stamp" if path.name.endswith("-timestamp.txt") else
                          "lossless" if ".jsonl" in path.name else "payload"] = path
    pairs = sorted(o for o, kinds in by_offset.items() if {"stamp", "payload"} <= set(kinds))
    no_payload, no_stamp, corrupt = pairs[0], pairs[1], pairs[2]
    by_offset[no_payload]["payload"].unlink()
    by_offset[no_stamp]["stamp"].unlink()
    body = by_offset[corrupt]["payload"]
    body.write_bytes(b"X" + body.read_bytes()[1:])  # same length: only the lossless copy tells
    damaged = cli(env, "audit")
    assert damaged.returncode == 1, damaged.stdout
    out = damaged.stdout
    assert f"partition 0: no payload object: {no_payload}\n" in out
    assert f"partition 0: no timestamp object: {no_stamp}\n" in out
    assert f"partition 0: bad at offset {corrupt}: " in out
    assert "missing:" not in out and "GAPS FOUND" in out
    assert out.count("partition 0: bad at") == 1


def write_reference_archive(root: Path, topic: str, count: int) -> dict[int, list[bytes]]:
    """``count`` messages written straight into the layout (no service: a big archive in a
    second), spread over 3 partitions; returns the expected values per partition."""
    expected: dict[int, list[bytes]] = defaultdict(list)
    hour = root / "mybucket" / "topics" / topic / "year=2022/month=04/day=18/hour=10"
    hour.mkdir(parents=True)
    for n in range(count):
        partition, offset = n % 3, n // 3
        msg = b"reading %d" % n
        stem = hour / f"{topic}+{partition}+{offset:010d}"
        stem.with_name(stem.name + ".bin").write_bytes(msg + b"\n")
        stem.with_name(stem.name + "-timestamp.txt").write_bytes(
            b"2022-04-18T01:00:%02d.%03d\n" % (n // 1000 % 60, n % 1000))
        tstamp = (1650243600 + n // 1000 % 60) * 1_000_000 + n % 1000 * 1000
        expected[partition].append(encode_sinetstream(tstamp, msg))
    return expected


def high_watermarks(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_name("wm")})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                   for p in range(3))
    finally:
        consumer.close()


def test_a_killed_restore_resumes_and_sends_each_message_once(kafka_broker, topic_factory,
                                                                 tmp_path):
    source = unique_name("source")
    count = 6000
    expected = write_reference_archive(tmp_path / "data", source, count)
    env = local_env(tmp_path, kafka_broker.bootstrap, source)
    target = topic_factory(partitions=3, prefix="resumed")
    command = [sys.executable, "-m", "kafka_s3_sink.cli", "restore", "--env-file", str(env),
               "--to-topic", target]
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: high_watermarks(kafka_broker.bootstrap, target) >= count // 4
                   or first.poll() is not None, 60, "a quarter sent")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    sent_before = high_watermarks(kafka_broker.bootstrap, target)
    assert sent_before < count, "the restore finished before it could be killed"
    checkpoint = json.loads((tmp_path / f"restore-{target}.checkpoint.json").read_text())
    assert not checkpoint["done"]
    second = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    # Records acknowledged after the last checkpoint were found in the target, not resent
    # (the checkpoint is a second behind at most: some always arrive in that second).
    assert "arrived after the last checkpoint" in second.stdout, second.stdout
    restored = consume_all(kafka_broker.bootstrap, target, count)
    time.sleep(1)
    assert high_watermarks(kafka_broker.bootstrap, target) == count  # nothing twice
    got = by_partition((m.partition(), m.value()) for m in
                       sorted(restored, key=lambda m: (m.partition(), m.offset())))
    assert got == dict(expected)
    third = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert third.returncode == 0 and "complete: nothing sent" in third.stdout

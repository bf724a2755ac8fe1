"""The test infrastructure itself: real Kafka + real SINETStream writer, real moto S3."""

from __future__ import annotations

from helpers import consume_all, make_bucket, produce_sinetstream, s3_client
from sinetstream.marshal import Unmarshaller
from sinetstream.packet import Packet

V3_MARKER = b"\xdf\x03\x00\x00"


def decode(value: bytes, message_format: int = 3) -> tuple[int, bytes]:
    """(timestamp in µs, payload) of a SINETStream message, decoded by SINETStream's own code."""
    if message_format >= 3:
        key_version, value = Packet.unpack(value)
        assert key_version == Packet.KEYVER_NOENC
    return Unmarshaller().unmarshal(value)


def test_sinetstream_writer_to_three_partitions(kafka_broker, topic):
    payloads = [f"message {i}".encode() for i in range(600)]
    produce_sinetstream(kafka_broker.bootstrap, topic, payloads, timestamp=1_700_000_000.25)

    records = consume_all(kafka_broker.bootstrap, topic, len(payloads))
    assert len(records) == len(payloads)
    assert {r.partition() for r in records} == {0, 1, 2}
    for r in records:
        assert r.value().startswith(V3_MARKER + b"\x00\x00")
    decoded = [decode(r.value()) for r in records]
    assert sorted(p for _, p in decoded) == sorted(payloads)
    assert {ts for ts, _ in decoded} == {1_700_000_000_250_000}
    # Within a partition the order of publishing is kept.
    for partition in range(3):
        in_partition = [decode(r.value())[1] for r in records if r.partition() == partition]
        assert in_partition == [p for p in payloads if p in set(in_partition)]


def test_sinetstream_message_format_2_and_big_messages(kafka_broker, topic_factory):
    topic = topic_factory(partitions=1)
    big = bytes(range(256)) * (8 * 1024)  # 2 MiB: above the clients' 1 MiB defaults
    produce_sinetstream(kafka_broker.bootstrap, topic, [b"small", big], message_format=2)

    records = consume_all(kafka_broker.bootstrap, topic, 2, **{"fetch.max.bytes": 64 * 1024 * 1024})
    assert [r.offset() for r in records] == [0, 1]
    assert not records[0].value().startswith(V3_MARKER)
    assert [decode(r.value(), message_format=2)[1] for r in records] == [b"small", big]


def test_s3_put_get_list(s3_endpoint):
    bucket = make_bucket(s3_endpoint)
    s3 = s3_client(s3_endpoint)
    s3.put_object(Bucket=bucket, Key="topics/t/partition=0/t+0+0000000000.bin", Body=b"hello")

    obj = s3.get_object(Bucket=bucket, Key="topics/t/partition=0/t+0+0000000000.bin")
    assert obj["Body"].read() == b"hello"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="topics/t/")
    assert [o["Key"] for o in listed["Contents"]] == ["topics/t/partition=0/t+0+0000000000.bin"]


def test_broker_survives_kill_and_restart(kafka_broker_private):
    broker = kafka_broker_private
    port = broker.port
    topic = broker.create_topic("restart-test", partitions=2)
    produce_sinetstream(broker.bootstrap, topic, [b"before kill %d" % i for i in range(50)])

    broker.kill()
    assert not broker.running
    broker.start()
    produce_sinetstream(broker.bootstrap, topic, [b"after kill %d" % i for i in range(50)])
    broker.restart()

    assert broker.port == port
    records = consume_all(broker.bootstrap, topic, 100)
    assert len({decode(r.value())[1] for r in records}) == 100

"""Keys and bodies, byte for byte as the reference deployment writes them (contract §4).

The .env settings go through the reference connector configs, the connector-config parser
and the object assembler: the same path the running service takes.
"""

import pytest
from sinetstream import SINETStreamMessageEncoder

from kafka_s3_sink.pipeline.assembler import ObjectAssembler
from kafka_s3_sink.pipeline.naming import TimeBasedPartitioner
from kafka_s3_sink.pipeline.records import Record, StoredObject
from kafka_s3_sink.pipeline.sinetstream_codec import UndecodableMessage
from kafka_s3_sink.service import reference_specs
from kafka_s3_sink.settings.variables import parse_settings

# 2022-04-18 01:30:00.000 UTC = 10:30 in Tokyo
RECORD_TIME_MS = 1650245400000


def settings(**extra: str):
    base = {
        "BROKER_HOSTNAME": "kafka",
        "KAFKA_TOPIC": "sinetstream.sensor",
        "AWS_ACCESS_KEY_ID": "id",
        "AWS_SECRET_KEY": "secret",
        "S3_BUCKET_NAME": "mybucket",
    }
    return parse_settings({**base, **extra})


class Renderer:
    """Record -> its one object, for a connector of the reference deployment."""

    def __init__(self, spec) -> None:
        self.spec = spec

    def render(self, rec: Record) -> StoredObject:
        assembler = ObjectAssembler(self.spec)
        (batch,) = assembler.add(rec, self.spec.convert(rec), now_ms=0)
        return StoredObject(assembler.key_of(batch), self.spec.format.encode(batch.values))


def build_renderers(s) -> dict[str, Renderer]:
    return {spec.name: Renderer(spec) for spec in reference_specs(s)}


def record(value: bytes | None, offset: int = 3, timestamp_ms: int | None = RECORD_TIME_MS):
    return Record("sinetstream.sensor", 1, offset, timestamp_ms, None, value)


def sinetstream_value(msg: bytes, timestamp: float) -> bytes:
    with SINETStreamMessageEncoder(value_type="byte_array") as encoder:
        return encoder.encode(msg, timestamp=timestamp)


def test_payload_object_key_and_body() -> None:
    renderers = build_renderers(settings())
    obj = renderers["s3-sink-data"].render(record(sinetstream_value(b'{"t": 21.5}', 1.0)))
    assert obj.key == (
        "topics/sinetstream.sensor/year=2022/month=04/day=18/hour=10/"
        "sinetstream.sensor+1+0000000003.bin"
    )
    assert bytes(obj.body) == b'{"t": 21.5}\n'


def test_timestamp_object_key_and_body_from_the_contract_example() -> None:
    renderers = build_renderers(settings())
    obj = renderers["s3-sink-timestamp"].render(
        record(sinetstream_value(b"x", 1650243600.123456))
    )
    assert obj.key == (
        "topics/sinetstream.sensor/year=2022/month=04/day=18/hour=10/"
        "sinetstream.sensor+1+0000000003-timestamp.txt"
    )
    assert obj.body == b"2022-04-18T01:00:00.123\n"


def test_tstamp_zero_is_the_epoch() -> None:
    obj = build_renderers(settings())["s3-sink-timestamp"].render(
        record(sinetstream_value(b"x", 0))
    )
    assert obj.body == b"1970-01-01T00:00:00.000\n"


def test_extension_separator_zone_and_format_are_settings() -> None:
    renderers = build_renderers(
        settings(
            S3_OBJECT_EXTENSION=".jpeg",
            LINE_SEPARATOR="",
            TIMEZONE="UTC",
            PATH_FORMAT="YYYY/MM/dd",
            TOPICS_DIR="archive",
        )
    )
    obj = renderers["s3-sink-data"].render(record(sinetstream_value(b"img", 1.0), offset=12))
    assert obj.key == "archive/sinetstream.sensor/2022/04/18/sinetstream.sensor+1+0000000012.jpeg"
    assert bytes(obj.body) == b"img"


def test_hour_path_crosses_midnight_in_tokyo() -> None:
    partitioner = TimeBasedPartitioner("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", "Asia/Tokyo",
                                       3_600_000)
    # 2022-12-31 15:59:59.999 UTC is 2023-01-01 00:59 in Tokyo
    assert partitioner.encode(1672502399999) == "year=2023/month=01/day=01/hour=00"
    assert partitioner.encode(1672502399999 - 3_600_000) == "year=2022/month=12/day=31/hour=23"


def test_daily_partitions_floor_in_local_time() -> None:
    partitioner = TimeBasedPartitioner("YYYY-MM-dd-HH", "Asia/Tokyo", 86_400_000)
    assert partitioner.encode(RECORD_TIME_MS) == "2022-04-18-00"


@pytest.mark.parametrize("value", [None, b"not sinetstream"])
def test_undecodable_values_raise(value: bytes | None) -> None:
    with pytest.raises(UndecodableMessage):
        build_renderers(settings())["s3-sink-data"].render(record(value))


def test_record_without_timestamp_raises() -> None:
    with pytest.raises(UndecodableMessage, match="timestamp"):
        build_renderers(settings())["s3-sink-data"].render(
            record(sinetstream_value(b"x", 1.0), timestamp_ms=None)
        )

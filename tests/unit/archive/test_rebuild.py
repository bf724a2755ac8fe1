"""Reference objects back into SINETStream messages, checked with the real SINETStream codec."""

from __future__ import annotations

import pytest
from sinetstream import SINETStreamMessageDecoder, SINETStreamMessageEncoder

from kafka_s3_sink.archive.rebuild import (
    BadBody,
    TimestampReader,
    encode_sinetstream,
    payload_msg,
)
from kafka_s3_sink.pipeline.sinetstream_codec import decode

PATTERN = "yyyy-MM-dd'T'HH:mm:ss.SSS"


@pytest.mark.parametrize("message_format", [2, 3])
@pytest.mark.parametrize(
    ("tstamp", "msg"),
    [(1650243600123000, b"hello"), (0, b""), (1, bytes(range(256)) * 3), (2**62, b"\x00\n")],
)
def test_the_real_reader_reads_a_rebuilt_message(message_format, tstamp, msg):
    value = encode_sinetstream(tstamp, msg, message_format)
    with SINETStreamMessageDecoder(value_type="byte_array") as decoder:
        message = decoder.decode(value)
    assert message.value == msg
    assert message.timestamp_us == tstamp
    assert decode(value).format_version == message_format


@pytest.mark.parametrize("message_format", [2, 3])
def test_rebuilt_bytes_equal_what_the_real_writer_sends(message_format):
    with SINETStreamMessageEncoder(value_type="byte_array", message_format=message_format) as enc:
        written = enc.encode(b"camera frame", timestamp=1650243600.123)
    tstamp = decode(written).tstamp_us
    assert encode_sinetstream(tstamp, b"camera frame", message_format) == written


def test_timestamp_bodies_give_the_millisecond_back():
    reader = TimestampReader(PATTERN, b"\n")
    assert reader.tstamp_us(b"2022-04-18T01:00:00.123\n") == 1650243600123000
    assert reader.tstamp_us(b"1970-01-01T00:00:00.000\n") == 0  # "not set"


@pytest.mark.parametrize(
    "body", [b"2022-04-18T01:00:00.123", b"2022-04-18T01:00\n", b"garbage\n", b"\xff\n"]
)
def test_a_bad_timestamp_body_is_reported(body):
    with pytest.raises(BadBody):
        TimestampReader(PATTERN, b"\n").tstamp_us(body)


def test_payload_loses_exactly_its_trailing_separator():
    assert payload_msg(b"a\n\n", b"\n") == b"a\n"
    assert payload_msg(b"\n", b"\n") == b""
    assert payload_msg(b"raw", b"") == b"raw"
    with pytest.raises(BadBody, match="truncated"):
        payload_msg(b"cut shor", b"\n")

"""JSON values parsed by the schemaless JsonConverter and written by JsonFormat take a fast
path (msgspec); these tests hold it to the bytes the json module writes, value by value."""

from __future__ import annotations

import json
import random
import struct
from typing import Any

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.pipeline.converters import ConversionError, json_converter
from kafka_s3_sink.pipeline.formats.json_format import JsonFormat

from ..reference_data import record

FAST = JsonFormat().for_documents()
PLAIN = JsonFormat()


def written(value: Any) -> tuple[bytes, bytes]:
    """(fast path, json module) bytes of one parsed value."""
    return bytes(FAST.prepare(value)), bytes(PLAIN.prepare(value))


def interesting_floats() -> list[float]:
    values = [0.0, -0.0, 1.0, 0.1, 1e-4, 1e-5, 9.99e-5, 1e15, 1e16, 1.5e16, 5e-324]
    values += [m * 10.0**e for e in range(-300, 300, 7) for m in (1.0, 1.5, 9.999999, 2.5)]
    rng = random.Random(7)
    for _ in range(20_000):
        x = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if x == x and x not in (float("inf"), float("-inf")):
            values.append(x)
    values += [round(rng.uniform(-1e4, 1e4), rng.randint(0, 6)) for _ in range(5_000)]
    return values


def test_every_float_is_written_as_the_json_module_writes_it() -> None:
    floats = interesting_floats()
    for chunk in range(0, len(floats), 50):
        document = {"values": floats[chunk : chunk + 50], "one": floats[chunk]}
        fast, plain = written(document)
        assert fast == plain, document


def test_every_character_is_escaped_as_the_json_module_escapes_it() -> None:
    # All code points but the surrogates, in strings and in keys.
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    for chunk in range(0, len(characters), 4096):
        text = "".join(characters[chunk : chunk + 4096])
        fast, plain = written({text[:64]: text, "list": [text[::-1]]})
        assert fast == plain


@pytest.mark.parametrize(
    "document",
    [
        b'{"a":1,"b":2,"a":3}',  # a repeated key: the last value, at the first place
        b'[1, 2, {"x": [true, false, null]}]',
        b'"x"',
        b"123",
        b"18446744073709551616",
        b"-9223372036854775809",
        b'{"big": 100000000000000000000000000000000000000}',
        b'{"e": 1.0e2, "small": 0.00001, "neg": -0.0, "exp": 1E+16}',
        b'{"deep": [[[[{"k": "v\\u0000\\n\\t\\"\\\\/"}]]]]}',
        b'{"nan-like": "NaN", "null": null}',
        b'{"inf": 1E400}',  # json.loads reads infinity: written as json.dumps writes it
        b'"\xed\xa0\x80"',  # an encoded lone surrogate, as json.loads reads it
        b'\xef\xbb\xbf{"bom": 1}',
        b' {"spaces": [ 1 , 2 ] } ',
    ],
)
def test_parsed_documents_are_written_as_before(document: bytes) -> None:
    convert = json_converter(schemas_enable=False)
    parsed = convert(record(document))
    assert parsed == _json_loads(document) or parsed != parsed  # NaN-free documents
    try:
        expected: bytes | None = bytes(PLAIN.prepare(_json_loads(document)))
    except Exception as error:  # noqa: BLE001 - the same failure, or none, on both paths
        expected = None
        with pytest.raises(type(error)):
            FAST.prepare(parsed)
    if expected is not None:
        assert bytes(FAST.prepare(parsed)) == expected


def _json_loads(document: bytes) -> Any:
    return json.loads(document)


@pytest.mark.parametrize("document", [b"NaN", b"{", b'{"a":1}x', b'"\xff"', b"[1,]"])
def test_what_json_refuses_is_still_refused(document: bytes) -> None:
    with pytest.raises(ConversionError):
        json_converter(schemas_enable=False)(record(document))


def _config(**overrides: str) -> dict[str, str]:
    config = {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "topics": "t",
        "s3.bucket.name": "b",
        "store.url": "file:///tmp/store",
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "flush.size": "10",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
    }
    config.update(overrides)
    return config


def test_only_untransformed_schemaless_json_takes_the_fast_path() -> None:
    assert parse_connector_config("c", _config()).format.documents
    enveloped = _config(**{"value.converter.schemas.enable": "true"})
    assert not parse_connector_config("c", enveloped).format.documents
    transformed = _config(
        transforms="pick",
        **{
            "transforms.pick.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
            "transforms.pick.field": "reading",
        },
    )
    assert not parse_connector_config("c", transformed).format.documents
    raw = _config(**{"value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter"})
    assert not parse_connector_config("c", raw).format.documents

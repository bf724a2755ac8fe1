"""The codec against bytes made by the real SINETStream package."""

import pytest
from sinetstream import SINETStreamMessageEncoder

from kafka_s3_sink.pipeline.sinetstream_codec import UndecodableMessage, decode


def encode(msg: bytes, timestamp: float | None, message_format: int) -> bytes:
    with SINETStreamMessageEncoder(value_type="byte_array", message_format=message_format) as enc:
        return enc.encode(msg, timestamp=timestamp)


@pytest.mark.parametrize("message_format", [2, 3])
@pytest.mark.parametrize(
    "msg",
    [b"", b"hello", bytes(range(256)) * 4, b"\x00" * (5 * 1024 * 1024 + 7)],
    ids=["empty", "short", "binary", "5MB"],
)
def test_decodes_what_the_real_writer_encodes(msg: bytes, message_format: int) -> None:
    value = encode(msg, 1650243600.123456, message_format)
    decoded = decode(value)
    assert bytes(decoded.msg) == msg
    assert decoded.tstamp_us == 1650243600123456
    assert decoded.format_version == message_format


@pytest.mark.parametrize("message_format", [2, 3])
def test_tstamp_zero_means_not_set(message_format: int) -> None:
    decoded = decode(encode(b"x", 0, message_format))
    assert decoded.tstamp_us == 0
    assert bytes(decoded.msg) == b"x"


def test_null_value_is_undecodable() -> None:
    with pytest.raises(UndecodableMessage, match="null"):
        decode(None)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"plain text", "not a SINETStream message"),
        (b"", "not a SINETStream message"),
        (b"\xc3\x01\x1f\x9c", "truncated"),
        (b"\xc3\x01" + b"\x00" * 8 + b"\x00\x00", "fingerprint"),
    ],
)
def test_garbage_is_undecodable_with_a_reason(value: bytes, reason: str) -> None:
    with pytest.raises(UndecodableMessage, match=reason):
        decode(value)


def test_truncated_payload_is_undecodable() -> None:
    value = encode(b"0123456789" * 10, 1.0, 3)
    with pytest.raises(UndecodableMessage, match="truncated"):
        decode(value[:-5])


def test_encrypted_v3_is_undecodable() -> None:
    value = encode(b"secret", 1.0, 3)
    encrypted = value[:4] + (1).to_bytes(2, "big") + b"salt-iv-ciphertext..."
    with pytest.raises(UndecodableMessage, match="encrypted"):
        decode(encrypted)


def test_encrypted_by_the_real_writer_is_undecodable() -> None:
    params = {
        "crypto": {
            "algorithm": "AES",
            "key_length": 128,
            "mode": "GCM",
            "padding": "none",
            "key_derivation": {"algorithm": "pbkdf2", "salt_bytes": 16, "iteration": 1000},
            "password": {"value": "secret-000"},
        },
        "data_encryption": True,
    }
    with SINETStreamMessageEncoder(value_type="byte_array", **params) as enc:
        value = enc.encode(b"payload", timestamp=1.0)
    with pytest.raises(UndecodableMessage, match="encrypted"):
        decode(value)

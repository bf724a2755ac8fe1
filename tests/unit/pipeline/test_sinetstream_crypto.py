"""Decryption and decompression of messages the real SINETStream writer made, for every
setting that writer supports; undecryptable messages fail with a reason, never the secret."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

from kafka_s3_sink.pipeline.sinetstream_codec import UndecodableMessage, decode
from kafka_s3_sink.pipeline.sinetstream_crypto import CryptoParams, KeySecret
from kafka_s3_sink.pipeline.spec import ConnectorConfigError

from .sinetstream_writer import TSTAMP_US, converter, dotted, encode, record

PASSWORD = "s3nsor-Pa55word"
MODES = ["CBC", "CFB", "OFB", "CTR", "OPENPGP", "OPENPGPCFB", "EAX", "GCM"]
PAYLOADS = [b"", b"23.5 C", bytes(range(256)) * 17]


def crypto(mode: str, **more: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"algorithm": "AES", "mode": mode, "password": PASSWORD}
    params.setdefault("key_derivation", {"iteration": 100})
    params.update(more)
    return params


def roundtrip(writer: dict[str, Any], reader: dict[str, Any] | None = None) -> None:
    values = encode(PAYLOADS, **writer)
    convert = converter(dotted(reader if reader is not None else writer))
    for payload, value in zip(PAYLOADS, values, strict=True):
        out = convert(record(value))
        assert bytes(out["msg"]) == payload
        assert out["tstamp"] == TSTAMP_US


def cbc_without_padding_payloads() -> list[bytes]:
    """CBC without padding needs whole blocks: payloads whose Avro record is one."""
    found = []
    for size in range(64):
        try:
            encode([b"x" * size], data_encryption=True, crypto=crypto("CBC", padding="none"))
        except ValueError:
            continue
        found.append(b"x" * size)
    return found


@pytest.mark.parametrize("key_length", [128, 192, 256])
@pytest.mark.parametrize("padding", ["none", "pkcs7"])
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_key_length_and_padding(mode: str, key_length: int, padding: str) -> None:
    params = crypto(mode, key_length=key_length, padding=padding)
    if mode == "CBC" and padding == "none":
        payloads = cbc_without_padding_payloads()
        assert payloads
        values = encode(payloads, data_encryption=True, crypto=params)
        convert = converter(dotted({"data_encryption": True, "crypto": params}))
        assert [bytes(convert(record(v))["msg"]) for v in values] == payloads
        return
    roundtrip({"data_encryption": True, "crypto": params})


@pytest.mark.parametrize("prf", ["HMAC-SHA256", "HMAC-SHA384", "HMAC-SHA512"])
@pytest.mark.parametrize("algorithm", ["pbkdf2", "PBKDF2WithHmacSHA256"])
@pytest.mark.parametrize("salt_bytes", [0, 8, 16, 32])
def test_every_key_derivation_setting(prf: str, algorithm: str, salt_bytes: int) -> None:
    kdf = {"algorithm": algorithm, "prf": prf, "salt_bytes": salt_bytes, "iteration": 50}
    roundtrip({"data_encryption": True, "crypto": crypto("GCM", key_derivation=kdf)})


def test_the_writers_defaults_and_password_forms() -> None:
    """Default KDF (10 000 rounds), password as {value: ...}; the reader names only mode and
    password, as a reader's config usually does."""
    writer = {"crypto": {"algorithm": "AES", "mode": "EAX", "password": {"value": PASSWORD}}}
    values = encode([b"a", b"b"], data_encryption=True, **writer)
    reader = {"data_encryption": "true", "crypto.mode": "EAX", "crypto.password": PASSWORD}
    convert = converter(reader)
    assert [bytes(convert(record(v))["msg"]) for v in values] == [b"a", b"b"]


def test_password_file_keeps_its_trailing_newline(tmp_path: Any) -> None:
    """The writer reads a password: {path: ...} file whole, newline included."""
    path = tmp_path / "pw"
    path.write_text(PASSWORD + "\n")
    writer = crypto("CTR", password={"path": str(path)})
    values = encode([b"x"], data_encryption=True, crypto=writer)
    convert = converter(dotted({"data_encryption": True, "crypto": crypto("CTR")}))
    convert_nl = converter(
        {
            **dotted({"data_encryption": True, "crypto": crypto("CTR")}),
            "crypto.password": PASSWORD + "\n",
        }
    )
    assert bytes(convert_nl(record(values[0]))["msg"]) == b"x"
    with pytest.raises(UndecodableMessage):
        convert(record(values[0]))


@pytest.mark.parametrize("algorithm", ["gzip", "zstd"])
@pytest.mark.parametrize("level", [None, 1, 9])
def test_compression(algorithm: str, level: int | None) -> None:
    compression = {"algorithm": algorithm, "level": level}
    roundtrip({"data_compression": True, "compression": compression})


@pytest.mark.parametrize(
    "options",
    [
        {"gzip": {"wbits": 31}},  # a gzip file
        {"gzip": {"wbits": -15}},  # raw deflate
        {"gzip": {"wbits": 9, "memLevel": 9, "strategy": 1}},
    ],
    ids=["gzip-header", "raw-deflate", "small-window"],
)
def test_gzip_writer_options(options: dict[str, Any]) -> None:
    writer = {"data_compression": True, "compression": {"algorithm": "gzip", **options}}
    values = encode(PAYLOADS, **writer)
    reader: dict[str, str] = {"data_compression": "true", "compression.algorithm": "gzip"}
    if options["gzip"]["wbits"] < 0:  # raw deflate has no header: the reader must be told
        reader["compression.gzip.wbits"] = str(options["gzip"]["wbits"])
    convert = converter(reader)
    assert [bytes(convert(record(v))["msg"]) for v in values] == PAYLOADS


@pytest.mark.parametrize(
    "options",
    [{"write_content_size": False}, {"write_checksum": True}, {"threads": 2}],
    ids=["no-content-size", "checksum", "threads"],
)
def test_zstd_writer_options(options: dict[str, Any]) -> None:
    writer = {"data_compression": True, "compression": {"algorithm": "zstd", "zstd": options}}
    values = encode(PAYLOADS, **writer)
    convert = converter({"data_compression": "true", "compression.algorithm": "zstd"})
    assert [bytes(convert(record(v))["msg"]) for v in values] == PAYLOADS


@pytest.mark.parametrize("algorithm", ["gzip", "zstd"])
@pytest.mark.parametrize("mode", MODES)
def test_compressed_and_encrypted(algorithm: str, mode: str) -> None:
    padding = "pkcs7" if mode == "CBC" else "none"
    roundtrip(
        {
            "data_compression": True,
            "compression": {"algorithm": algorithm},
            "data_encryption": True,
            "crypto": crypto(mode, padding=padding),
        }
    )


def raw_keys_reader(mode: str, keys: dict[int, bytes]) -> dict[str, str]:
    reader = {"data_encryption": "true", "crypto.mode": mode, "crypto.key_length": "256"}
    for version, key in keys.items():
        reader[f"crypto.secret_key.{version}"] = base64.b64encode(key).decode()
    return reader


def test_key_versions_each_message_picks_its_key() -> None:
    """Versioned AES keys (a config server's _keys): the writer uses its highest version;
    a reader holding versions 1 and 2 reads both writers' messages in one topic."""
    k1, k2 = os.urandom(32), os.urandom(32)
    old = encode(
        [b"old"],
        data_encryption=True,
        crypto={"algorithm": "AES", "mode": "GCM", "key_length": 256, "_keys": {1: k1}},
    )
    new = encode(
        [b"new"],
        data_encryption=True,
        crypto={"algorithm": "AES", "mode": "GCM", "key_length": 256, "_keys": {1: k1, 2: k2}},
    )
    assert old[0][4:6] == b"\x00\x01" and new[0][4:6] == b"\x00\x02"
    convert = converter(raw_keys_reader("GCM", {1: k1, 2: k2}))
    assert bytes(convert(record(old[0]))["msg"]) == b"old"
    assert bytes(convert(record(new[0]))["msg"]) == b"new"


def test_password_for_version_1_beside_a_raw_key_for_version_2() -> None:
    k2 = os.urandom(16)
    old = encode([b"old"], data_encryption=True, crypto=crypto("CBC", padding="pkcs7"))
    new = encode(
        [b"new"],
        data_encryption=True,
        crypto={"algorithm": "AES", "mode": "CBC", "padding": "pkcs7", "_keys": {2: k2}},
    )
    reader = dotted({"data_encryption": True, "crypto": crypto("CBC", padding="pkcs7")})
    reader["crypto.secret_key.2"] = base64.b64encode(k2).decode()
    convert = converter(reader)
    assert bytes(convert(record(old[0]))["msg"]) == b"old"
    assert bytes(convert(record(new[0]))["msg"]) == b"new"


def test_unknown_key_version_is_undecodable() -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    value = encode(
        [b"x"],
        data_encryption=True,
        crypto={"algorithm": "AES", "mode": "GCM", "key_length": 256, "_keys": {1: k1, 2: k2}},
    )[0]
    convert = converter(raw_keys_reader("GCM", {1: k1}))
    with pytest.raises(UndecodableMessage, match="unknown key version 2.*versions are 1"):
        convert(record(value))


@pytest.mark.parametrize("mode", MODES)
def test_wrong_password_is_undecodable_and_the_reason_holds_no_secret(mode: str) -> None:
    padding = "pkcs7" if mode == "CBC" else "none"
    value = encode([b"reading"], data_encryption=True, crypto=crypto(mode, padding=padding))[0]
    reader = dotted({"data_encryption": True, "crypto": crypto(mode, padding=padding)})
    reader["crypto.password"] = "wrong-" + PASSWORD
    with pytest.raises(UndecodableMessage) as caught:
        converter(reader)(record(value))
    reason = caught.value.reason
    assert "wrong password or key" in reason
    assert PASSWORD not in reason


@pytest.mark.parametrize("where", ["salt", "nonce", "ciphertext", "tag"])
@pytest.mark.parametrize("mode", ["GCM", "EAX"])
def test_a_flipped_byte_under_aead_is_undecodable(mode: str, where: str) -> None:
    value = bytearray(encode([b"reading"], data_encryption=True, crypto=crypto(mode))[0])
    offset = {"salt": 6, "nonce": 6 + 8 + 3, "ciphertext": 6 + 8 + 16 + 2, "tag": -1}[where]
    value[offset] ^= 0x01
    convert = converter(dotted({"data_encryption": True, "crypto": crypto(mode)}))
    with pytest.raises(UndecodableMessage, match=f"{mode} authentication tag does not match"):
        convert(record(bytes(value)))


def test_truncated_encrypted_message() -> None:
    value = encode([b"x"], data_encryption=True, crypto=crypto("GCM"))[0]
    convert = converter(dotted({"data_encryption": True, "crypto": crypto("GCM")}))
    with pytest.raises(UndecodableMessage, match="truncated encrypted"):
        convert(record(value[:20]))


def test_encrypted_message_without_a_key_keeps_its_reason() -> None:
    value = encode([b"x"], data_encryption=True, crypto=crypto("GCM"))[0]
    convert = converter({"data_compression": "true"})
    with pytest.raises(UndecodableMessage, match="encrypted SINETStream v3 message"):
        convert(record(value))


def test_v2_writer_with_encryption_and_plain_messages_beside_encrypted_ones() -> None:
    """A v2 writer encrypts without a header: read with the highest key version, as the
    SINETStream reader does; plain v2 and v3 messages still read with a key configured."""
    params = crypto("OFB")
    v2_encrypted = encode([b"v2"], data_encryption=True, crypto=params, message_format=2)[0]
    plain_v2 = encode([b"p2"], message_format=2)[0]
    plain_v3 = encode([b"p3"])[0]
    convert = converter(dotted({"data_encryption": True, "crypto": params}))
    for value, payload in [(v2_encrypted, b"v2"), (plain_v2, b"p2"), (plain_v3, b"p3")]:
        assert bytes(convert(record(value))["msg"]) == payload


@pytest.mark.parametrize("algorithm", ["gzip", "zstd"])
def test_uncompressed_msg_under_compression_is_undecodable(algorithm: str) -> None:
    value = encode([b"not compressed"])[0]
    convert = converter({"data_compression": "true", "compression.algorithm": algorithm})
    with pytest.raises(UndecodableMessage, match=f"not {algorithm}"):
        convert(record(value))


def test_switched_off_settings_are_accepted_and_the_plain_path_stays() -> None:
    value = encode([b"plain"])[0]
    convert = converter(dotted({"data_encryption": False, "crypto": crypto("GCM")}))
    assert bytes(convert(record(value))["msg"]) == b"plain"


@pytest.mark.parametrize(
    "options, key, words",
    [
        ({"data_encryption": "true", "crypto.mode": "GCM"}, "crypto.password", "set"),
        (
            {"data_encryption": "true", "crypto.mode": "ECB", "crypto.password": PASSWORD},
            "crypto.mode",
            "one of",
        ),
        (
            {
                "data_encryption": "true",
                "crypto.mode": "GCM",
                "crypto.password": PASSWORD,
                "crypto.key_length": "100",
            },
            "crypto.mode",
            "128, 192 or 256",
        ),
        (
            {"data_encryption": "true", "crypto.mode": "GCM", "crypto.secret_key.1": "AAAA"},
            "crypto.mode",
            "has 24 bits",
        ),
        (
            {"data_encryption": "true", "crypto.mode": "GCM", "crypto.secret_key.1": "%%%"},
            "crypto.secret_key.1",
            "base64",
        ),
        (
            {
                "data_encryption": "true",
                "crypto.mode": "GCM",
                "crypto.password": PASSWORD,
                "crypto.key_derivation.prf": "HMAC-MD5",
            },
            "crypto.key_derivation.prf",
            "must be",
        ),
        (
            {"data_compression": "true", "compression.algorithm": "lz4"},
            "compression.algorithm",
            "must be",
        ),
        ({"crypto.bogus": "1"}, "crypto.bogus", "no parameter"),
    ],
)
def test_config_errors_name_the_key_and_never_the_secret(
    options: dict[str, str], key: str, words: str
) -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        converter(options)
    assert caught.value.key == f"value.converter.{key}"
    assert words in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_reprs_hold_no_secret() -> None:
    secret = KeySecret(password=PASSWORD)
    params = CryptoParams(mode="GCM", keys={1: secret, 2: KeySecret(key=b"K" * 16)})
    assert PASSWORD not in repr(secret) + repr(params)
    assert "KKKK" not in repr(params)


def test_a_versioned_password_and_a_version_given_twice() -> None:
    value = encode([b"x"], data_encryption=True, crypto=crypto("GCM"))[0]
    reader = {
        "data_encryption": "true",
        "crypto.mode": "GCM",
        "crypto.key_derivation.iteration": "100",
        "crypto.password.1": PASSWORD,
    }
    assert bytes(converter(reader)(record(value))["msg"]) == b"x"
    with pytest.raises(ConnectorConfigError, match="given twice") as caught:
        converter({**reader, "crypto.password": PASSWORD})
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "writer",
    [
        {"algorithm": "gzip"},
        {"algorithm": "zstd"},
        {"algorithm": "zstd", "zstd": {"write_content_size": False}},
    ],
    ids=["gzip", "zstd", "zstd-no-content-size"],
)
def test_decompression_is_bounded(writer: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from kafka_s3_sink.pipeline import sinetstream_compression

    monkeypatch.setattr(sinetstream_compression, "MAX_DECOMPRESSED_BYTES", 1000)
    values = encode([b"z" * 1000, b"z" * 1001], data_compression=True, compression=writer)
    convert = converter({"data_compression": "true", "compression.algorithm": writer["algorithm"]})
    assert bytes(convert(record(values[0]))["msg"]) == b"z" * 1000
    with pytest.raises(UndecodableMessage, match="more than 1000 bytes"):
        convert(record(values[1]))


def v2_message(msg: bytes) -> bytes:
    """A v2 message around ``msg`` as it is (tstamp 0): to hand the reader broken payloads."""
    length = len(msg) << 1  # zig-zag of a non-negative length
    varint = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        varint.append(byte | (0x80 if length else 0))
        if not length:
            break
    return b"\xc3\x01\x1f\x9c\x0c\x91\xeb\x33\x66\x4f\x00" + bytes(varint) + msg


@pytest.mark.parametrize("algorithm", ["gzip", "zstd"])
def test_truncated_compressed_msg_is_undecodable(algorithm: str) -> None:
    whole = encode([os.urandom(4000)], data_compression=True, compression={"algorithm": algorithm})[
        0
    ]
    convert = converter({"data_compression": "true", "compression.algorithm": algorithm})
    inner = bytes(decode(whole).msg)
    with pytest.raises(UndecodableMessage, match="truncated|not"):
        convert(record(v2_message(inner[: len(inner) // 2])))


def test_not_sinetstream_at_all_under_encryption_says_so() -> None:
    convert = converter(dotted({"data_encryption": True, "crypto": crypto("CBC")}))
    with pytest.raises(UndecodableMessage, match="^not a SINETStream message: starts with 68"):
        convert(record(b"hello, plain text that is no SINETStream message"))

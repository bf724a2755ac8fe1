"""Decoding of SINETStream messages (formats v2 and v3; encrypted and compressed ones
through ``decode_protected``, with the reader's decryption and decompression).

The reference deployment's converter turns a record value into ``{tstamp, msg}``.  This
module does the same from the bytes alone, so that a value it cannot read is reported with
a precise reason instead of failing the whole pipeline.

Layout (reference-deployment.md section 3)::

    v3:  DF 03 00 00 | key version (2 bytes, big endian) | v2 bytes
    v2:  C3 01 | fingerprint (8 bytes) | tstamp (zig-zag varint) | len (zig-zag varint) | msg
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

V3_MARKER = b"\xdf\x03\x00\x00"
AVRO_SINGLE_OBJECT_MARKER = b"\xc3\x01"
# The fingerprint the SINETStream libraries emit (one guide page misprints a byte).
MESSAGE_SCHEMA_FINGERPRINT = b"\x1f\x9c\x0c\x91\xeb\x33\x66\x4f"
_V2_HEADER = AVRO_SINGLE_OBJECT_MARKER + MESSAGE_SCHEMA_FINGERPRINT
_V3_HEADER_LEN = len(V3_MARKER) + 2


class UndecodableMessage(ValueError):
    """The record value is not an unencrypted SINETStream message; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SinetStreamMessage:
    """A decoded message: the writer's timestamp in microseconds (0 = not set) and payload."""

    tstamp_us: int
    msg: bytes | memoryview
    format_version: int


def decode(value: bytes | None) -> SinetStreamMessage:
    """Decode one record value; raise :class:`UndecodableMessage` with the reason if it fails."""
    if value is None:
        raise UndecodableMessage("null value (tombstone): no SINETStream message to decode")
    view = memoryview(value)
    if view[: len(V3_MARKER)] == V3_MARKER and len(view) > _V3_HEADER_LEN:
        key_version = int.from_bytes(view[len(V3_MARKER) : _V3_HEADER_LEN], "big")
        if key_version != 0:
            raise UndecodableMessage(
                f"encrypted SINETStream v3 message (key version {key_version}): "
                "it can be decoded only with the writer's key"
            )
        tstamp, msg = _decode_v2(view[_V3_HEADER_LEN:])
        return SinetStreamMessage(tstamp, msg, 3)
    tstamp, msg = _decode_v2(view)
    return SinetStreamMessage(tstamp, msg, 2)


Decrypt = Callable[[memoryview, int], bytes]  # (body after the header, key version) -> v2
Decompress = Callable[[bytes | memoryview], bytes]


def decode_protected(
    value: bytes | None, decrypt: Decrypt | None, decompress: Decompress | None, latest: int
) -> SinetStreamMessage:
    """Decode a value that may be encrypted and whose msg may be compressed.

    ``decrypt`` is None when no key is configured; ``latest`` is the key version of a
    message without v3 header (a v2 writer with encryption), as SINETStream readers take
    the highest one.  Unencrypted messages (key version 0, plain v2) are read as they are,
    so a topic that moves to encryption keeps being archived across the change.
    """
    if value is None:
        raise UndecodableMessage("null value (tombstone): no SINETStream message to decode")
    view = memoryview(value)
    version = 2
    key_version = 0
    body = view
    if view[: len(V3_MARKER)] == V3_MARKER and len(view) > _V3_HEADER_LEN:
        version = 3
        key_version = int.from_bytes(view[len(V3_MARKER) : _V3_HEADER_LEN], "big")
        body = view[_V3_HEADER_LEN:]
    elif decrypt is not None and bytes(view[: len(_V2_HEADER)]) != _V2_HEADER:
        key_version = latest
    if key_version == 0:
        tstamp, msg = _decode_v2(body)
    elif decrypt is None:
        return decode(value)  # its reason: encrypted, no key
    elif version == 2:
        try:
            tstamp, msg = _decode_v2(memoryview(decrypt(body, key_version)))
        except UndecodableMessage as error:  # no header: maybe no SINETStream at all
            raise UndecodableMessage(
                f"not a SINETStream message: starts with {bytes(view[:4]).hex(' ')} (no v3 "
                f"header, not v2), and read as a v2 message encrypted with key version "
                f"{key_version} it does not decrypt either ({error.reason})"
            ) from None
    else:
        plaintext = memoryview(decrypt(body, key_version))
        try:
            tstamp, msg = _decode_v2(plaintext)
        except UndecodableMessage as error:
            raise UndecodableMessage(
                f"decrypted with key version {key_version}, the message is still not "
                f"SINETStream ({error.reason}): wrong password or key for that key version, "
                "or other crypto settings than the writer's"
            ) from None
    if decompress is not None:
        msg = memoryview(decompress(msg))
    return SinetStreamMessage(tstamp, msg, version)


def _decode_v2(view: memoryview) -> tuple[int, memoryview]:
    header = bytes(view[: len(_V2_HEADER)])
    if header[:2] != AVRO_SINGLE_OBJECT_MARKER:
        raise UndecodableMessage(
            f"not a SINETStream message: starts with {header[:4].hex(' ')}, "
            "expected c3 01 (v2) or df 03 00 00 (v3)"
        )
    if len(header) < len(_V2_HEADER):
        raise UndecodableMessage("truncated SINETStream message: header cut short")
    if header[2:] != MESSAGE_SCHEMA_FINGERPRINT:
        raise UndecodableMessage(
            f"unknown Avro schema fingerprint {header[2:].hex(' ')}, "
            f"expected {MESSAGE_SCHEMA_FINGERPRINT.hex(' ')}"
        )
    pos = len(_V2_HEADER)
    tstamp, pos = _read_long(view, pos, "tstamp")
    length, pos = _read_long(view, pos, "msg length")
    if length < 0:
        raise UndecodableMessage(f"corrupt SINETStream message: negative msg length {length}")
    end = pos + length
    if end > len(view):
        raise UndecodableMessage(
            f"truncated SINETStream message: msg declares {length} bytes, {len(view) - pos} present"
        )
    # Trailing bytes are ignored, as the SINETStream libraries themselves ignore them.
    return tstamp, view[pos:end]


def _read_long(view: memoryview, pos: int, field: str) -> tuple[int, int]:
    """Read an Avro long: a zig-zag encoded base-128 varint of at most 10 bytes."""
    result = 0
    shift = 0
    for index in range(pos, min(pos + 10, len(view))):
        byte = view[index]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), index + 1
        shift += 7
    raise UndecodableMessage(f"truncated SINETStream message: {field} varint cut short")

"""Decompression of SINETStream payloads (``data_compression: true``).

The writer compresses the user's ``msg`` bytes before it wraps them in the Avro record
(and encrypts that), so decompression is the last step of decoding.  Nothing in the bytes
says a payload is compressed: the reader must be configured as the writer was.

* ``gzip``: Python's zlib with the writer's ``compression.gzip`` options; with the default
  ``wbits`` that is a zlib stream, not a gzip file.  Any positive ``wbits`` is read with
  automatic zlib/gzip header detection, a negative one as raw deflate.
* ``zstd``: a zstd frame, with or without its content size (a streaming writer leaves
  it out).

Output is bounded (``MAX_DECOMPRESSED_BYTES``): a message of a few kilobytes that inflates
to gigabytes is a dead letter, not an out-of-memory service.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable

import zstandard

from .sinetstream_codec import UndecodableMessage

GZIP = "gzip"
ZSTD = "zstd"
ALGORITHMS = (GZIP, ZSTD)
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024
_ZLIB_OR_GZIP = 32 + 15  # zlib's "detect the header" window bits

Decompress = Callable[[bytes | memoryview], bytes]


def gzip_decompressor(wbits: int | None = None) -> Decompress:
    window = _ZLIB_OR_GZIP if wbits is None or wbits > 0 else wbits

    def decompress(data: bytes | memoryview) -> bytes:
        inflater = zlib.decompressobj(window)
        try:
            out = inflater.decompress(data, MAX_DECOMPRESSED_BYTES)
        except zlib.error as error:
            raise UndecodableMessage(
                f"SINETStream msg is not gzip/zlib-compressed as configured ({error})"
            ) from None
        if inflater.unconsumed_tail:
            raise _too_large()
        if not inflater.eof:
            raise UndecodableMessage("gzip-compressed SINETStream msg is truncated")
        return out

    return decompress


def zstd_decompressor(max_window_size: int = 0) -> Decompress:
    # A ZstdDecompressor may not be used by two threads at once, and the tasks of a
    # connector share this function: one context per thread.
    local = threading.local()

    def decompress(data: bytes | memoryview) -> bytes:
        context = getattr(local, "context", None)
        if context is None:
            context = local.context = zstandard.ZstdDecompressor(max_window_size=max_window_size)
        raw = bytes(data)
        try:
            declared = zstandard.frame_content_size(raw)  # -1: the frame does not say
            if declared > MAX_DECOMPRESSED_BYTES:
                raise _too_large()
            if declared < 0:  # measured in bounded chunks before it is held whole
                total = 0
                for chunk in context.read_to_iter(raw):
                    total += len(chunk)
                    if total > MAX_DECOMPRESSED_BYTES:
                        raise _too_large()
            # A decompressobj says whether the frame was complete.
            inflater = context.decompressobj()
            out = inflater.decompress(raw)
        except zstandard.ZstdError as error:
            raise UndecodableMessage(
                f"SINETStream msg is not zstd-compressed as configured ({error})"
            ) from None
        if not inflater.eof:
            raise UndecodableMessage("zstd-compressed SINETStream msg is truncated")
        return out

    return decompress


def _too_large() -> UndecodableMessage:
    return UndecodableMessage(
        f"SINETStream msg decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes: refused"
    )

"""What every output format shares: the error of a value that cannot be written, the codec
tables checked without the optional extras, and the object-level compression.

``s3.compression.type=gzip`` gzips the whole object and adds ``.gz`` after the extension,
for ByteArray and JSON only, as Confluent does (Avro and Parquet compress inside the file:
``avro.codec``, ``parquet.codec``).
"""

from __future__ import annotations

import gzip

from ..sinetstream_codec import UndecodableMessage

COMPRESSION_EXTENSIONS = {"none": "", "gzip": ".gz"}
AVRO_CODECS = ("null", "deflate", "snappy", "bzip2")  # avro.codec, as Confluent allows
# parquet.codec -> (pyarrow's name, the extension parquet-mr's CompressionCodecName gives it)
PARQUET_CODECS = {
    "none": ("none", ""),
    "snappy": ("snappy", ".snappy"),
    "gzip": ("gzip", ".gz"),
    "brotli": ("brotli", ".br"),
    "zstd": ("zstd", ".zstd"),
    "lz4_raw": ("lz4", ".lz4raw"),  # pyarrow's "lz4" is Parquet's LZ4_RAW
}
# Codecs parquet-mr has and pyarrow cannot write: refused with this reason.
UNWRITABLE_PARQUET_CODECS = {
    "lzo": "pyarrow cannot write LZO",
    "lz4": "the Hadoop-framed LZ4 codec is deprecated in Parquet and pyarrow cannot write it; "
    "use lz4_raw",
}


class FormatError(UndecodableMessage):
    """The value cannot be written in the connector's format."""


def compress(body: bytes | memoryview, compression: str, level: int = -1) -> bytes | memoryview:
    """The object's stored bytes.  gzip with mtime 0: a replayed object is byte-identical."""
    if compression == "none":
        return body
    # -1 is Deflater.DEFAULT_COMPRESSION, which zlib defines as level 6.
    return gzip.compress(body, compresslevel=6 if level < 0 else level, mtime=0)


def object_extension(extension: str, compression: str) -> str:
    """The full extension of an object: the format's, then the compression's (``.bin.gz``)."""
    return extension + COMPRESSION_EXTENSIONS[compression]

"""Records/s of each output format, in-process: converter, transforms, batching, encoding.

    .venv/bin/python -m bench.formats [--records 20000] [--size 1024] [--flush-size 1000]

SINETStream messages (made by the real encoder) go through the reference data connector's
record path (SinetStreamConverter, ExtractField msg, ByteArrayCast) with each format:
`spec.convert` -> `ObjectAssembler.add` -> `format.encode` (+ compression), as the sink task
runs it, without Kafka or a store: what each format costs on the CPU.  The anchor is
ByteArrayFormat, measured in the same run; each format is printed with its ratio to it.
The payload is a repeating byte pattern, so compressed sizes are far smaller than real data's.
Bounded by --records; each case is timed once after a warm-up pass of 1,000 records.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.pipeline.assembler import ObjectAssembler
from kafka_s3_sink.pipeline.formats.base import compress
from kafka_s3_sink.pipeline.records import Record

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from unit.connect.reference import reference_data_config, sinetstream_value  # noqa: E402

TOPIC = "bench"
CASES: dict[str, dict[str, str]] = {
    "bytearray (anchor)": {"format.class": "ByteArrayFormat"},
    "json": {"format.class": "JsonFormat"},
    "json gzip": {"format.class": "JsonFormat", "s3.compression.type": "gzip"},
    "avro null": {"format.class": "AvroFormat"},
    "avro snappy": {"format.class": "AvroFormat", "avro.codec": "snappy"},
    "avro deflate": {"format.class": "AvroFormat", "avro.codec": "deflate"},
    "parquet snappy": {"format.class": "ParquetFormat"},
    "parquet zstd": {"format.class": "ParquetFormat", "parquet.codec": "zstd"},
}


def records(count: int, size: int) -> list[Record]:
    payload = bytes(i % 251 for i in range(size))
    value = sinetstream_value(payload, 1650243600.123456)
    return [Record(TOPIC, 0, offset, 1650243600000, None, value) for offset in range(count)]


def run(config: dict[str, Any], batch: list[Record]) -> tuple[float, int]:
    """(seconds, stored bytes) to turn ``batch`` into objects."""
    spec = parse_connector_config("bench", {"name": "bench", **config})
    assembler = ObjectAssembler(spec)
    stored = 0
    started = time.perf_counter()
    for record in batch:
        for done in assembler.add(record, spec.convert(record), 0):
            body = compress(spec.format.encode(done.values), spec.compression)
            stored += len(body)
    return time.perf_counter() - started, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--flush-size", type=int, default=1000)
    args = parser.parse_args()
    batch = records(args.records, args.size)
    base = {
        **{k: v for k, v in reference_data_config(TOPIC).items() if not k.startswith("format.")},
        "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
        "flush.size": str(args.flush_size),
    }
    anchor = None
    print(f"{args.records} SINETStream records of {args.size} B, flush.size={args.flush_size}, "
          "reference data connector (SinetStreamConverter, msg as bytes)")
    print(f"{'format':<20} {'records/s':>10} {'MB/s in':>8} {'stored/in':>9} {'vs anchor':>9}")
    for name, extra in CASES.items():
        config = {**base, **extra}
        run(config, batch[:1000])  # warm-up: imports, schema caches
        seconds, stored = run(config, batch)
        rate = args.records / seconds
        anchor = anchor or rate
        volume = args.records * args.size
        print(f"{name:<20} {rate:>10,.0f} {volume / seconds / 1e6:>8.1f} "
              f"{stored / volume:>9.2f} {rate / anchor:>9.2f}")


if __name__ == "__main__":
    main()

"""A Quix Streams application that archives one topic into S3 with Quix's own S3FileSink.

    <quix venv>/bin/python bench/quix_app.py --bootstrap B --topic T --group G \
        --endpoint URL --bucket BK --access-key A --secret-key S \
        --values json|bytes --commit-every N --commit-interval SECONDS --time-limit SECONDS

Runs in the Quix Streams venv of the bench cache (bench/quix_peer.py makes it), not in the
project's: Quix pins its own confluent-kafka.  So this file imports nothing from `bench` or
`kafka_s3_sink`, only the standard library and what quixstreams[s3] installs.

What is Quix's and what is ours:
- Quix's: the Application (consumer, checkpointing, offset commits), the S3FileSink (one
  boto3 `put_object` per topic partition per checkpoint) and its JSONFormat (JSON Lines of
  `{"_timestamp", "_key", "_value"}`).  Quix 3.28.1 writes `"_key": str(item)` (the
  SinkItem's repr) when a record has no key, as the benchmark's records do; left as is.
- Ours, and only naming: the object's file name is Confluent's `<topic>+<partition>+<first
  offset, 10 digits>.jsonl` instead of Quix's `<first offset, 19 digits>.jsonl`, so the
  benchmark's observe.py reads partition and offset from it as for the other sinks.  The
  directory stays Quix's (`<topic>/<partition>/`).
- Ours, for raw values only (`--values bytes`): JSON has no bytes, so a bytes value is
  written as a base64 string, as Kafka Connect's JsonConverter does; Quix's default dumps
  would fail on it.
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
from typing import Any

from botocore.config import Config
from quixstreams import Application
from quixstreams.sinks import SinkBatch
from quixstreams.sinks.community.file.formats import JSONFormat
from quixstreams.sinks.community.file.s3 import S3FileSink


class ConfluentNamedS3FileSink(S3FileSink):
    """Quix's S3FileSink; only the object's file name is Confluent's (see the docstring)."""

    def _filename(self, batch: SinkBatch) -> str:
        ext = self._format.file_extension
        return f"{batch.topic}+{batch.partition}+{batch.start_offset:010d}{ext}"


def _bytes_as_base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _dumps_with_bytes(document: Any) -> str:
    # Compact, as Quix's default writer (jsonlines with compact=True).
    return json.dumps(document, separators=(",", ":"), default=_bytes_as_base64)


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("bootstrap", "topic", "group", "endpoint", "bucket", "access-key",
                 "secret-key"):  # fmt: skip
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--values", choices=["json", "bytes"], required=True)
    parser.add_argument("--commit-every", type=int, required=True)
    parser.add_argument("--commit-interval", type=float, required=True)
    parser.add_argument("--time-limit", type=float, required=True)
    args = parser.parse_args()

    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        commit_every=args.commit_every,
        commit_interval=args.commit_interval,
        # No stateful operations: no changelog topics, nothing created but what exists.
        use_changelog_topics=False,
        loglevel="INFO",
    )
    topic = app.topic(args.topic, value_deserializer=args.values)
    sink = ConfluentNamedS3FileSink(
        bucket=args.bucket,
        aws_access_key_id=args.access_key,
        aws_secret_access_key=args.secret_key,
        region_name=args.region,
        endpoint_url=args.endpoint,
        format=JSONFormat(dumps=_dumps_with_bytes) if args.values == "bytes" else "json",
        # Passed on to boto3.client: the benchmark's server is addressed path-style.
        config=Config(s3={"addressing_style": "path"}),
    )
    app.dataframe(topic).sink(sink)
    # A bound of its own, in case the benchmark that started it dies without stopping it;
    # stop() is Quix's graceful stop (the current checkpoint is committed).
    timer = threading.Timer(args.time_limit, app.stop)
    timer.daemon = True
    timer.start()
    app.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

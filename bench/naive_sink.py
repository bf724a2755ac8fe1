"""The sink a user would write by hand: a consumer loop and boto3 `put_object`, one at a time.

    python -m bench.naive_sink --bootstrap B --topic T --endpoint URL --bucket BK \
        --access-key A --secret-key S --count N --time-limit SECONDS

It writes what the reference deployment writes for each SINETStream message (the payload
object and the timestamp object, same keys and bodies) and stops after `count` messages or
`time_limit` seconds, whichever comes first.  The benchmark runs it as its own process to
measure its CPU and memory alone.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import boto3
from botocore.config import Config
from confluent_kafka import Consumer

from kafka_s3_sink.pipeline.sinetstream_codec import decode

TOKYO = ZoneInfo("Asia/Tokyo")


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("bootstrap", "topic", "endpoint", "bucket", "access-key", "secret-key"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--time-limit", type=float, required=True)
    parser.add_argument("--group", default=f"naive-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()
    deadline = time.monotonic() + args.time_limit

    s3 = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        aws_access_key_id=args.access_key,
        aws_secret_access_key=args.secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([args.topic])
    done = 0
    try:
        while done < args.count and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error() is not None:
                continue
            decoded = decode(msg.value())
            _, ts_ms = msg.timestamp()
            hour = datetime.fromtimestamp(ts_ms / 1000, TOKYO).strftime(
                "year=%Y/month=%m/day=%d/hour=%H"
            )
            topic = msg.topic()
            base = f"topics/{topic}/{hour}/{topic}+{msg.partition()}+{msg.offset():010d}"
            s3.put_object(Bucket=args.bucket, Key=base + ".bin", Body=bytes(decoded.msg) + b"\n")
            stamp = datetime.fromtimestamp(decoded.tstamp_us // 1000 / 1000, UTC)
            body = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}\n"
            s3.put_object(Bucket=args.bucket, Key=base + "-timestamp.txt", Body=body.encode())
            done += 1
    finally:
        consumer.close()
    print(done)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

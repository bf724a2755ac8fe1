"""The ceilings a sink cannot beat on this machine: raw S3 PUT rate and raw Kafka consume rate.

A sink's throughput means little on its own on two shared cores; reported next to these two
limits, measured in the same run against the same servers, it says how much of the available
speed the sink uses.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

import obstore
from confluent_kafka import Consumer, KafkaError, TopicPartition
from obstore.store import S3Store


def _cpu_seconds() -> float:
    """CPU time of this process (user + system), to report CPU per message beside rates."""
    t = os.times()
    return t.user + t.system


async def _put_many(
    store: S3Store, prefix: str, body: bytes, count: int, concurrency: int, deadline: float
) -> tuple[int, int]:
    """PUT up to `count` objects with at most `concurrency` in flight; stop at `deadline`.

    A fixed set of workers pulling from a shared counter keeps exactly `concurrency` requests
    in flight without creating `count` tasks up front.
    """
    next_index = 0
    done = 0
    errors = 0

    async def worker() -> None:
        nonlocal next_index, done, errors
        while next_index < count and time.monotonic() < deadline:
            i = next_index
            next_index += 1
            try:
                await obstore.put_async(store, f"{prefix}/{i:010d}.bin", body)
                done += 1
            except Exception:  # noqa: BLE001 - counted and reported, the run goes on
                errors += 1

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return done, errors


def measure_put_limit(
    endpoint: str,
    bucket: str,
    creds: tuple[str, str],
    size_bytes: int,
    count: int,
    concurrency: int = 64,
    time_limit: float = 60.0,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """Raw PUT rate of `count` objects of `size_bytes` with obstore, `concurrency` in flight.

    This is the best a sink writing one object per message can do against this server: the
    same client library as our sink, no Kafka, no encoding.  Bounded by count and time_limit.
    """
    access_key, secret_key = creds
    store = S3Store(
        bucket,
        config={
            "endpoint": endpoint,
            "access_key_id": access_key,
            "secret_access_key": secret_key,
            "region": region,
            "allow_http": "true",
            "virtual_hosted_style_request": "false",
        },
        # The default of 10 pooled connections per host would cap the concurrency measured.
        client_options={"pool_max_idle_per_host": str(max(concurrency, 10))},
    )
    body = os.urandom(size_bytes)
    prefix = f"raw-put/{uuid.uuid4().hex[:8]}-{size_bytes}B"

    async def warm_up() -> None:
        # One request first so that connection set-up is not counted in the rate.
        await obstore.put_async(store, f"{prefix}/warmup.bin", body)

    asyncio.run(warm_up())
    cpu0 = _cpu_seconds()
    t0 = time.monotonic()
    done, errors = asyncio.run(_put_many(store, prefix, body, count, concurrency, t0 + time_limit))
    elapsed = time.monotonic() - t0
    cpu = _cpu_seconds() - cpu0
    return {
        "what": "raw_put",
        "size_bytes": size_bytes,
        "concurrency": concurrency,
        "requested": count,
        "puts": done,
        "errors": errors,
        "seconds": round(elapsed, 3),
        "puts_per_s": round(done / elapsed, 1) if elapsed else 0.0,
        "mb_per_s": round(done * size_bytes / elapsed / 1e6, 2) if elapsed else 0.0,
        "client_cpu_s": round(cpu, 3),
        "timed_out": done + errors < count,
    }


def measure_consume_limit(
    bootstrap: str,
    topic: str,
    expected_count: int,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """Read `expected_count` messages of `topic` from the beginning with a bare consumer.

    A fresh group id starts at the earliest offset, as a newly registered sink does; nothing
    is decoded or committed, so this is Kafka's delivery rate to one Python consumer here.
    Rates are given from subscribe (includes the group join, as a sink pays it too) and from
    the first message (the steady state).
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"raw-consume-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    received = 0
    nbytes = 0
    first_at: float | None = None
    last_at: float | None = None
    cpu0 = _cpu_seconds()
    t0 = time.monotonic()
    deadline = t0 + timeout
    try:
        consumer.subscribe([topic])
        while received < expected_count and time.monotonic() < deadline:
            batch = consumer.consume(num_messages=10_000, timeout=0.5)
            for msg in batch:
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise RuntimeError(f"consume error: {err}")
                if first_at is None:
                    first_at = time.monotonic()
                last_at = time.monotonic()
                received += 1
                value = msg.value()
                nbytes += len(value) if value else 0
        end = time.monotonic()
    finally:
        consumer.close()
    cpu = _cpu_seconds() - cpu0
    total = end - t0
    # Steady rate only over a span long enough to mean something: a small topic arrives in one
    # fetch, and dividing by microseconds would report millions of messages per second.
    steady = last_at - first_at if first_at is not None and last_at is not None else 0.0
    return {
        "what": "raw_consume",
        "expected": expected_count,
        "messages": received,
        "bytes": nbytes,
        "seconds": round(total, 3),
        "seconds_to_first_message": round(first_at - t0, 3) if first_at else None,
        "messages_per_s": round(received / total, 1) if total else 0.0,
        "mb_per_s": round(nbytes / total / 1e6, 2) if total else 0.0,
        "steady_messages_per_s": round(received / steady, 1) if steady > 0.5 else None,
        "client_cpu_s": round(cpu, 3),
        "timed_out": received < expected_count,
    }


def topic_message_count(bootstrap: str, topic: str, timeout: float = 10.0) -> int:
    """Messages in a topic (sum over partitions of high minus low watermark)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        meta = consumer.list_topics(topic, timeout=timeout)
        total = 0
        for pid in meta.topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, pid), timeout)
            total += high - low
        return total
    finally:
        consumer.close()

"""The audit every fault test ends with, and the secret scan.

``audit`` checks the three promises of the README's "Delivery guarantees" at once:

1. every expected object is in the store with exactly the expected bytes;
2. nothing else is under the topics prefix (no stray, renamed or half-written object);
3. for each consumer group and partition, every offset below the committed offset is held
   by a stored object of that group: nothing was committed that is not stored.

The expected objects are computed from the topic's records independently of the service's
code (harness.expected_objects for the reference layout, ``batch_expectation`` for
``flush.size`` > 1), so the service is checked against the contract, not against itself.
It works on a local-directory store (``STORE_URL=file://...``) and on S3 (endpoint+bucket).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from confluent_kafka import Consumer, TopicPartition
from harness import (
    TopicRecord,
    committed_offsets,
    expected_objects,
    local_objects,
    payload_of,
    s3_client,
    s3_objects,
    tstamp_of,
)

DATA_GROUP = "connect-s3-sink-data"
TIMESTAMP_GROUP = "connect-s3-sink-timestamp"
# How many problems of each kind an audit failure lists (the count is always given).
_SHOWN = 8


@dataclass(frozen=True)
class ExpectedObject:
    key: str
    body: bytes
    group: str  # consumer group of the connector that writes it
    partition: int
    offsets: range  # offsets of the records it holds


class Store(Protocol):
    description: str

    def list_keys(self) -> set[str]: ...

    def objects(self) -> dict[str, bytes]: ...


@dataclass(frozen=True)
class LocalStore:
    """``STORE_URL=file://<root>``, bucket ``bucket``: objects are files under root/bucket."""

    root: Path
    bucket: str

    @property
    def description(self) -> str:
        return f"file://{self.root}/{self.bucket}"

    def list_keys(self) -> set[str]:
        # os.walk, not Path.rglob: this is polled while tens of thousands of files appear.
        base = str(self.root / self.bucket)
        return {
            os.path.relpath(os.path.join(folder, name), base).replace(os.sep, "/")
            for folder, _dirs, files in os.walk(base)
            for name in files
        }

    def objects(self) -> dict[str, bytes]:
        return local_objects(self.root, self.bucket) if (self.root / self.bucket).exists() else {}


@dataclass(frozen=True)
class S3Bucket:
    """A bucket on the real S3 server, read directly (never through a fault proxy)."""

    endpoint: str
    bucket: str

    @property
    def description(self) -> str:
        return f"s3://{self.bucket} at {self.endpoint}"

    def list_keys(self) -> set[str]:
        client = s3_client(self.endpoint)
        try:
            return {
                obj["Key"]
                for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
                for obj in page.get("Contents", [])
            }
        except client.exceptions.NoSuchBucket:
            return set()

    def objects(self) -> dict[str, bytes]:
        return s3_objects(self.endpoint, self.bucket)


def count_under(store: Store, prefix: str = "topics/") -> int:
    """Objects under ``prefix`` now (a cheap listing, for progress waits)."""
    return sum(1 for key in store.list_keys() if key.startswith(prefix))


def reference_expectation(
    topic: str, records: Iterable[TopicRecord], extension: str = ".bin"
) -> list[ExpectedObject]:
    """The two objects of each SINETStream record, as the two reference connectors write."""
    out: list[ExpectedObject] = []
    for record in records:
        for key, body in expected_objects(topic, [record], payload_of, tstamp_of,
                                          extension).items():
            group = TIMESTAMP_GROUP if key.endswith("-timestamp.txt") else DATA_GROUP
            offsets = range(record.offset, record.offset + 1)
            out.append(ExpectedObject(key, body, group, record.partition, offsets))
    return out


def batch_expectation(
    topic: str,
    records: Iterable[TopicRecord],
    flush_size: int,
    group: str,
    topics_dir: str = "topics",
    extension: str = ".bin",
) -> list[ExpectedObject]:
    """The objects of a ByteArrayConverter + ByteArrayFormat + DefaultPartitioner connector
    rotating on count only: each holds ``flush_size`` records (value + "\\n") and is named by
    its first offset; a last, incomplete batch is not written (it waits for more records)."""
    by_partition: dict[int, list[TopicRecord]] = defaultdict(list)
    for record in records:
        by_partition[record.partition].append(record)
    out: list[ExpectedObject] = []
    for partition, rows in sorted(by_partition.items()):
        rows.sort(key=lambda r: r.offset)
        for start in range(0, len(rows) - flush_size + 1, flush_size):
            chunk = rows[start : start + flush_size]
            first = chunk[0].offset
            key = f"{topics_dir}/{topic}/partition={partition}/{topic}+{partition}+{first:010d}"
            body = b"".join((r.value or b"") + b"\n" for r in chunk)
            out.append(ExpectedObject(f"{key}{extension}", body, group, partition,
                                      range(first, chunk[-1].offset + 1)))
    return out


def _listed(title: str, items: list[str]) -> str:
    shown = "\n    ".join(items[:_SHOWN])
    more = f"\n    ... and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return f"  {len(items)} {title}:\n    {shown}{more}"


def dead_letter_expectation(
    topic: str, record: TopicRecord, groups: Iterable[str], prefix: str = "dead-letter"
) -> list[ExpectedObject]:
    """The raw copy of an undecodable record that each connector of ``groups`` keeps (the
    same key and bytes for all of them); its .reason.json is not predicted here."""
    key = f"{prefix}/{topic}/{topic}+{record.partition}+{record.offset:010d}.bin"
    offsets = range(record.offset, record.offset + 1)
    return [ExpectedObject(key, record.value or b"", group, record.partition, offsets)
            for group in groups]


def audit(
    store: Store,
    expected: Iterable[ExpectedObject],
    *,
    bootstrap: str,
    topic: str,
    partitions: int,
    topics_dir: str = "topics",
    groups: Iterable[str] | None = None,
    fully_committed: bool = False,
) -> dict[str, dict[int, int]]:
    """Fail with every problem found (missing, extra, wrong bytes, commits past the store).

    Expected objects outside ``topics_dir`` (dead letters) are checked for presence and bytes;
    only ``topics_dir`` is checked for extras. ``groups``: the consumer groups whose commits
    are checked (default: every group of the expected objects). ``fully_committed``: also
    require each group to have committed everything its expected objects hold (after a clean
    stop: SIGTERM commits what is stored). The topic's offsets must start at 0. Returns the
    committed offsets read, {group: {partition: offset}} (negative: nothing committed).
    """
    expected = list(expected)
    wanted: dict[str, bytes] = {}
    for obj in expected:
        assert wanted.setdefault(obj.key, obj.body) == obj.body, f"two bodies for {obj.key}"
    group_names = sorted(set(groups) if groups is not None else {o.group for o in expected})
    # Commits are read before the store: objects only ever get added, so every commit seen
    # here must already be backed by the objects of the listing that follows.
    committed = {g: committed_offsets(bootstrap, g, topic, partitions) for g in group_names}
    everything = store.objects()
    stored = {k: v for k, v in everything.items() if k.startswith(f"{topics_dir}/")}

    missing = sorted(key for key in wanted if key not in everything)
    extra = sorted(key for key in stored if key not in wanted)
    wrong = sorted(
        f"{key}: {len(everything[key])} bytes {everything[key][:60]!r}..., expected "
        f"{len(body)} bytes {body[:60]!r}..."
        for key, body in wanted.items()
        if key in everything and everything[key] != body
    )
    covered: dict[tuple[str, int], set[int]] = defaultdict(set)
    ends: dict[tuple[str, int], int] = defaultdict(int)
    for obj in expected:
        ends[(obj.group, obj.partition)] = max(ends[(obj.group, obj.partition)], obj.offsets.stop)
        if everything.get(obj.key) == obj.body:
            covered[(obj.group, obj.partition)].update(obj.offsets)
    uncovered: list[str] = []
    short: list[str] = []
    for group, offsets in committed.items():
        for partition, position in sorted(offsets.items()):
            held = covered[(group, partition)]
            lacking = [o for o in range(max(position, 0)) if o not in held]
            if lacking:
                uncovered.append(
                    f"{group} committed {topic}[{partition}] at {position}, but "
                    f"{len(lacking)} offsets below it have no stored object (first: "
                    f"{lacking[:5]})"
                )
            end = ends.get((group, partition), 0)
            if fully_committed and position != end:
                short.append(f"{group} committed {topic}[{partition}] at {position}, not {end}")
    problems = [
        _listed(title, items)
        for title, items in (
            ("expected objects missing", missing),
            (f"objects under {topics_dir}/ that should not be there", extra),
            ("objects with wrong bytes", wrong),
            ("commits beyond what is stored", uncovered),
            ("commits short of what is stored, after a clean stop", short),
        )
        if items
    ]
    if problems:
        raise AssertionError(
            f"audit of {store.description} ({len(wanted)} expected objects, {len(stored)} "
            f"stored under {topics_dir}/, committed {committed}) failed:\n" + "\n".join(problems)
        )
    return committed


# -- secrets ---------------------------------------------------------------------------------

# A place a secret must not be: a name for the report, and its bytes.
Place = tuple[str, bytes]


def file_places(*paths: Path) -> list[Place]:
    """Every file at or under ``paths`` (hidden folders too, such as the temp-file folder)."""
    out: list[Place] = []
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        out.extend((str(p), p.name.encode() + b"\0" + p.read_bytes()) for p in files)
    return out


def s3_places(endpoint: str, bucket: str) -> list[Place]:
    """Every object of the bucket, key and body."""
    return [(f"s3://{bucket}/{key}", key.encode() + b"\0" + body)
            for key, body in s3_objects(endpoint, bucket).items()]


def topic_places(bootstrap: str, topic: str, timeout: float = 30) -> list[Place]:
    """Every record of ``topic`` from its start to its end now: key, value and headers."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"secret-scan-{time.time_ns()}",
        "enable.auto.commit": False,
    })
    out: list[Place] = []
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        ends: dict[int, int] = {}
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        positions = dict.fromkeys(ends, -1)
        deadline = time.monotonic() + timeout
        while any(positions[p] < ends[p] - 1 for p in ends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {topic} to {positions}, not to its end {ends}")
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            positions[message.partition()] = message.offset()
            headers = b"".join(
                name.encode() + b"=" + (value or b"") for name, value in message.headers() or []
            )
            blob = (message.key() or b"") + b"\0" + (message.value() or b"") + b"\0" + headers
            out.append((f"{topic}[{message.partition()}]@{message.offset()}", blob))
    finally:
        consumer.close()
    return out


def scan_for_secrets(secret: str, *places: Iterable[Place] | Place) -> list[str]:
    """The names of the places whose bytes contain ``secret`` (empty: it is nowhere).

    Also looks for the secret as JSON or a URL would escape it, in case it has characters
    that change (a distinctive secret of letters and digits has none).
    """
    import json
    from urllib.parse import quote

    needles = {secret.encode(), json.dumps(secret)[1:-1].encode(), quote(secret).encode()}
    found: list[str] = []
    for group in places:
        items: Iterable[Place] = [group] if _is_place(group) else group  # type: ignore[list-item]
        for name, blob in items:
            if any(needle in blob for needle in needles):
                found.append(name)
    return found


def _is_place(value: object) -> bool:
    return (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)
            and isinstance(value[1], bytes))


def text_place(name: str, text: str | bytes) -> Place:
    return name, text.encode() if isinstance(text, str) else text

"""Watching a sink from outside: when its objects were stored, and what it has committed.

When each object was stored is read after the run, so that watching costs the sink nothing
while it works: s3s-fs keeps each object as a file under `<data dir>/<bucket>/<key>`, and the
file's mtime is when the server finished writing it (for a multipart upload, when the
upload was completed).  tmpfs stamps files with the kernel's coarse clock, a few ms of
resolution.  Other servers (moto) fall back to ListObjectsV2's LastModified, whose precision
is the server's.

During the run only two cheap things are watched: the first object (ListObjectsV2 with
MaxKeys=1) and the consumer groups' committed offsets (one admin request per group).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from .s3_server import S3Server

# <topic>+<partition>+<start offset, 10 digits><extension>, as Confluent names objects.
_KEY = re.compile(r"\+(?P<partition>\d+)\+(?P<offset>\d{10})(?P<ext>[^/+]*)$")


@dataclass(frozen=True)
class StoredObject:
    partition: int
    offset: int  # the first record's offset
    ext: str  # ".bin", "-timestamp.txt", ".json": tells a sink's kinds of object apart
    stored_at: float  # wall clock (time.time()) when it was stored
    size: int


def object_times(server: S3Server, bucket: str, prefix: str = "") -> list[StoredObject]:
    """Every object under prefix with a Confluent-style name, with when it was stored."""
    if server.data_dir is not None and (server.data_dir / bucket).is_dir():
        return _from_files(server.data_dir / bucket, prefix)
    return _from_listing(server, bucket, prefix)


def _from_files(root: Path, prefix: str) -> list[StoredObject]:
    found = []
    base = root / prefix if prefix else root
    for path in base.rglob("*"):
        match = _KEY.search(path.name)
        if match is None or not path.is_file():
            continue
        stat = path.stat()
        found.append(
            StoredObject(
                int(match["partition"]),
                int(match["offset"]),
                match["ext"],
                stat.st_mtime_ns / 1e9,
                stat.st_size,
            )
        )
    return found


def _from_listing(server: S3Server, bucket: str, prefix: str) -> list[StoredObject]:
    found = []
    paginator = server.boto3_client().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            # s3s-fs lists "+" as " "; keys hold no other spaces.
            match = _KEY.search(item["Key"].replace(" ", "+"))
            if match is None:
                continue
            when: datetime = item["LastModified"]
            found.append(
                StoredObject(
                    int(match["partition"]),
                    int(match["offset"]),
                    match["ext"],
                    when.timestamp(),
                    item["Size"],
                )
            )
    return found


def wait_first_object(
    server: S3Server, bucket: str, deadline: float, interval: float = 0.02
) -> float | None:
    """Poll until the bucket holds an object; return time.time() when seen, None at deadline.

    One ListObjectsV2 with MaxKeys=1 every 20 ms: cheap for the server, and a resolution
    that does not matter against start-up times of seconds.
    """
    client = server.boto3_client()
    while time.monotonic() < deadline:
        if client.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount", 0):
            return time.time()
        time.sleep(interval)
    return None


class OffsetWatch:
    """Committed offsets of consumer groups on one topic, through one admin client."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self._admin = AdminClient({"bootstrap.servers": bootstrap})
        self._partitions = [TopicPartition(topic, p) for p in range(partitions)]

    def committed(self, group: str) -> dict[int, int]:
        """partition -> committed offset (absent where the group committed nothing)."""
        request = ConsumerGroupTopicPartitions(group, self._partitions)
        futures = self._admin.list_consumer_group_offsets([request], request_timeout=10)
        result = futures[group].result(timeout=15)
        return {tp.partition: tp.offset for tp in result.topic_partitions if tp.offset >= 0}

    def wait(
        self,
        groups: list[str],
        targets: dict[int, int],
        deadline: float,
        interval: float = 0.25,
    ) -> bool:
        """Until every group committed at least `targets[partition]` on every partition.

        Returns False if the deadline came first.
        """
        while time.monotonic() < deadline:
            if all(self._reached(group, targets) for group in groups):
                return True
            time.sleep(interval)
        return False

    def _reached(self, group: str, targets: dict[int, int]) -> bool:
        committed = self.committed(group)
        return all(committed.get(p, 0) >= off for p, off in targets.items())

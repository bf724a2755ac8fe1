"""``kafka-s3-sink audit``: is the archive of a topic complete?

Per partition it accounts for every offset of the expected range:

* present: both reference objects (payload and timestamp) are there and read well, or, for
  an archive with only the lossless layout, a lossless record;
* dead letter: kept raw under the dead-letter prefix (undecodable), so accounted for;
* no payload / no timestamp: only one of the two reference connectors stored it;
* bad: an object is there but its body is not what its connector writes (truncated,
  corrupted), or it disagrees with the lossless record of the same offset;
* duplicated: more than one object holds the offset (shown, not a gap);
* missing: nothing at all.

The expected range runs from the lowest offset known (archive, dead letters, or the topic's
first retained offset) to the connectors' committed offset, where the topic still answers;
records above the committed offset are *pending* (not archived yet), not missing.  Without
the topic it runs from the archive's lowest to its highest offset.  Offsets the topic never
had (compaction, transaction markers) would show as missing: this audit is for the plain
append-only topics SINETStream writes.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

from ..pipeline.formats.lossless import LosslessLineError, decode_object
from ..pipeline.sinetstream_codec import UndecodableMessage, decode
from ..store.base import ObjectStore
from .inventory import Inventory, take_inventory
from .layout import ArchivedObject, Kind, Layout
from .rebuild import BadBody, TimestampReader, payload_msg

T = TypeVar("T")


@dataclass(frozen=True)
class TopicState:
    low: int  # first retained offset
    high: int  # end offset
    committed: int | None  # the connectors' committed offset (lowest of them), if any


@dataclass
class PartitionAudit:
    partition: int
    start: int = 0
    end: int = 0  # exclusive
    present: int = 0
    missing: list[int] = field(default_factory=list)
    no_payload: list[int] = field(default_factory=list)
    no_timestamp: list[int] = field(default_factory=list)
    duplicated: list[int] = field(default_factory=list)
    bad: list[tuple[int, str, str]] = field(default_factory=list)  # offset, key, reason
    dead_letters: list[int] = field(default_factory=list)
    topic: TopicState | None = None

    @property
    def pending(self) -> int:
        return max(self.topic.high - self.end, 0) if self.topic is not None else 0

    @property
    def gaps(self) -> int:
        return len(self.missing) + len(self.no_payload) + len(self.no_timestamp) + len(self.bad)


@dataclass
class AuditReport:
    partitions: list[PartitionAudit]
    foreign: list[tuple[str, str]]  # objects under topics/ that are not the archive's

    @property
    def complete(self) -> bool:
        return not any(p.gaps for p in self.partitions)


async def _bounded(jobs: list[Callable[[], Awaitable[T]]], width: int = 64) -> list[T]:
    gate = asyncio.Semaphore(width)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def audit(
    store: ObjectStore,
    layout: Layout,
    *,
    dead_letter_prefix: str,
    separator: bytes,
    timestamp_format: str,
    topic_state: Callable[[list[int]], dict[int, TopicState]] | None,
    read_bodies: bool = True,
    layout_choice: str = "auto",
) -> AuditReport:
    """``layout_choice``: auto audits the reference objects (cross-checked with lossless
    records where both exist), or the lossless ones when there are no others; reference or
    lossless audits that layout alone."""
    inventory = await take_inventory(store, layout)
    dead = await _dead_letters(store, dead_letter_prefix, layout.topic)
    checker = _BodyChecker(store, TimestampReader(timestamp_format, separator), separator)
    lossless = {} if layout_choice == "reference" else await checker.lossless_offsets(inventory)
    if layout_choice == "lossless":
        inventory.objects[Kind.PAYLOAD].clear()
        inventory.objects[Kind.TIMESTAMP].clear()
    partitions = sorted(
        set(inventory.partitions(Kind.PAYLOAD))
        | set(inventory.partitions(Kind.TIMESTAMP))
        | set(lossless)
        | set(dead)
    )
    states = topic_state(partitions) if topic_state is not None and partitions else {}
    reference = inventory.has(Kind.PAYLOAD) or inventory.has(Kind.TIMESTAMP)
    results: list[PartitionAudit] = []
    for p in partitions:
        payloads = inventory.objects[Kind.PAYLOAD].get(p, {})
        stamps = inventory.objects[Kind.TIMESTAMP].get(p, {})
        records = lossless.get(p, {})
        result = PartitionAudit(p, topic=states.get(p))
        known = set(payloads) | set(stamps) | set(records) | set(dead.get(p, ()))
        result.start = min(known) if known else 0
        result.end = max(known) + 1 if known else 0
        if result.topic is not None:
            result.start = min(result.start, result.topic.low)
            result.end = max(result.end, result.topic.committed or result.topic.high)
        result.dead_letters = sorted(dead.get(p, ()))
        if reference:
            await checker.check_reference(result, payloads, stamps, records, read_bodies)
        else:
            result.duplicated = sorted(o for o, objs in records.items() if len(objs) > 1)
            result.present = len(records)
        accounted = set(payloads) | set(stamps) | set(dead.get(p, ()))
        if not reference:
            accounted |= set(records)
        result.missing = [o for o in range(result.start, result.end) if o not in accounted]
        results.append(result)
    return AuditReport(results, [(b.key, b.reason) for b in inventory.bad] + checker.foreign)


async def _dead_letters(store: ObjectStore, prefix: str, topic: str) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for info in await store.list(f"{prefix}/{topic}/"):
        name = info.key.rsplit("/", 1)[-1]
        if name.endswith(".reason.json"):
            continue
        parts = name.split("+")
        if len(parts) == 3 and parts[0] == topic and parts[1].isdigit():
            digits = parts[2].split(".", 1)[0]
            if digits.isdigit():
                found.setdefault(int(parts[1]), set()).add(int(digits))
    return found


class _BodyChecker:
    def __init__(self, store: ObjectStore, stamps: TimestampReader, separator: bytes) -> None:
        self.store = store
        self.stamps = stamps
        self.separator = separator
        self.foreign: list[tuple[str, str]] = []

    async def lossless_offsets(
        self, inventory: Inventory
    ) -> dict[int, dict[int, list[tuple[str, bytes | None]]]]:
        """partition -> offset -> (object key, value) of every lossless record."""
        objects = [
            obj
            for by_offset in inventory.objects[Kind.LOSSLESS].values()
            for found in by_offset.values()
            for obj in found
        ]

        def reader(obj: ArchivedObject) -> Callable[[], Awaitable[bytes]]:
            return lambda: self.store.get(obj.key)

        bodies = await _bounded([reader(obj) for obj in objects])
        out: dict[int, dict[int, list[tuple[str, bytes | None]]]] = {}
        for obj, body in zip(objects, bodies, strict=True):
            try:
                if obj.gzip:
                    body = gzip.decompress(body)
                records = decode_object(body)
            except (LosslessLineError, OSError, EOFError) as error:
                self.foreign.append((obj.key, f"bad lossless object: {error}"))
                continue
            for record in records:
                by_offset = out.setdefault(record.partition, {})
                by_offset.setdefault(record.offset, []).append((obj.key, record.value))
        return out

    async def check_reference(
        self,
        result: PartitionAudit,
        payloads: dict[int, list[ArchivedObject]],
        stamps: dict[int, list[ArchivedObject]],
        lossless: dict[int, list[tuple[str, bytes | None]]],
        read_bodies: bool,
    ) -> None:
        both = sorted(set(payloads) & set(stamps))
        result.no_payload = sorted(set(stamps) - set(payloads))
        result.no_timestamp = sorted(set(payloads) - set(stamps))
        result.duplicated = sorted(
            o for o in set(payloads) | set(stamps)
            if len(payloads.get(o, ())) > 1 or len(stamps.get(o, ())) > 1
        )
        if not read_bodies:
            result.present = len(both)
            return

        def job(offset: int) -> Callable[[], Awaitable[tuple[int, str, str] | None]]:
            return lambda: self._check_pair(
                offset, payloads[offset][0], stamps[offset][0], lossless.get(offset)
            )

        problems = [bad for bad in await _bounded([job(o) for o in both]) if bad is not None]
        result.bad = problems
        result.present = len(both) - len(problems)

    async def _check_pair(
        self,
        offset: int,
        payload: ArchivedObject,
        stamp: ArchivedObject,
        lossless: list[tuple[str, bytes | None]] | None,
    ) -> tuple[int, str, str] | None:
        body, text = await asyncio.gather(self.store.get(payload.key), self.store.get(stamp.key))
        try:
            msg = payload_msg(body, self.separator)
        except BadBody as error:
            return offset, payload.key, str(error)
        try:
            tstamp_us = self.stamps.tstamp_us(text)
        except BadBody as error:
            return offset, stamp.key, str(error)
        if payload.hour != stamp.hour:
            return offset, stamp.key, "payload and timestamp objects are under different hours"
        if lossless:
            key, value = lossless[0]
            try:
                message = decode(value)
            except UndecodableMessage:
                return offset, key, "the lossless record is not a SINETStream message"
            if bytes(message.msg) != msg:
                return offset, payload.key, f"payload differs from the lossless record {key}"
            if message.tstamp_us // 1000 != tstamp_us // 1000:
                return offset, stamp.key, f"timestamp differs from the lossless record {key}"
        return None


def _ranges(offsets: list[int]) -> str:
    """5, 7-9, 12: a short text for a list of offsets."""
    parts: list[str] = []
    start = prev = None
    for o in offsets:
        if prev is not None and o == prev + 1:
            prev = o
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = o
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


def print_report(report: AuditReport, topic: str, out: TextIO) -> None:
    header = (
        f"{'partition':>9}  {'offsets':>15}  {'present':>8}  {'missing':>7}  "
        f"{'no-payload':>10}  {'no-tstamp':>9}  {'bad':>4}  {'dup':>4}  {'dead':>5}  "
        f"{'topic':>15}  {'pending':>7}"
    )
    out.write(f"audit of {topic}\n{header}\n")
    for p in report.partitions:
        span = f"{p.start}..{p.end - 1}" if p.end > p.start else "-"
        topic_span = f"{p.topic.low}..{p.topic.high - 1}" if p.topic is not None else "gone"
        out.write(
            f"{p.partition:>9}  {span:>15}  {p.present:>8}  {len(p.missing):>7}  "
            f"{len(p.no_payload):>10}  {len(p.no_timestamp):>9}  {len(p.bad):>4}  "
            f"{len(p.duplicated):>4}  {len(p.dead_letters):>5}  {topic_span:>15}  "
            f"{p.pending:>7}\n"
        )
    for p in report.partitions:
        for label, offsets in (
            ("missing", p.missing),
            ("no payload object", p.no_payload),
            ("no timestamp object", p.no_timestamp),
            ("duplicated", p.duplicated),
        ):
            if offsets:
                out.write(f"partition {p.partition}: {label}: {_ranges(offsets)}\n")
        for offset, key, reason in p.bad:
            out.write(f"partition {p.partition}: bad at offset {offset}: {key}: {reason}\n")
    for key, reason in report.foreign:
        out.write(f"not part of the archive: {key}: {reason}\n")
    out.write("complete\n" if report.complete else "GAPS FOUND\n")

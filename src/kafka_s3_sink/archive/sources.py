"""The archive as a stream of records to send, in offset order per partition.

A *unit* is what is read at once: a reference pair (payload + timestamp object, one
message) or a lossless object (one record, or a batch).  Units are planned from the
inventory alone, then read with many requests in flight but handed out in plan order, so
the records of each partition leave in offset order whatever order the reads finish in.
"""

from __future__ import annotations

import asyncio
import gzip
import heapq
import itertools
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from ..pipeline.formats.lossless import LosslessLineError, decode_object
from ..store.base import ObjectStore, StoreError
from .inventory import Inventory, Selection
from .layout import ArchivedObject, BadObject, Kind
from .rebuild import BadBody, TimestampReader, encode_sinetstream, payload_msg

Headers = tuple[tuple[str, bytes | None], ...]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One record to produce, and where it came from."""

    partition: int
    offset: int  # in the source topic
    value: bytes | None
    key: bytes | None = None
    headers: Headers = ()
    timestamp_ms: int | None = None  # None: the producer's clock
    hour: datetime | None = None


@dataclass(frozen=True, slots=True)
class Unit:
    partition: int
    offset: int  # the first source offset it holds
    objects: tuple[ArchivedObject, ...]
    # The last offset it holds, when the key tells (a reference pair: its only one).  A
    # lossless batch object may hold offsets beyond the next object's first one: with
    # flush.size > 1 the records of one batch are split by hour path into several objects.
    last_offset: int | None = None

    @property
    def size(self) -> int:
        return sum(o.size for o in self.objects)


@dataclass
class Plan:
    units: dict[int, list[Unit]]  # partition -> units in offset order
    bad: list[BadObject]

    @property
    def size(self) -> int:
        return sum(u.size for units in self.units.values() for u in units)

    @property
    def count(self) -> int:
        return sum(len(units) for units in self.units.values())


def plan_reference(inventory: Inventory, selection: Selection) -> Plan:
    """One unit per offset that has both a payload and a timestamp object.  An offset with
    only one of them cannot be rebuilt (no msg, or no tstamp): reported, skipped."""
    units: dict[int, list[Unit]] = {}
    bad: list[BadObject] = []
    payloads = inventory.objects[Kind.PAYLOAD]
    stamps = inventory.objects[Kind.TIMESTAMP]
    for partition in sorted(set(payloads) | set(stamps)):
        if not selection.takes_partition(partition):
            continue
        mine: list[Unit] = []
        p_offsets, t_offsets = payloads.get(partition, {}), stamps.get(partition, {})
        for offset in sorted(set(p_offsets) | set(t_offsets)):
            found_p, found_t = p_offsets.get(offset, []), t_offsets.get(offset, [])
            if not selection.takes_offset(offset):
                continue
            if not found_p or not found_t:
                lone = (found_p or found_t)[0]
                missing = "timestamp" if found_p else "payload"
                bad.append(BadObject(lone.key, f"no {missing} object for this offset: skipped"))
                continue
            # The same offset twice (the record's time path changed?): the first is sent.
            for extra in found_p[1:] + found_t[1:]:
                bad.append(BadObject(extra.key, "duplicate of an offset already planned"))
            if selection.takes_hour(found_p[0].hour):
                mine.append(Unit(partition, offset, (found_p[0], found_t[0]), offset))
        if mine:
            units[partition] = mine
    return Plan(units, bad)


def plan_lossless(inventory: Inventory, selection: Selection) -> Plan:
    """One unit per lossless object; records are filtered once read (a batch object's
    offsets and times are known only from its lines)."""
    units: dict[int, list[Unit]] = {}
    bad: list[BadObject] = []
    for partition, by_offset in sorted(inventory.objects[Kind.LOSSLESS].items()):
        if not selection.takes_partition(partition):
            continue
        mine: list[Unit] = []
        for offset in sorted(by_offset):
            if selection.last_offset is not None and offset > selection.last_offset:
                continue
            # Two objects starting at the same offset (a batch archived twice, under two
            # hour paths) are both read: the merger sends each offset once.
            for found in sorted(by_offset[offset], key=lambda o: o.key):
                if selection.takes_hour(found.hour):
                    mine.append(Unit(partition, offset, (found,)))
        if mine:
            units[partition] = mine
    return Plan(units, bad)


class OffsetMerger:
    """Records of a partition's units back into offset order, each offset once.

    Units come in first-offset order, and no unit holds an offset below its first, so once
    unit *i* is read every record below unit *i+1*'s first offset is known: those leave,
    the others wait in a heap for the units that may still hold smaller offsets.
    """

    def __init__(self, units: dict[int, list[Unit]]) -> None:
        self._bound: dict[str, int | None] = {}  # first object key -> next unit's offset
        for mine in units.values():
            for i, unit in enumerate(mine):
                following = mine[i + 1].offset if i + 1 < len(mine) else None
                self._bound[unit.objects[0].key] = following
        self._heaps: dict[int, list[tuple[int, int, Outgoing]]] = {}
        self._last: dict[int, int] = {}
        self._order = itertools.count()

    def push(self, unit: Unit, records: list[Outgoing]) -> list[Outgoing]:
        heap = self._heaps.setdefault(unit.partition, [])
        for record in records:
            heapq.heappush(heap, (record.offset, next(self._order), record))
        bound = self._bound.get(unit.objects[0].key)
        ready: list[Outgoing] = []
        while heap and (bound is None or heap[0][0] < bound):
            record = heapq.heappop(heap)[2]
            last = self._last.get(unit.partition)
            if last is not None and record.offset <= last:
                continue  # the same record in two objects (a rewritten batch): once
            self._last[unit.partition] = record.offset
            ready.append(record)
        return ready


def interleave(units: dict[int, list[Unit]]) -> list[Unit]:
    """Round robin over partitions: each keeps its order, and all of them progress."""
    queues = [deque(units[p]) for p in sorted(units)]
    out: list[Unit] = []
    while queues:
        for queue in list(queues):
            out.append(queue.popleft())
            if not queue:
                queues.remove(queue)
    return out


Decoder = Callable[[Unit, list[bytes]], list[Outgoing]]


def reference_decoder(reader: TimestampReader, separator: bytes, message_format: int) -> Decoder:
    def decode(unit: Unit, bodies: list[bytes]) -> list[Outgoing]:
        payload, stamp = bodies
        msg = payload_msg(payload, separator)
        tstamp = reader.tstamp_us(stamp)
        value = encode_sinetstream(tstamp, msg, message_format)
        return [Outgoing(unit.partition, unit.offset, value, hour=unit.objects[0].hour)]

    return decode


def lossless_decoder(selection: Selection) -> Decoder:
    def decode(unit: Unit, bodies: list[bytes]) -> list[Outgoing]:
        (body,) = bodies
        if unit.objects[0].gzip:
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError, zlib.error) as error:
                raise BadBody(f"not a complete gzip object: {error}") from None
        try:
            records = decode_object(body)
        except LosslessLineError as error:
            raise BadBody(str(error)) from None
        out: list[Outgoing] = []
        for record in records:
            if record.partition != unit.partition:
                raise BadBody(f"holds a record of partition {record.partition}")
            if not (selection.takes_offset(record.offset)
                    and selection.takes_time_ms(record.timestamp_ms)):
                continue
            out.append(
                Outgoing(
                    record.partition,
                    record.offset,
                    record.value,
                    record.key,
                    record.headers,
                    record.timestamp_ms,
                    unit.objects[0].hour,
                )
            )
        return out

    return decode


async def read_units(
    store: ObjectStore, units: list[Unit], decode: Decoder, window: int = 64
) -> AsyncIterator[tuple[Unit, list[Outgoing] | BadObject]]:
    """Each unit with its records (or why it is bad), in the order of ``units``, with up to
    ``window`` units being read at once."""

    async def fetch(unit: Unit) -> list[Outgoing] | BadObject:
        try:
            # One after the other: the window already keeps many units in flight, and a
            # task per object would cost more than it overlaps.
            bodies = [await store.get(o.key) for o in unit.objects]
        except (FileNotFoundError, StoreError, OSError) as error:
            return BadObject(unit.objects[0].key, f"cannot be read: {error}")
        except Exception as error:  # obstore's own errors: one object lost, not the restore
            if type(error).__module__.startswith("obstore"):
                return BadObject(unit.objects[0].key, f"cannot be read: {error}")
            raise
        try:
            return decode(unit, bodies)
        except BadBody as error:
            return BadObject(_culprit(unit, str(error)), str(error))

    pending: deque[tuple[Unit, asyncio.Task[list[Outgoing] | BadObject]]] = deque()
    position = 0
    try:
        while position < len(units) or pending:
            while position < len(units) and len(pending) < window:
                unit = units[position]
                pending.append((unit, asyncio.ensure_future(fetch(unit))))
                position += 1
            unit, task = pending.popleft()
            yield unit, await task
    finally:
        for _, task in pending:
            task.cancel()


def _culprit(unit: Unit, reason: str) -> str:
    """The key of the object a bad-body reason is about (a pair has two)."""
    if len(unit.objects) == 2 and reason.startswith("timestamp"):
        return unit.objects[1].key
    return unit.objects[0].key

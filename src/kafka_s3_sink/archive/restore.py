"""``kafka-s3-sink restore``: the archive back into a Kafka topic, each message exactly once.

Why a rerun after a kill sends every message exactly once
---------------------------------------------------------
Records go to the target partition of the same number as their source partition, in source
offset order, through an idempotent producer (``enable.idempotence``): the broker refuses a
batch whose predecessor it did not append, so what reached a target partition is always a
*prefix* of what was sent to it, without duplicates or holes.

The checkpoint file holds per partition the last source offset the broker acknowledged
(from the delivery reports, which arrive in send order) and the target partition's end
offset right after it.  It is written only from delivery reports, so it may lag behind the
broker but never run ahead of it.  On a rerun the gap is measured, not guessed: if the
target partition now ends ``n`` records past the checkpointed end, those ``n`` records are
the next ``n`` of the plan (prefix property), sent before the kill but not yet recorded.
They are read back and compared with what the plan would send (value, key, headers); equal,
they are marked done and skipped; different, the restore stops (someone else writes to the
target topic, and skipping or resending would both be guesses).  Everything after them is
sent.  Nothing is added to the records (no marker header), so a lossless restore stays
byte-identical.

This assumes the restore is the only writer of the target partitions while it runs, which
is the case for the new topic a restore normally writes to; ``--to-topic`` naming a live
topic breaks it, and the comparison above then stops the resume instead of duplicating.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from confluent_kafka import KafkaError, Message, Producer

from ..store.base import ObjectStore
from . import checkpoint as checkpoints
from . import target as kafka_target
from .checkpoint import Checkpoint, CheckpointError, PartitionMark
from .dry_run import dry_run
from .inventory import Inventory, Selection, take_inventory
from .layout import BadObject, Kind, Layout
from .progress import Progress
from .rebuild import TimestampReader
from .report import RestoreReport, report_bad
from .sources import (
    OffsetMerger,
    Outgoing,
    Plan,
    Unit,
    interleave,
    lossless_decoder,
    plan_lossless,
    plan_reference,
    read_units,
    reference_decoder,
)
from .target import TargetError, TargetRecord

_CHECKPOINT_INTERVAL_S = 1.0
_POLL_INTERVAL_S = 0.05


@dataclass(frozen=True)
class RestoreOptions:
    to_topic: str
    layout: str = "auto"  # auto | reference | lossless
    selection: Selection = field(default_factory=Selection)
    dry_run: bool = False
    checkpoint: Path | None = None  # None: restore-<to_topic>.checkpoint.json here
    message_format: int = 3
    fresh: bool = False  # ignore (overwrite) a checkpoint of another restore
    window: int = 64  # objects read at once


def choose_layout(inventory: Inventory, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    return "lossless" if inventory.has(Kind.LOSSLESS) else "reference"


async def restore(
    store: ObjectStore,
    bootstrap: str,
    layout: Layout,
    options: RestoreOptions,
    *,
    separator: bytes,
    timestamp_format: str,
    out: TextIO,
) -> RestoreReport:
    inventory = await take_inventory(store, layout)
    kind = choose_layout(inventory, options.layout)
    selection = options.selection
    plan = plan_lossless(inventory, selection) if kind == "lossless" else plan_reference(
        inventory, selection
    )
    report = RestoreReport(kind)
    for bad in inventory.bad + plan.bad:
        report_bad(report, bad, out)
    decode = (
        lossless_decoder(selection)
        if kind == "lossless"
        else reference_decoder(
            TimestampReader(timestamp_format, separator), separator, options.message_format
        )
    )
    if options.dry_run:
        await dry_run(store, plan, kind, decode, separator, report, out, options.window)
        return report
    if not plan.units:
        out.write(f"restore: nothing to send from {layout.prefix} ({kind} layout)\n")
        report.complete = True
        return report
    run = _Run(bootstrap, layout, options, plan, kind, report, out)
    await run.execute(store, decode)
    return report


class _Run:
    """One restore that sends: checkpoint, resume, produce, acknowledge."""

    def __init__(
        self,
        bootstrap: str,
        layout: Layout,
        options: RestoreOptions,
        plan: Plan,
        kind: str,
        report: RestoreReport,
        out: TextIO,
    ) -> None:
        self.bootstrap = bootstrap
        self.options = options
        self.plan = plan
        self.report = report
        self.out = out
        self.topic = options.to_topic
        self.path = options.checkpoint or Path(f"restore-{options.to_topic}.checkpoint.json")
        self.identity = (
            f"{layout.prefix} -> {options.to_topic}; {kind} layout; "
            f"v{options.message_format}; {options.selection.describe()}"
        )
        self.marks: dict[int, PartitionMark] = {}
        self.tails: dict[int, deque[TargetRecord]] = {}
        self.failure: str | None = None

    async def execute(self, store: ObjectStore, decode: Any) -> None:
        partitions = sorted(self.plan.units)
        count = kafka_target.partition_count(
            self.bootstrap, self.topic, create_with=max(partitions) + 1
        )
        beyond = [p for p in partitions if p >= count]
        if beyond:
            raise TargetError(
                f"topic {self.topic!r} has {count} partitions; the archive has records of "
                f"partitions {beyond}: add partitions to it, or choose --partitions"
            )
        saved = self._load_checkpoint()
        if saved is not None and saved.done:
            self.out.write(f"restore: {self.path} says this restore is complete: nothing sent\n")
            self.report.complete = True
            return
        ends = kafka_target.end_offsets(self.bootstrap, self.topic, partitions)
        if saved is None:
            self.marks = {p: PartitionMark(None, ends[p]) for p in partitions}
            self._save(done=False)  # before any send: the start of each partition is known
        else:
            self.marks = dict(saved.partitions)
            for p in partitions:
                self.marks.setdefault(p, PartitionMark(None, ends[p]))
            self._read_tails(ends)
        left = self._units_left()
        units = interleave(left)
        merger = OffsetMerger(left)
        progress = Progress(self.out, sum(u.size for u in units))
        producer = kafka_target.producer(self.bootstrap)
        last_save = last_poll = time.monotonic()
        handled = 0
        try:
            async for unit, result in read_units(store, units, decode, self.options.window):
                if isinstance(result, BadObject):
                    report_bad(self.report, result, self.out)
                    progress.advance(0, unit.size)
                    continue
                sent = 0
                for message in merger.push(unit, result):
                    sent += self._send(producer, message)
                progress.advance(sent, unit.size)
                now = time.monotonic()
                # Serving delivery reports costs ~0.4 ms a call here, whatever their number:
                # a few times a second is enough (produce() itself polls when its queue is full).
                if now - last_poll >= _POLL_INTERVAL_S:
                    producer.poll(0)
                    last_poll = now
                    if self.failure is not None:
                        raise TargetError(self.failure)
                if now - last_save >= _CHECKPOINT_INTERVAL_S:
                    producer.poll(0)  # the latest acknowledgements into the checkpoint
                    self._save(done=False)
                    last_save = now
                handled += 1
                if handled % 64 == 0:
                    # Reads finish on other threads; their results need the event loop to
                    # turn now and then even while the head of the window is ready each time.
                    await asyncio.sleep(0)
            await asyncio.to_thread(self._flush, producer)
            if self.failure is not None:
                raise TargetError(self.failure)
            leftover = {p: len(t) for p, t in self.tails.items() if t}
            if leftover:
                raise TargetError(
                    f"topic {self.topic!r} holds more records than this restore sent "
                    f"(partition: extra records) {leftover}: another writer?"
                )
            self.report.complete = True
        finally:
            remaining = producer.flush(10)
            self._save(done=self.report.complete and remaining == 0 and self.failure is None)
            self.report.seconds = progress.finish()

    def _load_checkpoint(self) -> Checkpoint | None:
        if self.options.fresh:  # the operator wants everything sent again
            return None
        saved = checkpoints.load(self.path)
        if saved is None or saved.identity == self.identity:
            return saved
        raise CheckpointError(
            f"{self.path} belongs to another restore ({saved.identity}); this one is "
            f"{self.identity}: pass --checkpoint with another file, or --fresh to start over"
        )

    def _read_tails(self, ends: dict[int, int]) -> None:
        for p, mark in self.marks.items():
            end = ends.get(p)
            if end is None:
                continue
            if end < mark.target_end:
                raise TargetError(
                    f"topic {self.topic!r} partition {p} ends at {end}, before the "
                    f"checkpoint's {mark.target_end}: the topic was deleted or truncated since"
                )
            if end > mark.target_end:
                self.tails[p] = deque(
                    kafka_target.read_range(self.bootstrap, self.topic, p, mark.target_end, end)
                )
                self.out.write(
                    f"restore: partition {p}: {end - mark.target_end} records arrived after "
                    "the last checkpoint; checking them against the archive\n"
                )

    def _units_left(self) -> dict[int, list[Unit]]:
        """The plan without the units every record of which was acknowledged before.  A
        lossless object's last offset is unknown until it is read: those are all read again,
        and their records filtered one by one."""
        left: dict[int, list[Unit]] = {}
        for p, units in self.plan.units.items():
            done = self.marks[p].source_offset
            left[p] = [
                unit
                for unit in units
                if done is None or unit.last_offset is None or unit.last_offset > done
            ]
        return left

    def _send(self, producer: Producer, message: Outgoing) -> int:
        p = message.partition
        done = self.marks[p].source_offset
        if done is not None and message.offset <= done:
            return 0
        tail = self.tails.get(p)
        if tail:
            found = tail.popleft()
            if found != (message.value, message.key, message.headers):
                raise TargetError(
                    f"topic {self.topic!r} partition {p} offset {self.marks[p].target_end} "
                    f"is not source offset {message.offset} of the archive: another writer "
                    "uses the target topic; resuming would duplicate or lose records"
                )
            self.marks[p] = PartitionMark(message.offset, self.marks[p].target_end + 1)
            self.report.already_there += 1
            return 0
        report = functools.partial(self._delivered, message.offset)
        while True:
            try:
                producer.produce(
                    self.topic,
                    value=message.value,
                    key=message.key,
                    partition=p,
                    headers=list(message.headers) if message.headers else None,
                    timestamp=message.timestamp_ms or 0,
                    on_delivery=report,
                )
                break
            except BufferError:
                producer.poll(0.05)  # the queue is full: serve delivery reports first
        self.report.value_bytes += len(message.value or b"")
        return 1

    def _delivered(self, source_offset: int, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            if self.failure is None:
                self.failure = f"the broker refused a record: {error.str()}"
            return
        offset = message.offset()
        self.marks[message.partition()] = PartitionMark(source_offset, offset + 1)
        self.report.sent += 1

    def _flush(self, producer: Producer) -> None:
        while producer.flush(1.0) > 0 and self.failure is None:
            pass

    def _save(self, *, done: bool) -> None:
        checkpoints.save(self.path, Checkpoint(self.identity, dict(self.marks), done))

"""Reading an archive from a local store: keys, plans, bad objects, checkpoints, audit."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from kafka_s3_sink.archive.audit import audit, print_report
from kafka_s3_sink.archive.checkpoint import Checkpoint, CheckpointError, PartitionMark, load, save
from kafka_s3_sink.archive.inventory import Selection, take_inventory
from kafka_s3_sink.archive.layout import BadObject, Kind, Layout, classify
from kafka_s3_sink.archive.progress import Progress
from kafka_s3_sink.archive.rebuild import TimestampReader
from kafka_s3_sink.archive.sources import (
    interleave,
    plan_reference,
    read_units,
    reference_decoder,
)
from kafka_s3_sink.pipeline.sinetstream_codec import decode
from kafka_s3_sink.store.base import ObjectInfo
from kafka_s3_sink.store.local import LocalObjectStore

LAYOUT = Layout("topics", "t", ".bin", "-timestamp.txt", "Asia/Tokyo")
HOUR = "topics/t/year=2022/month=04/day=18/hour=10"
PATTERN = "yyyy-MM-dd'T'HH:mm:ss.SSS"


def key(partition: int, offset: int, ext: str, hour: str = HOUR) -> str:
    return f"{hour}/t+{partition}+{offset:010d}{ext}"


def write(root: Path, objects: dict[str, bytes]) -> LocalObjectStore:
    for name, body in objects.items():
        path = root / "b" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return LocalObjectStore(root, "b")


def reference_archive(partitions: int = 2, count: int = 5) -> dict[str, bytes]:
    objects = {}
    for p in range(partitions):
        for o in range(count):
            objects[key(p, o, ".bin")] = b"msg %d %d\n" % (p, o)
            objects[key(p, o, "-timestamp.txt")] = b"2022-04-18T01:00:00.%03d\n" % o
    return objects


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        (key(0, 7, ".bin"), Kind.PAYLOAD),
        (key(0, 7, "-timestamp.txt"), Kind.TIMESTAMP),
        (key(3, 7, ".jsonl"), Kind.LOSSLESS),
        (key(3, 7, ".jsonl.gz"), Kind.LOSSLESS),
    ],
)
def test_keys_name_their_record(name, kind):
    found = classify(LAYOUT, ObjectInfo(name, 10))
    assert not isinstance(found, BadObject)
    assert (found.kind, found.offset) == (kind, 7)
    assert found.hour is not None and found.hour.hour == 10


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("topics/t/notes.txt", "foreign"),
        (key(0, 1, ".jpeg"), "wrong extension"),
        (f"{HOUR}/other+0+0000000001.bin", "topic 'other'"),
    ],
)
def test_other_objects_are_bad(name, reason):
    found = classify(LAYOUT, ObjectInfo(name, 10))
    assert isinstance(found, BadObject) and reason in found.reason


def test_local_store_lists_under_a_prefix(tmp_path):
    store = write(tmp_path, {"topics/t/a/x": b"12", "topics/tt/y": b"1", "other/z": b""})
    listed = asyncio.run(store.list("topics/t/"))
    assert listed == [ObjectInfo("topics/t/a/x", 2)]
    assert asyncio.run(store.list("nothing/")) == []


def test_a_plan_keeps_offset_order_and_skips_lone_objects(tmp_path):
    objects = reference_archive()
    del objects[key(1, 2, "-timestamp.txt")]
    objects[key(0, 3, ".bin")] = b"truncated"  # no trailing newline
    objects["topics/t/README"] = b"hello"
    store = write(tmp_path, objects)
    inventory = asyncio.run(take_inventory(store, LAYOUT))
    plan = plan_reference(inventory, Selection())
    assert [u.offset for u in plan.units[1]] == [0, 1, 3, 4]
    assert [b.key for b in inventory.bad + plan.bad] == ["topics/t/README", key(1, 2, ".bin")]
    decoder = reference_decoder(TimestampReader(PATTERN, b"\n"), b"\n", 3)

    async def read() -> list:
        return [r async for r in read_units(store, interleave(plan.units), decoder, window=3)]

    results = asyncio.run(read())
    bad = [r for _, r in results if isinstance(r, BadObject)]
    assert [b.key for b in bad] == [key(0, 3, ".bin")]
    sent = [m for _, r in results if not isinstance(r, BadObject) for m in r]
    for partition in (0, 1):
        offsets = [m.offset for m in sent if m.partition == partition]
        assert offsets == sorted(offsets)
    first = next(m for m in sent if (m.partition, m.offset) == (1, 4))
    assert bytes(decode(first.value).msg) == b"msg 1 4"
    assert decode(first.value).tstamp_us == 1650243600004000


def test_selection_by_partition_offsets_and_hour(tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    objects = reference_archive()
    later = "topics/t/year=2022/month=04/day=18/hour=11"
    objects[key(0, 9, ".bin", later)] = b"x\n"
    objects[key(0, 9, "-timestamp.txt", later)] = b"2022-04-18T02:00:00.000\n"
    inventory = asyncio.run(take_inventory(write(tmp_path, objects), LAYOUT))
    tokyo = ZoneInfo("Asia/Tokyo")
    plan = plan_reference(inventory, Selection(frozenset({0}), first_offset=2, last_offset=9))
    assert list(plan.units) == [0] and [u.offset for u in plan.units[0]] == [2, 3, 4, 9]
    plan = plan_reference(inventory, Selection(start=datetime(2022, 4, 18, 11, 30, tzinfo=tokyo)))
    assert [u.offset for u in plan.units[0]] == [9]


def test_checkpoint_round_trip_and_refusal(tmp_path):
    path = tmp_path / "cp.json"
    assert load(path) is None
    saved = Checkpoint("x -> y", {0: PartitionMark(None, 4), 3: PartitionMark(17, 9)})
    save(path, saved)
    assert load(path) == saved
    path.write_text("{")
    with pytest.raises(CheckpointError):
        load(path)


def test_progress_is_plain_lines_off_a_terminal():
    out = io.StringIO()
    progress = Progress(out, 1000, interval_s=0)
    progress.advance(10, 500)
    progress.finish()
    assert out.getvalue().startswith("restore: 10 messages, 500 B of 1.0 kB")
    assert "\r" not in out.getvalue() and "50%" in out.getvalue()


def test_audit_names_exactly_the_damaged_offsets(tmp_path):
    objects = reference_archive(count=10)
    del objects[key(0, 3, ".bin")]
    del objects[key(1, 6, "-timestamp.txt")]
    objects[key(1, 8, "-timestamp.txt")] = b"2022-04-18T0\n"
    del objects[key(0, 5, ".bin")]
    del objects[key(0, 5, "-timestamp.txt")]
    objects["dead-letter/t/t+0+0000000009.bin"] = b"raw"
    del objects[key(0, 9, ".bin")]
    del objects[key(0, 9, "-timestamp.txt")]
    store = write(tmp_path, objects)
    report = asyncio.run(
        audit(store, LAYOUT, dead_letter_prefix="dead-letter", separator=b"\n",
              timestamp_format=PATTERN, topic_state=None)
    )
    p0, p1 = report.partitions
    assert (p0.no_payload, p0.missing, p0.dead_letters, p0.bad) == ([3], [5], [9], [])
    assert (p1.no_timestamp, [b[0] for b in p1.bad], p1.missing) == ([6], [8], [])
    assert not report.complete
    out = io.StringIO()
    print_report(report, "t", out)
    assert "GAPS FOUND" in out.getvalue() and "no payload object: 3" in out.getvalue()
    complete = write(tmp_path / "ok", reference_archive())
    report = asyncio.run(
        audit(complete, LAYOUT, dead_letter_prefix="dead-letter", separator=b"\n",
              timestamp_format=PATTERN, topic_state=None)
    )
    assert report.complete and [p.present for p in report.partitions] == [5, 5]


def test_lossless_batches_split_by_hour_come_back_in_offset_order(tmp_path):
    """flush.size=4 over two hour paths: object A holds offsets 0, 1, 3, 6 and object B
    (first offset 2) holds 2, 4, 5; object C is a rewrite of B's first records."""
    from kafka_s3_sink.archive.sources import OffsetMerger, lossless_decoder, plan_lossless
    from kafka_s3_sink.pipeline.formats.lossless import encode_line
    from kafka_s3_sink.pipeline.records import Record

    def body(offsets: list[int]) -> bytes:
        return b"".join(encode_line(Record("t", 0, o, 1000 + o, None, b"%d" % o)) for o in offsets)

    other = "topics/t/year=2022/month=04/day=18/hour=11"
    store = write(tmp_path, {
        key(0, 0, ".jsonl"): body([0, 1, 3, 6]),
        key(0, 2, ".jsonl", other): body([2, 4, 5]),
        key(0, 2, ".jsonl"): body([2, 4]),
    })
    inventory = asyncio.run(take_inventory(store, LAYOUT))
    plan = plan_lossless(inventory, Selection(first_offset=1))
    merger = OffsetMerger(plan.units)

    async def read() -> list[int]:
        out = []
        async for unit, records in read_units(store, interleave(plan.units),
                                              lossless_decoder(Selection(first_offset=1))):
            out += [m.offset for m in merger.push(unit, records)]
        return out

    assert asyncio.run(read()) == [1, 2, 3, 4, 5, 6]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_redrawn_in_place_on_a_terminal():
    out = _Terminal()
    progress = Progress(out, 2000, interval_s=0)
    progress.advance(5, 500)
    progress.advance(5, 500)
    progress.finish()
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "[############............] 10 messages" in text and "msg/s" in text
    assert "left" in text


def test_another_timestamp_pattern_is_read_too():
    reader = TimestampReader("yyyy/MM/dd HH:mm:ss.SSS", b"")
    assert reader.tstamp_us(b"2022/04/18 01:00:00.123") == 1650243600123000


def test_the_command_line_selection():
    import argparse

    from kafka_s3_sink.archive.command import selection_of

    args = argparse.Namespace(partitions="0,2", offsets="10-", start="2022-04-18T10:00",
                              end="2022-04-18T11:00+00:00")
    selection = selection_of(args, "Asia/Tokyo")
    assert selection.partitions == frozenset({0, 2})
    assert (selection.first_offset, selection.last_offset) == (10, None)
    assert selection.start is not None and selection.start.utcoffset().total_seconds() == 9 * 3600
    assert selection.end is not None and selection.end.utcoffset().total_seconds() == 0
    with pytest.raises(ValueError):
        selection_of(argparse.Namespace(partitions=None, offsets="12", start=None, end=None),
                     "UTC")


def test_audit_compares_with_the_topic_where_it_is_retained(tmp_path):
    from kafka_s3_sink.archive.audit import TopicState

    store = write(tmp_path, reference_archive(partitions=2, count=5))
    states = {
        # Committed up to 7: offsets 5 and 6 should be archived and are not.
        0: TopicState(low=0, high=9, committed=7),
        # Retention passed offset 0..2; everything committed is archived; 3 records pending.
        1: TopicState(low=3, high=8, committed=5),
    }
    report = asyncio.run(
        audit(store, LAYOUT, dead_letter_prefix="dead-letter", separator=b"\n",
              timestamp_format=PATTERN, topic_state=lambda _partitions: states)
    )
    p0, p1 = report.partitions
    assert (p0.missing, p0.pending) == ([5, 6], 2)
    assert (p1.missing, p1.pending, p1.start, p1.end) == ([], 3, 0, 5)
    assert not report.complete

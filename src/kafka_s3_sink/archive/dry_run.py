"""``restore --dry-run``: what would be sent, per partition and hour path, and nothing sent."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, TextIO

from ..store.base import ObjectStore
from .layout import BadObject
from .report import RestoreReport, report_bad
from .sources import OffsetMerger, Plan, interleave, read_units


async def dry_run(
    store: ObjectStore,
    plan: Plan,
    kind: str,
    decode: Any,
    separator: bytes,
    report: RestoreReport,
    out: TextIO,
    window: int,
) -> None:
    """Counts per partition and hour path, and the value bytes that would be sent.  A
    reference pair is counted from the listing alone; a lossless object must be read."""
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    if kind == "reference":
        for partition, units in plan.units.items():
            for unit in units:
                row = counts[(partition, _hour_text(unit.objects[0].hour))]
                row[0] += 1
                row[1] += max(unit.objects[0].size - len(separator), 0)
    else:
        merger = OffsetMerger(plan.units)
        async for unit, result in read_units(store, interleave(plan.units), decode, window):
            if isinstance(result, BadObject):
                report_bad(report, result, out)
                continue
            for message in merger.push(unit, result):
                row = counts[(message.partition, _hour_text(message.hour))]
                row[0] += 1
                row[1] += len(message.value or b"")
    out.write("partition  hour (path)            messages  bytes\n")
    for (partition, hour), (count, size) in sorted(counts.items()):
        report.dry_run_rows.append((partition, hour, count, size))
        out.write(f"{partition:>9}  {hour:<21}  {count:>8}  {size}\n")
    total = sum(c for c, _ in counts.values())
    size = sum(s for _, s in counts.values())
    out.write(f"total: {total} messages, {size} bytes ({kind} layout); nothing sent\n")
    report.sent = 0
    report.value_bytes = size
    report.complete = True


def _hour_text(hour: datetime | None) -> str:
    return hour.strftime("%Y-%m-%d %H:00 %z") if hour is not None else "-"

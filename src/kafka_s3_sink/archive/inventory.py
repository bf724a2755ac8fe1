"""The archive of one topic, listed once: its objects by kind, partition and offset.

Restore and audit both start here.  Listing is the only full pass over the store; bodies
are read later, and only those a restore sends or an audit checks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from ..store.base import ObjectStore
from .layout import ArchivedObject, BadObject, Kind, Layout, classify, hour_overlaps


@dataclass(frozen=True)
class Selection:
    """Which records a restore takes: partitions, record time (hour path, then the record's
    own time where the archive has it), and an inclusive offset range."""

    partitions: frozenset[int] | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive
    first_offset: int | None = None
    last_offset: int | None = None  # inclusive

    def takes_partition(self, partition: int) -> bool:
        return self.partitions is None or partition in self.partitions

    def takes_offset(self, offset: int) -> bool:
        if self.first_offset is not None and offset < self.first_offset:
            return False
        return self.last_offset is None or offset <= self.last_offset

    def takes_hour(self, hour: datetime | None) -> bool:
        return hour_overlaps(hour, self.start, self.end)

    def takes_time_ms(self, timestamp_ms: int | None) -> bool:
        if timestamp_ms is None:
            return self.start is None and self.end is None
        if self.start is not None and timestamp_ms < self.start.timestamp() * 1000:
            return False
        return self.end is None or timestamp_ms < self.end.timestamp() * 1000

    def describe(self) -> str:
        """A stable text of the selection: a checkpoint only resumes the same one."""
        parts = sorted(self.partitions) if self.partitions is not None else "all"
        return (
            f"partitions={parts} from={self.start and self.start.isoformat()} "
            f"to={self.end and self.end.isoformat()} "
            f"offsets={self.first_offset}-{self.last_offset}"
        )


@dataclass
class Inventory:
    # partition -> offset -> every object found for it (more than one: a duplicate)
    objects: dict[Kind, dict[int, dict[int, list[ArchivedObject]]]] = field(
        default_factory=lambda: {kind: defaultdict(dict) for kind in Kind}
    )
    bad: list[BadObject] = field(default_factory=list)

    def add(self, found: ArchivedObject) -> None:
        self.objects[found.kind][found.partition].setdefault(found.offset, []).append(found)

    def partitions(self, kind: Kind) -> list[int]:
        return sorted(p for p, offsets in self.objects[kind].items() if offsets)

    def has(self, kind: Kind) -> bool:
        return any(self.objects[kind].values())


async def take_inventory(store: ObjectStore, layout: Layout) -> Inventory:
    inventory = Inventory()
    for info in sorted(await store.list(layout.prefix), key=lambda i: i.key):
        found = classify(layout, info)
        if isinstance(found, BadObject):
            inventory.bad.append(found)
        else:
            inventory.add(found)
    return inventory

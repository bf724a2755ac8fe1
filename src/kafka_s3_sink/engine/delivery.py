"""Delivery bookkeeping: which offsets may be committed, and how much is in flight.

The invariant the whole service serves: an offset is committed only after the objects of
it and of every lower offset of its partition are stored.  Records of a partition are
handed out in offset order but finish in any order; ``PartitionProgress`` turns those
completions into the highest position that is safe to commit.
"""

from __future__ import annotations

import asyncio
from collections import deque


class PartitionProgress:
    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        self._finished: set[int] = set()
        # Next offset to read after everything stored so far: what Kafka commits.
        self.position: int | None = None
        self.committed: int | None = None
        # False once the partition is revoked or lost: its uploads must not be written.
        self.owned = True

    def started(self, offset: int) -> None:
        self._pending.append(offset)

    def finished(self, offset: int) -> None:
        self.finished_all((offset,))

    def finished_all(self, offsets: list[int] | tuple[int, ...]) -> None:
        """The records at ``offsets`` are stored (an object's worth at once)."""
        self._finished.update(offsets)
        pending, finished = self._pending, self._finished
        while pending and pending[0] in finished:
            done = pending.popleft()
            finished.discard(done)
            self.position = done + 1

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def first_unstored(self) -> int | None:
        """The lowest offset read but not yet stored, else the next to read (None: unknown)."""
        return self._pending[0] if self._pending else self.position

    def commit_due(self) -> int | None:
        """The position to commit, if it moved since the last commit."""
        if self.position is not None and self.position != self.committed:
            return self.position
        return None


class InflightBudget:
    """Bounds uploads in flight by count and by bytes, so memory stays bounded.

    An object larger than the whole byte budget is let through alone rather than never.
    """

    def __init__(self, max_objects: int, max_bytes: int) -> None:
        self.max_objects = max_objects
        self.max_bytes = max_bytes
        self.objects = 0
        self.bytes = 0
        self._changed = asyncio.Condition()

    def _fits(self, size: int) -> bool:
        if self.objects == 0:
            return True
        return self.objects < self.max_objects and self.bytes + size <= self.max_bytes

    async def acquire(self, size: int) -> None:
        if not self._fits(size):
            async with self._changed:
                await self._changed.wait_for(lambda: self._fits(size))
        self.objects += 1
        self.bytes += size

    async def release(self, size: int) -> None:
        self.objects -= 1
        self.bytes -= size
        async with self._changed:
            self._changed.notify_all()

    async def wait_idle(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.objects == 0)

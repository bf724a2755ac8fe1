"""Uploads in flight: each object put with retries, bounded by the in-flight budget, and
its offsets marked stored only once every object of them is.

Every failure ends in one of two ways.  A transient store error (5xx, timeout, refused
connection) is retried with backoff for as long as it takes, and shows in the task's
status while it lasts (``retrying_since``, ``last_error``).  Anything else (a store error
that needs a person, or any other exception) goes to ``on_failure``, which stops the task
as FAILED with the cause; its offsets stay uncommitted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ..pipeline.records import StoredObject
from ..store import ObjectStore, StoreError
from .delivery import InflightBudget, PartitionProgress
from .fencing import FreezeFence
from .stats import TaskStats

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 30.0


class Uploads:
    def __init__(
        self,
        name: str,
        store: ObjectStore,
        budget: InflightBudget,
        stats: TaskStats,
        on_failure: Callable[[BaseException], None],
        fence: FreezeFence,
    ) -> None:
        self.name = name
        self.store = store
        self.stats = stats
        self._budget = budget
        self._on_failure = on_failure
        self._fence = fence
        self._running: set[asyncio.Task[None]] = set()
        self._last_retry_log = 0.0
        self.retrying_since: float | None = None  # monotonic time of the first failure
        self.last_error = ""

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def in_flight(self) -> tuple[int, int]:
        """(objects, bytes) holding room in the in-flight budget now."""
        return self._budget.objects, self._budget.bytes

    async def start(
        self,
        objects: list[StoredObject],
        offsets: list[int],
        progress: PartitionProgress,
        records: int | None = None,
    ) -> None:
        """Wait for room in the budget, then store ``objects`` in the background."""
        size = sum(len(obj.body) for obj in objects)
        await self._budget.acquire(size)
        count = len(offsets) if records is None else records
        upload = asyncio.create_task(self._store(objects, offsets, size, progress, count))
        self._running.add(upload)
        upload.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        if self._running:
            await asyncio.wait(set(self._running))

    def cancel(self) -> None:
        for upload in set(self._running):
            upload.cancel()

    async def _store(
        self,
        objects: list[StoredObject],
        offsets: list[int],
        size: int,
        progress: PartitionProgress,
        records: int,
    ) -> None:
        try:
            for obj in objects:
                if not await self._put_with_retry(obj, progress):
                    return  # the partition went to another member meanwhile: theirs now
        except Exception as error:  # whatever it is, the task must stop and show it
            self._on_failure(error)
            return
        finally:
            await self._budget.release(size)
        progress.finished_all(offsets)
        stats = self.stats
        stats.records += records
        stats.bytes += size
        stats.objects += len(objects)
        stats.progress_at = time.monotonic()

    async def _put_with_retry(self, obj: StoredObject, progress: PartitionProgress) -> bool:
        """Store ``obj``; False if its partition is no longer this task's (not written)."""
        delay = 0.2
        while True:
            if not self._fence.clear:
                await self._fence.wait_until_clear()
            if not progress.owned:
                return False
            try:
                started = time.monotonic()
                await self.store.put(obj.key, obj.body)
                self.stats.upload_latency.observe(time.monotonic() - started)
                self.retrying_since = None
                return True
            except StoreError as error:
                if not error.transient:
                    raise
                self.stats.retries += 1
                now = time.monotonic()
                if self.retrying_since is None:
                    self.retrying_since = now
                self.last_error = str(error)
                if now - self._last_retry_log > 10:
                    self._last_retry_log = now
                    log.warning("%s: %s; retrying in %.1fs", self.name, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_BACKOFF_S)

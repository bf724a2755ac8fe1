"""Fencing a task that was frozen: no write after a pause until ownership is confirmed.

A process stopped for longer than the group's session timeout (SIGSTOP, a paused VM, a
swap storm) loses its partitions to another member without knowing it.  When it runs
again, uploads it had queued would land after the new owner's objects, and where object
contents depend on timing (``rotate.schedule.interval.ms``) could replace a newer object
with an older, shorter one.  Kafka refuses the stale member's commits, but the store
cannot tell who writes.

So every upload attempt first passes ``FreezeFence.wait_until_clear``.  The task ticks
the fence twice a second; a gap in the ticks means the process did not run.  From then on
writes wait until the consumer group confirms this member still owns its partitions (a
commit of the already-committed offsets succeeds), or until a rebalance has settled who
owns what.  Uploads of partitions given away meanwhile are dropped: their records are the
new owner's, and their offsets were never committed here.
"""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger(__name__)

TICK_S = 0.5


class FreezeFence:
    def __init__(self, name: str, gap_s: float) -> None:
        self.name = name
        self.gap_s = gap_s  # a gap this long between ticks means we were not running
        self._ticked_at = time.monotonic()
        self._clear = asyncio.Event()
        self._clear.set()
        self.frozen_for: float = 0.0  # the last gap seen, for the log

    @property
    def clear(self) -> bool:
        return self._clear.is_set() and time.monotonic() - self._ticked_at < self.gap_s

    def tick(self) -> bool:
        """Note that the task runs now; True while a freeze awaits confirmation."""
        return self._check()

    def _check(self) -> bool:
        """True when a freeze was seen (now or before) and not yet confirmed away."""
        now = time.monotonic()
        gap = now - self._ticked_at
        self._ticked_at = now
        if gap >= self.gap_s and self._clear.is_set():
            self.frozen_for = gap
            self._clear.clear()
            log.warning(
                "%s: did not run for %.1f s; holding writes until the consumer group "
                "confirms this task still owns its partitions",
                self.name,
                gap,
            )
        return not self._clear.is_set()

    def confirm(self, how: str) -> None:
        if not self._clear.is_set():
            log.info("%s: writes resume (%s)", self.name, how)
        self._clear.set()

    async def wait_until_clear(self) -> None:
        if self.clear:
            return
        self._check()
        await self._clear.wait()

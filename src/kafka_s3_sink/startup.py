"""Start-up that waits, as Kafka Connect does: for the broker, the topic, the object store.

Each dependency is tried again every few seconds with a log line saying what is awaited,
until it answers (archiving then starts by itself), STARTUP_WAIT_S runs out, or a signal
asks to stop.  Only what may change by itself is waited for: a wrong setting or rejected
credentials stop at once.  ``Readiness`` is what ``GET /health`` reports meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .connect.rest.health import HEALTHY, STARTING, UNHEALTHY
from .engine.kafka_io import BrokerUnreachable, StartupTimeout, TopicMissing
from .store import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often a missing dependency is tried again (and a line logged).
RETRY_INTERVAL_S = 5.0


class StopRequested(Exception):
    """A signal arrived while start-up was waiting."""


class Readiness:
    """What /health answers: starting (and for what), healthy, or unhealthy (and why)."""

    def __init__(self) -> None:
        self.started = False
        self._waiting_for = "connecting to the Kafka broker"
        self._problems: dict[str, str] = {}  # dependency -> why it is unreachable now

    @property
    def starting(self) -> bool:
        return not self.started

    def waiting(self, what: str) -> None:
        self._waiting_for = what

    def ready(self) -> None:
        self.started = True

    def problem(self, dependency: str, why: str | None) -> bool:
        """Record (``why``) or clear (None) a problem; True when that changed anything."""
        before = self._problems.get(dependency)
        if why is None:
            self._problems.pop(dependency, None)
        else:
            self._problems[dependency] = why
        return before != why and (before is None or why is None)

    def __call__(self) -> tuple[str, str]:
        if not self.started:
            return "starting", f"{STARTING} Waiting: {self._waiting_for}"
        if self._problems:
            return "unhealthy", f"{UNHEALTHY} " + "; ".join(self._problems.values())
        return "healthy", HEALTHY


def is_transient(error: BaseException) -> bool:
    """What may go away by itself: a broker not up yet, a topic not created yet, an object
    store not reachable yet."""
    if isinstance(error, BrokerUnreachable | TopicMissing):
        return True
    return isinstance(error, StoreError) and error.transient


async def wait_for(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    readiness: Readiness,
    stop: asyncio.Event,
    deadline: float | None,
) -> T:
    """``attempt()`` until it succeeds; transient failures are logged every few seconds.

    Raises StartupTimeout past ``deadline`` (monotonic; None: never), StopRequested on a
    signal, and whatever non-transient error ``attempt`` raises."""
    waiting_since: float | None = None
    while True:
        try:
            result = await attempt()
        except Exception as error:
            if not is_transient(error):
                raise
            now = time.monotonic()
            if waiting_since is None:
                waiting_since = now
            readiness.waiting(f"{what}: {error}")
            if deadline is not None and now >= deadline:
                raise StartupTimeout(
                    f"gave up waiting for {what} (STARTUP_WAIT_S): {error}"
                ) from None
            log.warning(
                "waiting for %s (%.0f s so far; retrying every %.0f s): %s",
                what,
                now - waiting_since,
                RETRY_INTERVAL_S,
                error,
            )
            pause = RETRY_INTERVAL_S if deadline is None else min(RETRY_INTERVAL_S, deadline - now)
            try:
                await asyncio.wait_for(stop.wait(), max(pause, 0.1))
            except TimeoutError:
                continue
            raise StopRequested from None
        if waiting_since is not None:
            waited = time.monotonic() - waiting_since
            log.info("%s: available after %.0f s of waiting", what, waited)
        return result

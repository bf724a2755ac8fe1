"""The one interface every object store implements."""

from __future__ import annotations

from typing import Protocol


class StoreError(Exception):
    """A store operation failed.

    ``transient`` errors (a 5xx, a timeout, a refused connection) are worth retrying; the
    others (wrong credentials, no such bucket) will fail again the same way until a person
    changes something, and the message says what.
    """

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class ObjectStore(Protocol):
    description: str

    async def check(self) -> None:
        """Verify at start-up that objects can be written; raise StoreError saying what to fix."""
        ...

    async def put(self, key: str, body: bytes | memoryview) -> None:
        """Store ``body`` under ``key`` atomically and durably, replacing any older object."""
        ...

    async def get(self, key: str) -> bytes:
        """Read an object back (tests, tools)."""
        ...

    async def close(self) -> None: ...

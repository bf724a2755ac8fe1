"""The one interface every object store implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .paging import ListPage


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One stored object as a listing gives it: its key and size in bytes."""

    key: str
    size: int


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

    async def list(self, prefix: str) -> list[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (restore and audit read the archive)."""
        ...

    async def list_page(
        self, prefix: str, *, after: str | None = None, limit: int = 1000, delimited: bool = False
    ) -> ListPage:
        """One page of the objects below the folder ``prefix``, in key order, starting after
        the key ``after``; ``delimited``: also its sub-folders, without entering them (the
        web console browses the archive so; store/paging.py)."""
        ...

    async def close(self) -> None: ...

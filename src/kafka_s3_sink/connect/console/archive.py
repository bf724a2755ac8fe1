"""The archive as the console sees it: folders and their objects, listed once and cached.

A click in the browser must not list the bucket: each folder is listed page by page
(``ObjectStore.list_page``) the first time it is shown, then answered from memory for
``ttl_s`` (``settled_ttl_s`` for an hour that ended long ago: its objects rarely change);
two requests for the same folder at once share one listing.  The cache holds at
most ``max_entries`` objects (the least recently used folders are dropped first), so a
bucket of millions of objects costs a bounded amount of memory.  ``listing_calls`` counts
the store's listing calls: the tests check with it that a view is answered from the cache.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ...store import ObjectStore
from ...store.paging import Listed, ListPage


@dataclass(frozen=True)
class Folder:
    """A delimited listing: the sub-folders, and the objects right in the folder."""

    folders: list[str]
    objects: list[Listed]


_Value = Folder | list[Listed]


class ArchiveIndex:
    def __init__(
        self,
        store: Callable[[], Awaitable[ObjectStore]],
        *,
        ttl_s: float = 30.0,
        settled_ttl_s: float = 600.0,
        page_size: int = 5000,
        max_entries: int = 500_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.ttl_s = ttl_s
        self.settled_ttl_s = settled_ttl_s
        self.page_size = page_size
        self.max_entries = max_entries
        self.clock = clock
        self.listing_calls = 0
        self._cache: OrderedDict[tuple[str, str], tuple[float, _Value]] = OrderedDict()
        self._size = 0
        self._pending: dict[tuple[str, str], asyncio.Future[_Value]] = {}

    async def folder(self, prefix: str, fresh: bool = False) -> Folder:
        value = await self._cached(("folder", prefix), self._list_folder, fresh)
        assert isinstance(value, Folder)
        return value

    async def objects(
        self, prefix: str, fresh: bool = False, settled: bool = False
    ) -> list[Listed]:
        """Every object below ``prefix`` (sub-folders included), in key order; ``settled``:
        a folder of the past, kept longer."""
        value = await self._cached(("objects", prefix), self._list_all, fresh, settled)
        assert isinstance(value, list)
        return value

    def forget(self, prefix: str) -> None:
        """Drop what is cached of ``prefix`` and the folders above it (an object was added)."""
        for key in [k for k in self._cache if prefix.startswith(k[1])]:
            self._drop(key)

    async def _cached(
        self,
        key: tuple[str, str],
        lister: Callable[[str], Awaitable[_Value]],
        fresh: bool,
        settled: bool = False,
    ) -> _Value:
        hit = self._cache.get(key)
        if hit is not None and not fresh and hit[0] > self.clock():
            self._cache.move_to_end(key)
            return hit[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[_Value] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await lister(key[1])
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(value)
        self._keep(key, value, self.settled_ttl_s if settled else self.ttl_s)
        return value

    def _keep(self, key: tuple[str, str], value: _Value, ttl_s: float) -> None:
        self._drop(key)
        size = _size(value)
        if size > self.max_entries:
            return  # larger than the whole cache: answered, not kept
        self._cache[key] = (self.clock() + ttl_s, value)
        self._size += size
        while self._size > self.max_entries:
            self._drop(next(iter(self._cache)))

    def _drop(self, key: tuple[str, str]) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._size -= _size(old[1])

    async def _page(self, prefix: str, after: str | None, delimited: bool) -> ListPage:
        store = await self._store()
        self.listing_calls += 1
        return await store.list_page(
            prefix, after=after, limit=self.page_size, delimited=delimited
        )

    async def _list_folder(self, prefix: str) -> Folder:
        page = await self._page(prefix, None, True)
        folders, objects = list(page.folders), list(page.objects)
        while page.next_after is not None:
            page = await self._page(prefix, page.next_after, True)
            objects.extend(page.objects)
        return Folder(folders, objects)

    async def _list_all(self, prefix: str) -> list[Listed]:
        page = await self._page(prefix, None, False)
        objects = list(page.objects)
        while page.next_after is not None:
            page = await self._page(prefix, page.next_after, False)
            objects.extend(page.objects)
        return objects


def _size(value: _Value) -> int:
    if isinstance(value, Folder):
        return len(value.folders) + len(value.objects) + 1
    return len(value) + 1

"""Listing a store one page at a time, folder by folder, as a browser of the archive needs.

An archive holds millions of objects: a page is at most ``limit`` objects, in key order
(as S3 lists them), and the next page starts after the last key of this one. A delimited
listing gives the sub-folders of a folder (S3's common prefixes) without reading the
objects inside them.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Listed:
    """One object of a listing: key, size in bytes, last modified (seconds since the epoch)."""

    key: str
    size: int
    modified: float


@dataclass(frozen=True)
class ListPage:
    objects: list[Listed] = field(default_factory=list)
    # Delimited listings only: the folders right below the prefix, each ending with "/".
    folders: list[str] = field(default_factory=list)
    # Pass as ``after`` for the next page; None when this page is the last.
    next_after: str | None = None


def folder_prefix(prefix: str) -> str:
    """Listings are by folder: "" (the bucket) or a prefix ending with "/"."""
    if prefix and not prefix.endswith("/"):
        raise ValueError(f"a listing prefix is a folder ending with '/': {prefix!r}")
    if any(part in (".", "..") for part in prefix.split("/")):
        raise ValueError(f"a listing prefix cannot hold . or .. parts: {prefix!r}")
    return prefix


def local_page(
    bucket_dir: Path, prefix: str, after: str | None, limit: int, delimited: bool
) -> ListPage:
    """A page of the directory store ``bucket_dir``; keys are paths below it."""
    prefix = folder_prefix(prefix)
    start = bucket_dir.joinpath(*prefix.split("/")[:-1]) if prefix else bucket_dir
    if not start.is_dir():
        return ListPage()
    if delimited:
        folders, files = _entries(start, prefix)
        objects: list[Listed] = []
        for key in sorted(files):
            if after is None or key > after:
                listed = _stat(start, key)
                if listed is not None:
                    objects.append(listed)
                if len(objects) > limit:
                    break
        return _cut(objects, limit, sorted(folders))
    found: list[Listed] = []
    for listed in _walk(start, prefix, after):
        found.append(listed)
        if len(found) > limit:  # one more than asked: tells whether a next page exists
            break
    return _cut(found, limit, [])


def _cut(objects: list[Listed], limit: int, folders: list[str]) -> ListPage:
    if len(objects) > limit:
        page = objects[:limit]
        return ListPage(page, folders, page[-1].key)
    return ListPage(objects, folders, None)


def _entries(directory: Path, prefix: str) -> tuple[list[str], list[str]]:
    """The keys of the sub-folders (ending with "/") and files of ``directory``, by name
    only: a file is stat'ed when it is listed, not when it is skipped (a page of 1,000 in a
    folder of 100,000 costs 1,000 stats)."""
    folders: list[str] = []
    files: list[str] = []
    try:
        with os.scandir(directory) as scan:
            for entry in scan:
                try:
                    if entry.is_dir():
                        folders.append(f"{prefix}{entry.name}/")
                    elif entry.is_file():
                        files.append(prefix + entry.name)
                except FileNotFoundError:  # removed while listing
                    continue
    except FileNotFoundError:
        return [], []
    return folders, files


def _stat(directory: Path, key: str) -> Listed | None:
    try:
        stat = os.stat(directory / key.rpartition("/")[2])
    except FileNotFoundError:  # removed since the folder was read
        return None
    return Listed(key, stat.st_size, stat.st_mtime)


# Paging through a folder of 100,000 files would read and sort it once per page: the
# sorted names are kept for a few seconds, and only while the folder is unchanged (its
# mtime moves with every file added or removed), for the next pages of the same listing.
_NAMES_REUSE_S = 5.0
_NAMES_KEPT = 8
_names_cache: dict[tuple[Path, str], tuple[int, float, list[str], set[str]]] = {}
_names_lock = threading.Lock()


def _sorted_names(directory: Path, prefix: str) -> tuple[list[str], set[str]]:
    """The keys of the folder's entries in key order, and which of them are folders."""
    try:
        changed = os.stat(directory).st_mtime_ns
    except FileNotFoundError:
        return [], set()
    now = time.monotonic()
    with _names_lock:
        kept = _names_cache.get((directory, prefix))
    if kept is not None and kept[0] == changed and now - kept[1] < _NAMES_REUSE_S:
        return kept[2], kept[3]
    folders, files = _entries(directory, prefix)
    names, folder_set = sorted([*folders, *files]), set(folders)
    with _names_lock:
        if len(_names_cache) >= _NAMES_KEPT:
            _names_cache.pop(next(iter(_names_cache)))
        _names_cache[(directory, prefix)] = (changed, now, names, folder_set)
    return names, folder_set


def _walk(directory: Path, prefix: str, after: str | None) -> Iterator[Listed]:
    """Objects below ``directory`` in S3's key order, those up to ``after`` skipped.

    A folder "a/" sorts among files by its name plus "/" (as its keys do), and a folder
    whose keys all come before ``after`` is not entered at all."""
    merged, folder_set = _sorted_names(directory, prefix)
    start = 0 if after is None else bisect_right(merged, after)
    if start and after is not None and merged[start - 1] in folder_set:
        start -= 1  # ``after`` may be a key inside the folder just before it
    for name in merged[start:]:
        if name not in folder_set:
            if after is None or name > after:
                listed = _stat(directory, name)
                if listed is not None:
                    yield listed
        elif after is None or name > after or after.startswith(name):
            yield from _walk(directory / name[len(prefix) : -1], name, after)


async def s3_page(
    store: object, prefix: str, after: str | None, limit: int, delimited: bool
) -> ListPage:
    """A page of an obstore S3Store (``store``); raises obstore's errors as they come."""
    import obstore  # the S3 client is loaded by s3.py already; kept out of the local path

    prefix = folder_prefix(prefix)
    path = prefix.rstrip("/") or None
    if delimited:
        # Common prefixes come from the server: the objects inside them are not listed.
        result = await obstore.list_with_delimiter_async(store, path)  # type: ignore[arg-type]
        objects = sorted(
            (_from_meta(meta) for meta in result["objects"]), key=lambda o: o.key
        )
        objects = [o for o in objects if after is None or o.key > after]
        folders = sorted(f"{p.rstrip('/')}/" for p in result["common_prefixes"])
        return _cut(objects, limit, folders)
    found: list[Listed] = []
    stream = obstore.list(store, path, offset=after, chunk_size=limit + 1)  # type: ignore[arg-type]
    async for chunk in stream:
        found.extend(_from_meta(meta) for meta in chunk)
        if len(found) > limit:
            break
    return _cut(found, limit, [])


def _from_meta(meta: dict) -> Listed:
    return Listed(meta["path"], int(meta["size"]), meta["last_modified"].timestamp())
